//! JSON DIR read straight into the model, for speed: no JSON tree, names
//! and expression strings borrowed from the input while they are parsed,
//! error paths never built. The tree loader (`load_json_tree`) stays the
//! reference: this reader accepts only input that loader accepts, builds
//! the same program with the same spans, and on anything else (an error of
//! any kind, an escaped key, a duplicate key) gives up, so the reference
//! loader decides and words every error as before. Tests check the two
//! agree on the corpus and on generated and corrupted programs.
//!
//! On a large input (1 MiB on) the expression strings are parsed on a
//! second thread while this one reads the JSON around them (`beside.rs`);
//! the program is the same either way, which tests check too.

use crate::beside::{Deferred, Pending, EXPRS_BESIDE_BYTES};
use crate::error::limits;
use crate::json::fast::{number_end, string_end, verbatim_at};
use crate::json::{decode_jstr, JStr, Verbatim};
use crate::load_json::parse_path;
use crate::model::*;
use crate::span::Span;

pub(crate) fn load(src: &str) -> Option<Program> {
    load_beside(src, src.len() >= EXPRS_BESIDE_BYTES)
}

/// The reader, with its expressions parsed on a second thread or not.
pub(crate) fn load_beside(src: &str, beside: bool) -> Option<Program> {
    if !beside {
        return read(src, None, None);
    }
    load_ahead(src, Ahead::near_middle(src))
}

/// Loads with expressions parsed beside, and the statements from the first
/// statement start found from `from` on read ahead (for the fuzz targets).
pub(crate) fn load_ahead_from(src: &str, from: usize) -> Option<Program> {
    load_ahead(src, Ahead::starting_after(src, from))
}

/// Loads with expressions parsed beside, and `ahead` read on the second
/// thread before it parses any.
fn load_ahead(src: &str, ahead: Option<Ahead>) -> Option<Program> {
    let ahead = ahead.as_ref();
    let first = || {
        if let Some(a) = ahead {
            a.read(src);
        }
    };
    // No second thread (no `Deferred`): nothing is read ahead.
    crate::beside::load(&first, |d| {
        let ahead = ahead.filter(|_| d.is_some());
        read(src, d, ahead)
    })
}

fn read<'s>(
    src: &'s str,
    deferred: Option<Deferred<'s, '_>>,
    ahead: Option<&Ahead>,
) -> Option<Program> {
    let mut l = L {
        s: src,
        b: src.as_bytes(),
        i: 0,
        depth: 0,
        deferred,
        ex: Exprs::default(),
        chunk: 0,
        record: None,
        ahead,
        ahead_ex: None,
    };
    l.ws();
    let p = l.program();
    if let Some(a) = l.ahead.take() {
        // Never met where it started: what it reads is not wanted.
        a.stop();
    }
    let mut p = p?;
    l.ws();
    if l.i != l.b.len() {
        return None;
    }
    if let Some(d) = l.deferred.take() {
        d.finish()?;
    }
    if let Some(ex) = l.ahead_ex.take() {
        if p.exprs.len() != crate::beside::AHEAD_ARENA {
            return None;
        }
        p.exprs.push(ex);
    }
    Some(p)
}

/// Statements of a large body read on the second thread while the reading
/// thread reads the ones before them. Reading the JSON around the
/// expressions takes about twice as long as parsing them (K 100k JSON:
/// 25–28 ms against 15–17 ms of CPU), so with the second thread only
/// parsing, loading lasts as long as the reading; with it reading the
/// second half of the file (and parsing its expressions in place) while
/// the reading thread reads the first half (and parses its own queued
/// expressions when the queue is full), both threads are busy.
///
/// Where it starts is a guess from a look at the bytes near the middle of
/// the file (a statement object after another). The reader uses what was
/// read ahead only if it meets a statement of a body exactly there, at the
/// depth of a body, and then continues at the end of that body, where the
/// reading ahead stopped: the statements are the ones it would have read
/// itself, with the same spans. A wrong guess costs time, never a
/// different program.
pub(crate) struct Ahead {
    /// The first byte of the statement object it starts at.
    at: usize,
    /// The reader will not use it (it passed `at`, or ended).
    stop: std::sync::atomic::AtomicBool,
    /// `None` while reading; then what was read (`None` if it gave up).
    state: std::sync::Mutex<Option<Option<AheadRead>>>,
    over: std::sync::Condvar,
}

/// The statements read ahead, up to the `]` of their body (at `end`),
/// with their expressions' arena.
struct AheadRead {
    stmts: Vec<Stmt>,
    end: usize,
    ex: Exprs,
}

/// The nesting of a body's statements: inside the program object, the
/// forges list, a forge, its processes list, a process, its body list.
const BODY_DEPTH: usize = 6;

/// How far past the middle the guess looks for a statement's start.
const AHEAD_LOOK_BYTES: usize = 64 * 1024;

/// The tags of a v0.1 statement.
const STATEMENT_TAGS: [&[u8]; 6] = [
    b"Let",
    b"Constrain",
    b"Prove",
    b"Effect",
    b"Return",
    b"Call",
];

impl Ahead {
    /// Starting at the first statement object found after the middle of
    /// `src` (None if there is none near it).
    fn near_middle(src: &str) -> Option<Ahead> {
        Ahead::starting_after(src, src.len() / 2)
    }

    /// Starting at the first statement object found from `from` on.
    fn starting_after(src: &str, from: usize) -> Option<Ahead> {
        let at = statement_start(src.as_bytes(), from)?;
        Some(Ahead {
            at,
            stop: std::sync::atomic::AtomicBool::new(false),
            state: std::sync::Mutex::new(None),
            over: std::sync::Condvar::new(),
        })
    }

    /// Reads from `at` to the end of the body (on the second thread).
    fn read(&self, src: &str) {
        /// Says the reading is over however it ends (a panic included):
        /// the reader may be waiting for it.
        struct Over<'a>(&'a Ahead, Option<AheadRead>);
        impl Drop for Over<'_> {
            fn drop(&mut self) {
                let mut state = self.0.lock();
                *state = Some(self.1.take());
                self.0.over.notify_all();
            }
        }
        let mut over = Over(self, None);
        let mut l = L {
            s: src,
            b: src.as_bytes(),
            i: self.at,
            depth: BODY_DEPTH,
            deferred: None,
            ex: Exprs::default(),
            chunk: crate::beside::AHEAD_ARENA,
            record: None,
            ahead: None,
            ahead_ex: None,
        };
        if let Some((stmts, end)) = l.rest_of_body(&self.stop) {
            let mut ex = std::mem::take(&mut l.ex);
            ex.trim();
            over.1 = Some(AheadRead { stmts, end, ex });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Option<AheadRead>>> {
        // Nothing panics while holding the lock; a poisoned state is whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stop(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// What was read, once the reading is over.
    fn take(&self) -> Option<AheadRead> {
        let mut state = self.lock();
        loop {
            if let Some(read) = state.as_mut() {
                return read.take();
            }
            state = self.over.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The first `{` from `from` on (looking `AHEAD_LOOK_BYTES` at most) that
/// looks like the start of a statement after another: `}`, `,`, then `{`,
/// `"`, a statement's tag, `"` and `:`, with blanks between.
fn statement_start(b: &[u8], from: usize) -> Option<usize> {
    const BLANKS_AT_MOST: usize = 256;
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    // Past blanks (at most a few hundred) backwards from `i` (exclusive).
    let back = |mut i: usize| {
        let low = i.saturating_sub(BLANKS_AT_MOST);
        while i > low && blank(&b[i - 1]) {
            i -= 1;
        }
        i
    };
    let fwd = |mut i: usize| {
        let high = (i + BLANKS_AT_MOST).min(b.len());
        while i < high && blank(&b[i]) {
            i += 1;
        }
        i
    };
    let end = from.saturating_add(AHEAD_LOOK_BYTES).min(b.len());
    let mut i = from;
    while i < end {
        let at = i + b.get(i..end)?.iter().position(|c| *c == b'{')?;
        i = at + 1;
        let comma = back(at);
        if comma == 0 || b[comma - 1] != b',' {
            continue;
        }
        let close = back(comma - 1);
        if close == 0 || b[close - 1] != b'}' {
            continue;
        }
        let quote = fwd(at + 1);
        let Some(rest) = b.get(quote..).and_then(|r| r.strip_prefix(b"\"")) else {
            continue;
        };
        let tagged = STATEMENT_TAGS.iter().any(|t| {
            rest.strip_prefix(*t)
                .and_then(|r| r.strip_prefix(b"\""))
                .is_some_and(|r| {
                    let colon = b.len() - r.len();
                    b.get(fwd(colon)) == Some(&b':')
                })
        });
        if tagged {
            return Some(at);
        }
    }
    None
}

struct L<'s, 'q, 'a> {
    s: &'s str,
    b: &'s [u8],
    i: usize,
    /// Open brackets around the cursor. The reference loader's pre-scan
    /// rejects nesting past `MAX_FILE_NESTING`; this reader gives up there
    /// instead, which also bounds the recursion of the verbatim values
    /// (`types`, `locals`, later statements' bodies), so it needs no scan.
    depth: usize,
    /// Where expression strings go when another thread parses them.
    deferred: Option<Deferred<'s, 'q>>,
    /// The arena of what is parsed here: the program's first, or the one
    /// of the statements read ahead.
    ex: Exprs,
    /// `ex`'s number among the program's arenas.
    chunk: usize,
    /// Set when the reader only notes what it reads in full (`accepted`).
    record: Option<Record>,
    /// Statements being read ahead on the second thread, until the reader
    /// meets where they start or passes it.
    ahead: Option<&'a Ahead>,
    /// The arena of the statements read ahead, once the reader took them.
    ahead_ex: Option<Exprs>,
}

/// What `accepted` notes while it reads.
#[derive(Default)]
struct Record {
    /// The spans of the items read in full, in order.
    spans: Vec<(usize, usize)>,
    /// Values given up on so far (each skipped as JSON).
    failures: usize,
    /// A value given up on was not JSON either: reading stops there,
    /// without skipping the values around it again.
    broken: bool,
}

/// The forges, shapes, processes, bindings and statements of a JSON
/// document that this reader reads in full (each an object the reference
/// loader accepts and builds alike, whatever surrounds it), in order, none
/// inside another. Where the reader gives up on a member of an object, the
/// member's value is skipped as JSON and reading goes on, and no item
/// around it is noted; it stops at the first value that is not JSON.
/// What the reference loader says of a document with these items blanked
/// (`load_json_blanked`) is what it says of the whole document: only the
/// items noted here are left out, and none of them has an error.
pub(crate) fn accepted(src: &str) -> Vec<(usize, usize)> {
    let mut l = L {
        s: src,
        b: src.as_bytes(),
        i: 0,
        depth: 0,
        deferred: None,
        ex: Exprs::default(),
        chunk: 0,
        record: Some(Record::default()),
        ahead: None,
        ahead_ex: None,
    };
    l.ws();
    let _ = l.program();
    l.record.map(|r| r.spans).unwrap_or_default()
}

/// A string value: borrowed from the input unless escapes moved its bytes.
enum Str<'s> {
    Plain(&'s str, Span),
    Escaped(JStr),
}

impl Str<'_> {
    fn text(&self) -> &str {
        match self {
            Str::Plain(t, _) => t,
            Str::Escaped(j) => &j.value,
        }
    }

    fn span(&self) -> Span {
        match self {
            Str::Plain(_, s) => *s,
            Str::Escaped(j) => j.span,
        }
    }

    fn ident(&self) -> Ident {
        Ident::new(self.text(), self.span())
    }
}

/// Marks a key as seen; a second sighting is a duplicate, the reference
/// loader's error to report.
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    if *seen & bit != 0 {
        return None;
    }
    *seen |= bit;
    Some(())
}

/// The reference loader's identifier rule (`word`): an ASCII letter or
/// `_`, then ASCII letters, digits and `_`. Bytewise: no byte of a
/// multi-byte character is ASCII, so such a name fails as it did by char.
fn is_word(t: &str) -> bool {
    crate::class::ident_end(t.as_bytes(), 0) == Some(t.len())
}

impl<'s> L<'s, '_, '_> {
    fn ws(&mut self) {
        let (b, mut i) = (self.b, self.i);
        // Pretty-printed DIR is mostly line ends and indentation: sixteen
        // bytes are tested at once where the machine can.
        while let Some(solid) = crate::class::non_blanks16(b, i) {
            if solid != 0 {
                self.i = i + solid.trailing_zeros() as usize;
                return;
            }
            i += 16;
        }
        loop {
            // A run of spaces is measured eight bytes at a time (the
            // first byte that is not a space ends it).
            while let Some(word) = b.get(i..i + 8) {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(word);
                let other = u64::from_le_bytes(bytes) ^ u64::from_le_bytes([b' '; 8]);
                let spaces = (other.trailing_zeros() / 8) as usize;
                i += spaces;
                if spaces < 8 {
                    break;
                }
            }
            match b.get(i) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
                _ => break,
            }
        }
        self.i = i;
    }

    /// Counts a bracket just opened; None past the nesting limit.
    fn open(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= limits::MAX_FILE_NESTING).then_some(())
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.b.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }

    /// An object: each member's key is handed to `member` with the cursor
    /// on its value. Returns the object's span.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, &'s str, Span) -> Option<()>,
    ) -> Option<Span> {
        let a = self.i;
        if !self.eat(b'{') {
            return None;
        }
        self.open()?;
        self.ws();
        if !self.eat(b'}') {
            loop {
                let (key, span) = self.key()?;
                self.ws();
                if !self.eat(b':') {
                    return self.not_json();
                }
                self.ws();
                let (at, depth) = (self.i, self.depth);
                if member(self, key, span).is_none() {
                    self.skip_failed(at, depth)?;
                }
                self.ws();
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return self.not_json();
                }
                self.ws();
            }
        }
        self.depth -= 1;
        Some(Span::new(a, self.i))
    }

    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if !self.eat(b'[') {
            return None;
        }
        self.open()?;
        self.ws();
        if !self.eat(b']') {
            loop {
                item(self)?;
                self.ws();
                if self.eat(b']') {
                    break;
                }
                if !self.eat(b',') {
                    return self.not_json();
                }
                self.ws();
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// Gives up where the input is not JSON (a value read in full, as
    /// JSON reads it, is followed by what cannot follow it): when only
    /// noting what is read in full, nothing around it is skipped either.
    fn not_json<T>(&mut self) -> Option<T> {
        if let Some(rec) = &mut self.record {
            rec.broken = true;
        }
        None
    }

    /// A value given up on at `at`: when only noting what is read in
    /// full, it is skipped as JSON (None if it is not JSON); otherwise the
    /// reader gives up.
    fn skip_failed(&mut self, at: usize, depth: usize) -> Option<()> {
        let rec = self.record.as_mut().filter(|r| !r.broken)?;
        rec.failures += 1;
        self.depth = depth;
        match crate::json::fast::skip_at(self.s, at, depth) {
            Some(end) => {
                self.i = end;
                Some(())
            }
            None => {
                rec.broken = true;
                None
            }
        }
    }

    /// One item of a list the model keeps (a forge, shape, process,
    /// binding or statement), pushed to `out`; when only noting what is
    /// read in full, noted instead if it was, and skipped if it was not.
    fn item<T>(
        &mut self,
        out: &mut Vec<T>,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<()> {
        let Some(rec) = &self.record else {
            out.push(read(self)?);
            return Some(());
        };
        let (at, depth, failures, inner) = (self.i, self.depth, rec.failures, rec.spans.len());
        let whole = read(self).is_some();
        let rec = self.record.as_mut()?;
        if whole && rec.failures == failures {
            // The items noted inside it are covered by it.
            rec.spans.truncate(inner);
            rec.spans.push((at, self.i));
            Some(())
        } else if whole {
            Some(())
        } else {
            self.skip_failed(at, depth)
        }
    }

    /// The raw content of a string literal and whether it has escapes.
    fn raw_string(&mut self) -> Option<(&'s str, Span, bool)> {
        let a = self.i;
        let (end, escaped) = string_end(self.s, a)?;
        self.i = end;
        Some((&self.s[a + 1..end - 1], Span::new(a, end), escaped))
    }

    /// A key without escapes (an escaped key may decode to a duplicate:
    /// the reference loader's case).
    fn key(&mut self) -> Option<(&'s str, Span)> {
        match self.raw_string()? {
            (k, span, false) => Some((k, span)),
            _ => None,
        }
    }

    fn string(&mut self) -> Option<Str<'s>> {
        let (raw, span, escaped) = self.raw_string()?;
        if escaped {
            decode_jstr(raw, span).ok().map(Str::Escaped)
        } else {
            Some(Str::Plain(raw, span))
        }
    }

    fn null(&mut self) -> bool {
        let hit = self.s[self.i..].starts_with("null");
        if hit {
            self.i += 4;
        }
        hit
    }

    /// A number's lexeme, under the grammar of strict JSON.
    fn number(&mut self) -> Option<&'s str> {
        let a = self.i;
        self.i = number_end(self.b, a)?;
        Some(&self.s[a..self.i])
    }

    /// Any value, kept verbatim as the reference loader keeps it.
    fn any(&mut self) -> Option<Verbatim> {
        let (v, end) = verbatim_at(self.s, self.i, self.depth)?;
        self.i = end;
        Some(v)
    }

    fn id_name(&mut self) -> Option<Ident> {
        let s = self.string()?;
        is_word(s.text()).then(|| s.ident())
    }

    fn type_name(&mut self) -> Option<Ident> {
        let s = self.string()?;
        is_type_name(s.text()).then(|| s.ident())
    }

    /// An expression string, not parsed yet.
    fn pending(&mut self) -> Option<Pending<'s>> {
        Some(match self.string()? {
            // Without escapes, text offset i is file offset start + 1 + i.
            // (Offsets past 32 bits give up: no input within the limit has them.)
            Str::Plain(t, span) => Pending::Plain(t, u32::try_from(span.start() + 1).ok()?),
            Str::Escaped(j) => Pending::Escaped(Box::new(j)),
        })
    }

    /// Parses `pending` here (into this reader's arena, `self.chunk`) or queues it.
    fn parse(&mut self, pending: Pending<'s>) -> Option<ExprRoot> {
        match &mut self.deferred {
            None => Some(ExprRoot::new(self.chunk, pending.parse(&mut self.ex)?)),
            Some(d) => d.defer(pending),
        }
    }

    fn expr(&mut self) -> Option<ExprRoot> {
        let pending = self.pending()?;
        self.parse(pending)
    }

    fn program(&mut self) -> Option<Program> {
        let (mut forges, mut types, mut version, mut seen) = (None, None, None, 0);
        self.object(|l, k, _| {
            match k {
                "forges" => {
                    once(&mut seen, 1)?;
                    let mut v = Vec::new();
                    l.array(|l| l.item(&mut v, Self::forge))?;
                    forges = Some(v);
                }
                "types" => {
                    once(&mut seen, 2)?;
                    types = Some(l.any()?);
                }
                "dir_version" => {
                    once(&mut seen, 4)?;
                    let v = l.string()?.ident();
                    if !is_version(&v.name) {
                        return None;
                    }
                    version = Some(v);
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(Program {
            version,
            forges: forges?,
            types,
            form: SourceForm::Json,
            comments: Vec::new(),
            exprs: vec![{
                let mut ex = std::mem::take(&mut self.ex);
                ex.trim();
                ex
            }],
            checked: Checked::default(),
        })
    }

    fn forge(&mut self) -> Option<Forge> {
        let (mut name, mut shapes, mut procs, mut binds, mut seen) =
            (None, Vec::new(), Vec::new(), Vec::new(), 0);
        let span = self.object(|l, k, _| {
            match k {
                "name" => {
                    once(&mut seen, 1)?;
                    name = Some(l.id_name()?);
                }
                "shapes" => {
                    once(&mut seen, 2)?;
                    l.array(|l| l.item(&mut shapes, Self::shape))?;
                }
                "procs" => {
                    once(&mut seen, 4)?;
                    l.array(|l| l.item(&mut procs, Self::proc))?;
                }
                "binds" => {
                    once(&mut seen, 8)?;
                    l.array(|l| l.item(&mut binds, Self::bind))?;
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(Forge {
            name: name?,
            shapes: exact(shapes),
            procs: exact(procs),
            binds: exact(binds),
            span,
        })
    }

    fn shape(&mut self) -> Option<Shape> {
        let (mut name, mut fields, mut seen) = (None, None, 0);
        let span = self.object(|l, k, _| {
            match k {
                "name" => {
                    once(&mut seen, 1)?;
                    name = Some(l.id_name()?);
                }
                "fields" => {
                    once(&mut seen, 2)?;
                    fields = Some(l.fields()?);
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(Shape {
            name: name?,
            fields: fields?,
            span,
        })
    }

    fn fields(&mut self) -> Option<Vec<Field>> {
        let mut out = Vec::new();
        self.array(|l| {
            let (mut name, mut ty, mut seen) = (None, None, 0);
            l.object(|l, k, _| {
                match k {
                    "name" => {
                        once(&mut seen, 1)?;
                        name = Some(l.id_name()?);
                    }
                    "ty" => {
                        once(&mut seen, 2)?;
                        ty = Some(l.type_name()?);
                    }
                    _ => return None,
                }
                Some(())
            })?;
            out.push(Field {
                name: name?,
                ty: ty?,
            });
            Some(())
        })?;
        Some(exact(out))
    }

    fn proc(&mut self) -> Option<Proc> {
        let mut regime = None;
        let mut name = None;
        let mut params = Vec::new();
        let mut uses = Vec::new();
        let mut ret = None;
        let mut qualifiers = Vec::new();
        let mut body = None;
        let mut locals = None;
        let mut seen = 0;
        let span = self.object(|l, k, _| {
            match k {
                "regime" => {
                    once(&mut seen, 1)?;
                    let s = l.string()?;
                    regime = Some((Regime::parse(s.text())?, s.span()));
                }
                "name" => {
                    once(&mut seen, 2)?;
                    name = Some(l.id_name()?);
                }
                "params" => {
                    once(&mut seen, 4)?;
                    params = l.fields()?;
                }
                "uses" => {
                    once(&mut seen, 8)?;
                    l.array(|l| {
                        uses.push(l.use_clause()?);
                        Some(())
                    })?;
                }
                "ret" => {
                    once(&mut seen, 16)?;
                    if !l.null() {
                        ret = Some(l.type_name()?);
                    }
                }
                "qualifiers" => {
                    once(&mut seen, 32)?;
                    l.array(|l| {
                        qualifiers.push(l.id_name()?);
                        Some(())
                    })?;
                }
                "body" => {
                    once(&mut seen, 64)?;
                    let mut v = Vec::new();
                    l.array(|l| {
                        if l.ahead.is_some_and(|a| l.i >= a.at) && l.join_ahead(&mut v) {
                            return Some(());
                        }
                        l.item(&mut v, Self::stmt)
                    })?;
                    body = Some(exact(v));
                }
                "locals" => {
                    once(&mut seen, 128)?;
                    locals = Some(l.any()?);
                }
                _ => return None,
            }
            Some(())
        })?;
        let (regime, regime_span) = regime?;
        Some(Proc {
            regime,
            regime_span,
            name: name?,
            params: exact(params),
            uses: exact(uses),
            ret,
            qualifiers: exact(qualifiers),
            body: body?,
            locals,
            span,
        })
    }

    fn use_clause(&mut self) -> Option<Uses> {
        let (mut resource, mut args, mut seen) = (None, Vec::new(), 0);
        let span = self.object(|l, k, _| {
            match k {
                "resource" => {
                    once(&mut seen, 1)?;
                    resource = Some(l.id_name()?);
                }
                "args" => {
                    once(&mut seen, 2)?;
                    l.array(|l| {
                        // Exactly `[name, literal]`.
                        if !l.eat(b'[') {
                            return None;
                        }
                        l.open()?;
                        l.ws();
                        let k = l.id_name()?;
                        l.ws();
                        if !l.eat(b',') {
                            return None;
                        }
                        l.ws();
                        let v = l.literal()?;
                        l.ws();
                        if !l.eat(b']') {
                            return None;
                        }
                        l.depth -= 1;
                        args.push((k, v));
                        Some(())
                    })?;
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(Uses {
            resource: resource?,
            args: exact(args),
            span,
        })
    }

    fn literal(&mut self) -> Option<Literal> {
        let mut value = None;
        let span = self.object(|l, tag, _| {
            if value.is_some() {
                return None;
            }
            value = Some(match tag {
                "Int" => LitValue::Int(l.number()?.parse().ok()?),
                "Float" => {
                    let f: f64 = l.number()?.parse().ok()?;
                    if !f.is_finite() {
                        return None;
                    }
                    LitValue::Float(f)
                }
                "Bool" => {
                    if l.s[l.i..].starts_with("true") {
                        l.i += 4;
                        LitValue::Bool(true)
                    } else if l.s[l.i..].starts_with("false") {
                        l.i += 5;
                        LitValue::Bool(false)
                    } else {
                        return None;
                    }
                }
                "String" => LitValue::String(l.string()?.text().to_string()),
                "Char" => {
                    let s = l.string()?;
                    let mut cs = s.text().chars();
                    let c = cs.next()?;
                    if cs.next().is_some() {
                        return None;
                    }
                    LitValue::Char(c)
                }
                _ => return None,
            });
            Some(())
        })?;
        Some(Literal {
            value: value?,
            span,
        })
    }

    fn stmt(&mut self) -> Option<Stmt> {
        let (mut kind, mut call) = (None, None);
        let span = self.object(|l, tag, tag_span| {
            if kind.is_some() {
                return None;
            }
            kind = Some(match tag {
                "Let" => {
                    let (mut name, mut expr, mut seen) = (None, None, 0);
                    l.object(|l, k, _| {
                        match k {
                            "name" => {
                                once(&mut seen, 1)?;
                                name = Some(l.id_name()?);
                            }
                            "expr" => {
                                once(&mut seen, 2)?;
                                expr = Some(l.expr()?);
                            }
                            _ => return None,
                        }
                        Some(())
                    })?;
                    StmtKind::Let {
                        name: name?,
                        expr: expr?,
                    }
                }
                "Constrain" => {
                    let mut predicate = None;
                    l.object(|l, k, _| {
                        if k != "predicate" || predicate.is_some() {
                            return None;
                        }
                        predicate = Some(l.expr()?);
                        Some(())
                    })?;
                    StmtKind::Constrain {
                        predicate: predicate?,
                    }
                }
                "Prove" => {
                    let (mut name, mut from, mut seen) = (None, None, 0);
                    l.object(|l, k, _| {
                        match k {
                            "name" => {
                                once(&mut seen, 1)?;
                                name = Some(l.id_name()?);
                            }
                            "from" => {
                                once(&mut seen, 2)?;
                                from = Some(l.expr()?);
                            }
                            _ => return None,
                        }
                        Some(())
                    })?;
                    StmtKind::Prove {
                        name: name?,
                        from: from?,
                    }
                }
                "Effect" => {
                    let (mut ekind, mut payload, mut seen) = (None, None, 0);
                    l.object(|l, k, _| {
                        match k {
                            "kind" => {
                                once(&mut seen, 1)?;
                                let k = l.id_name()?;
                                if TEXT_STATEMENT_KEYWORDS.contains(&k.name.as_str()) {
                                    return None;
                                }
                                ekind = Some(k);
                            }
                            "payload" => {
                                once(&mut seen, 2)?;
                                payload = Some(l.expr()?);
                            }
                            _ => return None,
                        }
                        Some(())
                    })?;
                    StmtKind::Effect {
                        kind: ekind?,
                        payload: payload?,
                    }
                }
                "Return" => {
                    let (mut expr, mut seen) = (None, 0);
                    l.object(|l, k, _| {
                        if k != "expr" {
                            return None;
                        }
                        once(&mut seen, 1)?;
                        if !l.null() {
                            expr = Some(l.expr()?);
                        }
                        Some(())
                    })?;
                    StmtKind::Return { expr }
                }
                "Call" => {
                    let (mut target, mut args, mut result, mut seen) = (None, None, None, 0);
                    l.object(|l, k, _| {
                        match k {
                            "target" => {
                                once(&mut seen, 1)?;
                                let s = l.string()?;
                                target = Some(parse_path(s.text(), s.span()).ok()?);
                            }
                            "args" => {
                                once(&mut seen, 2)?;
                                let mut v = Vec::new();
                                l.array(|l| {
                                    v.push(l.pending()?);
                                    Some(())
                                })?;
                                args = Some(v);
                            }
                            "result" => {
                                once(&mut seen, 4)?;
                                if !l.null() {
                                    result = Some(l.id_name()?);
                                }
                            }
                            _ => return None,
                        }
                        Some(())
                    })?;
                    // The call's node, once the object closes (its span is
                    // the statement's).
                    call = Some((target?, args?));
                    StmtKind::Call {
                        call: ExprRoot::PLACEHOLDER,
                        result,
                    }
                }
                t if is_statement_tag(t) => StmtKind::Later {
                    kind: Ident::new(t, tag_span),
                    body: Box::new(l.any()?),
                },
                _ => return None,
            });
            Some(())
        })?;
        let mut kind = kind?;
        if let (StmtKind::Call { call: root, .. }, Some((target, args))) = (&mut kind, call) {
            let call = crate::beside::PendingCall { target, args, span };
            *root = self.parse(Pending::Call(Box::new(call)))?;
        }
        Some(Stmt { kind, span })
    }

    /// At or past where the reading ahead started (at a statement of a
    /// body): the statements read ahead join `body` if they start here,
    /// and the cursor moves to the end of the body, where they ended.
    fn join_ahead(&mut self, body: &mut Vec<Stmt>) -> bool {
        let Some(a) = self.ahead.take() else {
            return false;
        };
        if self.i != a.at || self.depth != BODY_DEPTH {
            a.stop();
            return false;
        }
        let Some(read) = a.take() else {
            return false;
        };
        body.extend(read.stmts);
        self.i = read.end;
        self.ahead_ex = Some(read.ex);
        true
    }

    /// The statements from the cursor (a statement's start) to the end of
    /// their body, as the body's list reads them, and where the `]` that
    /// closes it is. None if anything is not as the reader would accept,
    /// or `stop` is set.
    fn rest_of_body(&mut self, stop: &std::sync::atomic::AtomicBool) -> Option<(Vec<Stmt>, usize)> {
        let mut body = Vec::new();
        loop {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return None;
            }
            body.push(self.stmt()?);
            self.ws();
            if self.b.get(self.i) == Some(&b']') {
                return Some((body, self.i));
            }
            if !self.eat(b',') {
                return None;
            }
            self.ws();
        }
    }

    fn bind(&mut self) -> Option<Bind> {
        let (mut source, mut target, mut contract, mut seen) = (None, None, Vec::new(), 0);
        let span = self.object(|l, k, _| {
            match k {
                "source" | "target" => {
                    once(&mut seen, if k == "source" { 1 } else { 2 })?;
                    let s = l.string()?;
                    let p = parse_path(s.text(), s.span()).ok()?;
                    if k == "source" {
                        source = Some(p);
                    } else {
                        target = Some(p);
                    }
                }
                "contract" => {
                    once(&mut seen, 4)?;
                    l.array(|l| {
                        let (mut key, mut op, mut value, mut seen) = (None, None, None, 0);
                        let span = l.object(|l, k, _| {
                            match k {
                                "key" => {
                                    once(&mut seen, 1)?;
                                    key = Some(l.id_name()?);
                                }
                                "op" => {
                                    once(&mut seen, 2)?;
                                    op = Some(l.string()?.ident());
                                }
                                "value" => {
                                    once(&mut seen, 4)?;
                                    value = Some(l.string()?.ident());
                                }
                                _ => return None,
                            }
                            Some(())
                        })?;
                        contract.push(Clause {
                            key: key?,
                            op: op?,
                            value: value?,
                            span,
                        });
                        Some(())
                    })?;
                }
                _ => return None,
            }
            Some(())
        })?;
        Some(Bind {
            source: source?,
            target: target?,
            contract: exact(contract),
            span,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{corrupt, Rng};

    /// Every JSON DIR file of the corpus and the examples.
    fn corpus() -> Vec<String> {
        crate::testing::corpus_programs()
            .into_iter()
            .filter(|t| t.trim_start().starts_with('{'))
            .collect()
    }

    /// Where the fast reader accepts, the reference loader accepts the same
    /// program (spans included); it accepts what the reference accepts.
    fn agree(src: &str) -> (bool, bool) {
        let fast = super::load(src);
        let slow = crate::on_parse_stack(|| crate::load_json::load_json_tree(src));
        match (&fast, &slow) {
            (Some(f), Ok(s)) => assert_eq!(format!("{f:?}"), format!("{s:?}"), "{src}"),
            (Some(_), Err(e)) => panic!(
                "fast accepts what the reference rejects: {}\n{src}",
                e.message
            ),
            _ => {}
        }
        (fast.is_some(), slow.is_ok())
    }

    /// Expressions parsed on a second thread build the same program as
    /// parsed in place, and give up where it gives up.
    fn same_beside(src: &str) -> bool {
        crate::beside::same_both_ways(super::load_beside, src)
    }

    #[test]
    fn expressions_parsed_beside_build_the_same_program() {
        let mut loaded = 0;
        for f in corpus() {
            loaded += usize::from(same_beside(&f));
        }
        assert!(loaded > 20, "{loaded}");
        // Several batches, every statement that holds an expression, an
        // escaped expression string, a call's arguments, and a bad
        // expression in a late batch (which both readers refuse).
        let n = crate::beside::BATCH * 2 + 7;
        let mut body: Vec<String> = (0..n)
            .map(|i| match i % 5 {
                0 => format!(r#"{{"Let": {{"name": "v{i}", "expr": "{i} Add 1"}}}}"#),
                1 => r#"{"Constrain": {"predicate": "1 Lt 2"}}"#.to_string(),
                2 => r#"{"Effect": {"kind": "emit", "payload": "\"a\u0062\""}}"#.to_string(),
                3 => r#"{"Call": {"target": "f", "args": ["1", "2 Mul 3"], "result": null}}"#
                    .to_string(),
                _ => r#"{"Prove": {"name": "w", "from": "true"}}"#.to_string(),
            })
            .collect();
        body.push(r#"{"Return": {"expr": null}}"#.into());
        let file = |body: &[String]| {
            format!(
                r#"{{"forges": [{{"name": "F", "procs": [{{"regime": "K", "name": "main", "ret": null, "body": [{}]}}]}}]}}"#,
                body.join(",")
            )
        };
        crate::beside::batches_agree(
            super::load_beside,
            file,
            body,
            &[r#"{"Let": {"name": "x", "expr": "1 Add"}}"#],
        );
    }

    /// The statements read ahead are used where the reader meets their
    /// start, and wherever the guess of that start falls (each statement
    /// of each body, a statement-like object inside a later statement or
    /// the verbatim `types`, a body's first or last statement, a body with
    /// a bad expression after the start), the program is the one read
    /// without reading ahead, or refused as it is.
    #[test]
    fn statements_read_ahead_build_the_same_program() {
        use super::{load_ahead, read, Ahead};
        let stmt = |i: usize| {
            match i % 4 {
            0 => format!(r#"{{"Let": {{"name": "v{i}", "expr": "{i} Add 1"}}}}"#),
            1 => r#"{ "Constrain" : {"predicate": "1 Lt 2"}}"#.to_string(),
            2 => r#"{"While": {"cond": "true", "body": [{"Let": {"name": "w", "expr": "2"}}, {"Let": {"name": "u", "expr": "3"}}]}}"#.to_string(),
            _ => r#"{"Call": {"target": "f", "args": ["1", "2 Mul 3"], "result": null}}"#
                .to_string(),
        }
        };
        let body = |n: usize, bad: Option<usize>| {
            let mut v: Vec<String> = (0..n).map(stmt).collect();
            if let Some(b) = bad {
                v[b] = r#"{"Let": {"name": "x", "expr": "1 Add"}}"#.to_string();
            }
            v.join(",\n  ")
        };
        let file = |bad: Option<usize>| {
            format!(
                r#"{{"types": [{{"a": 1}}, {{"Let": {{"name": "t", "expr": "1"}}}}], "forges": [{{"name": "F", "procs": [{{"regime": "K", "name": "f", "ret": null, "body": [{}]}}, {{"regime": "K", "name": "main", "ret": null, "body": [{}]}}]}}]}}"#,
                body(9, None),
                body(30, bad)
            )
        };
        let show = |p: Option<crate::Program>| p.map(|p| format!("{p:?}"));

        // Read ahead from the middle: used.
        let big = format!(
            r#"{{"forges": [{{"name": "F", "procs": [{{"regime": "K", "name": "main", "ret": null, "body": [{}]}}]}}]}}"#,
            body(400, None)
        );
        let p = super::load_beside(&big, true).expect("loads");
        assert!(
            !p.exprs[crate::beside::AHEAD_ARENA].is_empty(),
            "nothing was read ahead"
        );
        assert_eq!(Some(format!("{p:?}")), show(read(&big, None, None)));

        for bad in [None, Some(20)] {
            let src = file(bad);
            let want = show(read(&src, None, None));
            assert_eq!(want.is_some(), bad.is_none());
            let mut starts = Vec::new();
            for from in 0..src.len() {
                let Some(a) = Ahead::starting_after(&src, from) else {
                    continue;
                };
                if starts.last() == Some(&a.at) {
                    continue;
                }
                starts.push(a.at);
                assert_eq!(show(load_ahead(&src, Some(a))), want, "from {from}");
            }
            // Every statement and statement-like object after a `,`.
            assert!(starts.len() > 35, "{starts:?}");
        }
    }

    #[test]
    fn agrees_with_the_reference_loader_on_the_corpus() {
        let files = corpus();
        assert!(files.len() > 20, "{} JSON files", files.len());
        for f in &files {
            let (fast, slow) = agree(f);
            assert_eq!(fast, slow, "the fast reader gave up on a valid file:\n{f}");
        }
    }

    /// The fast reader replaces the pre-scans by counting brackets: at the
    /// nesting limits it accepts and gives up exactly where the reference
    /// loader (pre-scan first) accepts and rejects.
    #[test]
    fn nesting_limits_agree_with_the_pre_scans() {
        let file = |types_depth: usize, expr_depth: usize| {
            let ty = format!("{}1{}", "[".repeat(types_depth), "]".repeat(types_depth));
            let e = format!("{}1{}", "(".repeat(expr_depth), ")".repeat(expr_depth));
            format!(
                r#"{{"types": {ty}, "forges": [{{"name": "F", "procs": [{{"regime": "K", "name": "main", "ret": "i64", "body": [{{"Return": {{"expr": "{e}"}}}}]}}]}}]}}"#
            )
        };
        let verbatim_limit = crate::error::limits::MAX_VERBATIM_NESTING;
        let expr_limit = crate::error::limits::MAX_EXPR_NESTING;
        for (t, e) in [
            (verbatim_limit, 1),
            (verbatim_limit + 1, 1),
            (1, expr_limit),
            (1, expr_limit + 1),
        ] {
            let src = file(t, e);
            let (fast, slow) = agree(&src);
            assert_eq!(fast, slow, "types depth {t}, expression depth {e}");
            assert_eq!(slow, t <= verbatim_limit && e <= expr_limit, "{t} {e}");
        }
        // Past the file's limit the pre-scan refuses before anything else.
        let limit = crate::error::limits::MAX_FILE_NESTING;
        for depth in [limit - 1, limit] {
            let src = format!(
                r#"{{"forges": {}1{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            );
            let (fast, _) = agree(&src);
            assert!(!fast);
            let e = crate::load_json::load_json(&src).unwrap_err();
            let too_deep = e.kind == crate::error::LoadErrorKind::TooDeep;
            assert_eq!(too_deep, depth + 1 > limit, "{depth}: {}", e.message);
        }
    }

    #[test]
    fn agrees_with_the_reference_loader_on_corruptions() {
        let files = corpus();
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let ins = crate::testing::JSON_INSERTS;
        let (mut valid, mut fast_ok) = (0, 0);
        for round in 0..3000 {
            let f = &files[round % files.len()];
            let src = corrupt(&mut r, f, &ins);
            let (fast, slow) = agree(&src);
            if round % 10 == 0 {
                assert_eq!(same_beside(&src), fast);
            }
            valid += usize::from(slow);
            fast_ok += usize::from(fast);
        }
        assert!(valid > 100, "only {valid} corruptions stayed valid");
        assert!(
            fast_ok * 100 >= valid * 90,
            "fast read {fast_ok} of {valid}"
        );
    }
}
