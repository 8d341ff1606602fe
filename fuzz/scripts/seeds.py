#!/usr/bin/env python3
"""Regenerate the seed corpora under fuzz/corpus/<target>/seed-*.

Sources: every DIR program of conformance/cases/**/ (.dir and .json) and
examples/. JSON programs also seed text_parser in their canonical text form
(`dustrun fmt --to text`), text programs seed json_loader in JSON form
(`dustrun fmt --to json`); expression strings (right-hand sides of `let`,
`constrain`, `return`, `prove ... from`, effect payloads, `call` targets and
the JSON `expr`/`payload`/... strings) seed expr_differential, with the
hand-written expressions in HAND below (`seed-hand-NN`).

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
# Hand-written expression seeds: both operator spellings, escapes, `Φ::`
# paths, struct literals, field chains, integer limits, and malformed
# fragments the pre-scan or the grammar must refuse.
HAND = [
    'a + b * c - d / e',
    'a || b && c == d',
    'a <= b >= c < d > e',
    '-1 Sub -2 Add -3',
    '1.5 Mul 2.25 Div -0.5',
    '"a\\"b\\\\c\\n" Eq "Φ"',
    'true Or false And true',
    'P{x: 1, y: P{x: 2, y: 3},}.y.x',
    'K::f(1, (2 Add 3), g())',
    'Φ::witness(x).field',
    'Forge::K::p(a.b.c, 9223372036854775807)',
    '((((((((a))))))))',
    'x Eq Eq y',
    'a Add',
    'Add a',
    'f(,)',
    'P{}',
    's.',
    '(1 Add 2',
    '"unterminated',
    '1e5',
    '0.0 Sub 0',
    '99999999999999999999999999',
    'a.b.c.d Mul e.f',
]
for i, h in enumerate(HAND, 1):
    put('expr_differential', 'hand-%02d' % i, h.encode())
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
