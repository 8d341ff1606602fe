#!/usr/bin/env python3
"""Regenerate the seed corpora under fuzz/corpus/<target>/seed-*.

Sources: every DIR program of conformance/cases/**/ (.dir and .json) and
examples/. JSON programs also seed text_parser in their canonical text form
(`dustrun fmt --to text`), text programs seed json_loader in JSON form
(`dustrun fmt --to json`); expression strings (right-hand sides of `let`,
`constrain`, `return`, `prove ... from`, effect payloads, `call` targets and
the JSON `expr`/`payload`/... strings) seed expr_differential. The
hand-written `seed-hand-*` expression seeds are kept as they are.

Needs a built dustrun (default: target/release/dustrun; override with
DUSTRUN=path). Run from anywhere: python3 fuzz/scripts/seeds.py
"""
import os, glob, json, re, subprocess, hashlib
root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
out = os.environ.get('SEEDS_OUT', root + '/fuzz/corpus')
dustrun = os.environ.get('DUSTRUN', root + '/target/release/dustrun')
files = sorted(glob.glob(root + '/conformance/cases/**/*.dir', recursive=True) + glob.glob(root + '/conformance/cases/**/*.json', recursive=True) + glob.glob(root + '/examples/*.dir') + glob.glob(root + '/examples/*.json'))
def name_of(p):
    rel = os.path.relpath(p, root)
    rel = rel.replace('conformance/cases/', '').replace('/', '_')
    return rel
def put(target, name, data):
    d = os.path.join(out, target); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f: f.write(data)
def fmt(p, to):
    r = subprocess.run([dustrun, 'fmt', '--to', to, p], capture_output=True)
    return r.stdout if r.returncode == 0 else None
exprs = set()
n = {}
for p in files:
    data = open(p, 'rb').read()
    nm = name_of(p)
    is_json = data.lstrip().startswith(b'{')
    put('pipeline', nm, data)
    put('json_loader', nm, data) if is_json else None
    put('text_parser', nm, data) if not is_json else None
    if is_json:
        t = fmt(p, 'text')
        if t: put('text_parser', nm + '.as.dir', t)
        # expression strings: every JSON string value under expression-ish keys
        try:
            def walk(v, key=None):
                if isinstance(v, dict):
                    for k, x in v.items(): walk(x, k)
                elif isinstance(v, list):
                    for x in v: walk(x, key)
                elif isinstance(v, str) and key in ('expr', 'payload', 'value', 'from', 'pred', 'cond', 'arg', 'args'):
                    exprs.add(v)
            walk(json.loads(data))
        except Exception: pass
    else:
        j = fmt(p, 'json')
        if j: put('json_loader', nm + '.as.json', j)
        # text: let x = ...;  constrain ...;  return ...;  emit/observe/seal ...;  prove x from ...;
        for line in data.decode('utf-8', 'replace').splitlines():
            s = line.strip()
            m = re.match(r'let\s+\w+\s*=\s*(.*);$', s) or re.match(r'constrain\s+(.*);$', s) or \
                re.match(r'return\s+(.+);$', s) or re.match(r'prove\s+\w+\s+from\s+(.*);$', s) or \
                re.match(r'(?:emit|observe|seal)\s+(.*);$', s) or re.match(r'call\s+(.*?)(?:\s*->\s*\w+)?;$', s)
            if m and m.group(1).strip(): exprs.add(m.group(1).strip())
# One expression per shape (digits folded), none over 2 KiB: a few hundred
# small seeds rather than 1 500 near-duplicates of `v0 Add N`.
shapes = set()
for e in sorted(exprs):
    b = e.encode()
    key = re.sub(rb'[0-9]+', b'0', b)
    if len(b) > 2048 or key in shapes:
        continue
    shapes.add(key)
    put('expr_differential', hashlib.sha1(b).hexdigest()[:10], b)
for t in os.listdir(out):
    print(t, len(os.listdir(os.path.join(out, t))))
