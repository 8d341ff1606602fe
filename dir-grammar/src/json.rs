//! Strict JSON with spans. serde_json cannot report where a value sits in the
//! file, and every DIR diagnostic must point at its source, so JSON DIR is
//! read with the pest grammar into this spanned tree.

use crate::error::{limits, LoadError, LoadErrorKind};
use crate::grammar::{pest_error, DirParser, Rule};
use crate::prescan::{scan, Lexical};
use crate::span::Span;
use pest::iterators::Pair;
use pest::Parser;

#[derive(Clone, Debug)]
pub struct Json {
    pub kind: JsonKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum JsonKind {
    Null,
    Bool(bool),
    /// The number's lexeme, converted on use.
    Number(String),
    Str(JStr),
    Array(Vec<Json>),
    Object(Vec<(JStr, Json)>),
}

/// A decoded JSON string that remembers where each of its bytes came from.
#[derive(Clone, Debug)]
pub struct JStr {
    pub value: String,
    /// Span of the whole literal, quotes included.
    pub span: Span,
    /// For strings with escapes: file offset of each decoded byte (plus one
    /// trailing entry for the end). `None` when decoded == raw.
    offsets: Option<Vec<usize>>,
}

impl JStr {
    /// File offset of a byte offset inside the decoded value.
    pub fn file_offset(&self, i: usize) -> usize {
        match &self.offsets {
            None => self.span.start() + 1 + i.min(self.value.len()),
            Some(v) => v[i.min(v.len() - 1)],
        }
    }
}

impl Json {
    /// Bracket nesting: 0 for a scalar, 1 for `[1]`. Recursion is bounded by
    /// the file's nesting limit, enforced before any value is built.
    pub fn nesting(&self) -> usize {
        match &self.kind {
            JsonKind::Array(a) => 1 + a.iter().map(Json::nesting).max().unwrap_or(0),
            JsonKind::Object(m) => 1 + m.iter().map(|(_, v)| v.nesting()).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// This value, if it nests within `MAX_VERBATIM_NESTING`; else the load
    /// error (`what` names it).
    pub(crate) fn verbatim(&self, what: &str) -> Result<Verbatim, LoadError> {
        let limit = limits::MAX_VERBATIM_NESTING;
        if self.nesting() <= limit {
            return Ok(Verbatim::of_tree(self));
        }
        Err(LoadError::new(
            LoadErrorKind::TooDeep,
            format!("{what} nests deeper than the limit of {limit} brackets"),
            Span::new(self.span.start(), self.span.start() + 1),
        )
        .note(format!(
            "a JSON value kept verbatim nests at most {limit} deep in either form, so that the other form can hold it"
        )))
    }

    pub fn type_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Number(_) => "a number",
            JsonKind::Str(_) => "a string",
            JsonKind::Array(_) => "an array",
            JsonKind::Object(_) => "an object",
        }
    }

    /// Convert to a serde_json value (for canonical printing).
    pub fn to_value(&self) -> serde_json::Value {
        match &self.kind {
            JsonKind::Null => serde_json::Value::Null,
            JsonKind::Bool(b) => serde_json::Value::Bool(*b),
            JsonKind::Number(n) => serde_json::from_str(n).unwrap_or(serde_json::Value::Null),
            JsonKind::Str(s) => serde_json::Value::String(s.value.clone()),
            JsonKind::Array(a) => serde_json::Value::Array(a.iter().map(Json::to_value).collect()),
            JsonKind::Object(m) => {
                let mut out = serde_json::Map::new();
                for (k, v) in m {
                    out.insert(k.value.clone(), v.to_value());
                }
                serde_json::Value::Object(out)
            }
        }
    }
}

/// A JSON value DIR keeps as written (a later version's fields and
/// statements): its compact text, not a tree of it. A tree cost about
/// 130 bytes a node, so 60 MB of nested arrays in `types` took 7.9 GB
/// before validation rejected it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verbatim {
    /// Where the value is in the input.
    pub span: Span,
    /// Its compact JSON text (as serde_json writes it).
    text: Box<str>,
    /// `null` or `[]` as written (a number serde_json cannot hold, like
    /// `1e400`, is written `null`, and is not empty).
    empty: bool,
}

impl Verbatim {
    /// The value at `span` of `raw` (strict JSON the reader accepted), in
    /// its compact text.
    pub(crate) fn of_text(raw: &str, span: Span) -> Option<Verbatim> {
        let mut out = Vec::with_capacity(raw.len());
        // Nesting is bounded by the reader (`MAX_VERBATIM_NESTING`, within
        // serde_json's own limit of 128).
        let mut de = serde_json::Deserializer::from_str(raw);
        serde_transcode::transcode(&mut de, &mut serde_json::Serializer::new(&mut out)).ok()?;
        de.end().ok()?;
        let inside = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']'));
        let blank = |i: &str| i.bytes().all(|b| b" \t\r\n".contains(&b));
        Some(Verbatim {
            span,
            text: String::from_utf8(out).ok()?.into_boxed_str(),
            empty: raw == "null" || inside.is_some_and(blank),
        })
    }

    /// The value a spanned tree holds (the reference loaders).
    pub(crate) fn of_tree(j: &Json) -> Verbatim {
        Verbatim {
            span: j.span,
            text: serde_json::to_string(j)
                .unwrap_or_default()
                .into_boxed_str(),
            empty: matches!(&j.kind, JsonKind::Null)
                || matches!(&j.kind, JsonKind::Array(a) if a.is_empty()),
        }
    }

    /// The compact JSON text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// `null` or `[]`: a later version's field given without content.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// The value as a serde_json tree (tests and small values only).
    pub fn to_value(&self) -> serde_json::Value {
        let mut de = serde_json::Deserializer::from_str(&self.text);
        serde::Deserialize::deserialize(&mut de).unwrap_or(serde_json::Value::Null)
    }
}

// Verbatim text is read back by serde_json, whose recursion limit (128)
// must hold every value the readers keep.
const _: () = assert!(limits::MAX_VERBATIM_NESTING < 128);

/// Written from its text as it is read: no tree of the value is made.
impl serde::Serialize for Verbatim {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut de = serde_json::Deserializer::from_str(&self.text);
        serde_transcode::Transcoder::new(&mut de).serialize(s)
    }
}

/// Written as it is (canonical printing streams it; `to_value` would build
/// a second tree of every verbatim value first).
impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match &self.kind {
            JsonKind::Null => s.serialize_unit(),
            JsonKind::Bool(b) => s.serialize_bool(*b),
            JsonKind::Number(n) => match serde_json::from_str::<serde_json::Number>(n) {
                Ok(n) => n.serialize(s),
                Err(_) => s.serialize_unit(),
            },
            JsonKind::Str(x) => s.serialize_str(&x.value),
            JsonKind::Array(a) => s.collect_seq(a),
            JsonKind::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(&k.value, v)?;
                }
                map.end()
            }
        }
    }
}

/// Parse a whole JSON document.
pub fn parse_json(src: &str) -> Result<Json, LoadError> {
    parse_json_blanked(src, &[])
}

/// `parse_json` of a document whose `blanked` objects (their spans, in
/// order) hold nothing but blanks: the grammar reads it without them
/// (their brackets kept), and its error's offsets are mapped back. The
/// grammar took 0.6 s to cross 58 MB of blanks.
pub(crate) fn parse_json_blanked(src: &str, blanked: &[(usize, usize)]) -> Result<Json, LoadError> {
    scan_json(src)?;
    if let Some(v) = fast::parse(src) {
        return Ok(v);
    }
    // A document valid but for a key written twice: the error the tree
    // would give, found without it (pest and the spanned tree of an object
    // of 3 M keys took 10 s and 1.75 GB to report its last key).
    if let Some((key, at, prev)) = fast::first_duplicate(src) {
        return Err(duplicate_key(&key, at, prev));
    }
    if !blanked.is_empty() {
        let (short, at, removed) = without_blanks(src, blanked);
        // Offset `o` of the short text is past the blanks of the objects
        // that open before it.
        let map = |o: usize| {
            let n = at.partition_point(|&p| p <= o);
            o + n.checked_sub(1).map_or(0, |k| removed[k])
        };
        if let Err(e) = DirParser::parse(Rule::json_file, &short) {
            return Err(pest_error(e, LoadErrorKind::JsonSyntax, &map));
        }
    }
    let id = |o: usize| o;
    let mut pairs = DirParser::parse(Rule::json_file, src)
        .map_err(|e| pest_error(e, LoadErrorKind::JsonSyntax, &id))?;
    let file = pairs.next().ok_or_else(|| {
        LoadError::new(
            LoadErrorKind::JsonSyntax,
            "empty JSON document",
            Span::default(),
        )
    })?;
    let value = file
        .into_inner()
        .find(|p| p.as_rule() != Rule::EOI)
        .ok_or_else(|| {
            LoadError::new(
                LoadErrorKind::JsonSyntax,
                "empty JSON document",
                Span::default(),
            )
        })?;
    build(value, 0)
}

/// `src` without the insides of the `blanked` objects, where each of those
/// opens in the shorter text, and the bytes left out up to there.
fn without_blanks(src: &str, blanked: &[(usize, usize)]) -> (String, Vec<usize>, Vec<usize>) {
    let mut short = String::with_capacity(src.len().min(1 << 20));
    let (mut at, mut removed, mut gone, mut from) = (Vec::new(), Vec::new(), 0, 0);
    for &(a, b) in blanked {
        // Through the opening bracket; on from the closing one.
        short.push_str(&src[from..a + 1]);
        at.push(short.len());
        gone += b - 1 - (a + 1);
        removed.push(gone);
        from = b - 1;
    }
    short.push_str(&src[from..]);
    (short, at, removed)
}

/// The pre-scan of a JSON document: its limits (nesting, lengths).
pub(crate) fn scan_json(src: &str) -> Result<(), LoadError> {
    let id = |o: usize| o;
    scan(
        src,
        Lexical {
            line_comments: false,
            char_quotes: false,
        },
        limits::MAX_FILE_NESTING,
        "this JSON document",
        &id,
    )
}

/// A key written twice in one object (`at`; first at `prev`).
fn duplicate_key(key: &str, at: Span, prev: Span) -> LoadError {
    LoadError::new(
        LoadErrorKind::DuplicateKey,
        format!("duplicate key `{key}` in JSON object"),
        at,
    )
    .note(format!(
        "first written at byte {}; a DIR object names each field once",
        prev.start()
    ))
}

/// Build from a `jvalue` alternative pair (used by textual DIR's embedded JSON too).
pub(crate) fn build(p: Pair<'_, Rule>, base: usize) -> Result<Json, LoadError> {
    let sp = p.as_span();
    let span = Span::new(base + sp.start(), base + sp.end());
    let kind = match p.as_rule() {
        Rule::jembed => {
            let inner = p.into_inner().next().ok_or_else(|| {
                LoadError::new(LoadErrorKind::JsonSyntax, "expected a JSON value", span)
            })?;
            return build(inner, base);
        }
        Rule::jnull => JsonKind::Null,
        Rule::jtrue => JsonKind::Bool(true),
        Rule::jfalse => JsonKind::Bool(false),
        Rule::jnumber => JsonKind::Number(p.as_str().to_string()),
        Rule::jstring => JsonKind::Str(build_str(p, base)?),
        Rule::jarray => {
            let mut items = Vec::new();
            for c in p.into_inner() {
                items.push(build(c, base)?);
            }
            JsonKind::Array(items)
        }
        Rule::jobject => {
            let mut members: Vec<(JStr, Json)> = Vec::new();
            // Each key's first member, so that a duplicate is found in one
            // lookup (a search of the members so far made an object of
            // 200 000 keys take 66 s).
            let mut first: std::collections::HashMap<String, usize> = Default::default();
            for m in p.into_inner() {
                let mut it = m.into_inner();
                let (Some(k), Some(v)) = (it.next(), it.next()) else {
                    return Err(LoadError::new(
                        LoadErrorKind::JsonSyntax,
                        "malformed JSON member",
                        span,
                    ));
                };
                let key = build_str(k, base)?;
                if let Some((prev, _)) = first.get(&key.value).map(|i| &members[*i]) {
                    return Err(duplicate_key(&key.value, key.span, prev.span));
                }
                let value = build(v, base)?;
                first.insert(key.value.clone(), members.len());
                members.push((key, value));
            }
            JsonKind::Object(members)
        }
        other => {
            return Err(LoadError::new(
                LoadErrorKind::JsonSyntax,
                format!("unexpected JSON element {other:?}"),
                span,
            ))
        }
    };
    Ok(Json { kind, span })
}

fn build_str(p: Pair<'_, Rule>, base: usize) -> Result<JStr, LoadError> {
    let sp = p.as_span();
    let span = Span::new(base + sp.start(), base + sp.end());
    let raw = p.as_str();
    decode_jstr(&raw[1..raw.len() - 1], span)
}

/// A string literal's content (between the quotes) decoded, with the file
/// offset of every decoded byte when escapes moved them.
pub(crate) fn decode_jstr(raw: &str, span: Span) -> Result<JStr, LoadError> {
    let content_start = span.start() + 1;
    if !raw.contains('\\') {
        return Ok(JStr {
            value: raw.to_string(),
            span,
            offsets: None,
        });
    }
    let mut value = String::with_capacity(raw.len());
    let mut offsets = Vec::with_capacity(raw.len() + 1);
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let at = content_start + i;
        if c != '\\' {
            for _ in 0..c.len_utf8() {
                offsets.push(at);
            }
            value.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            return Err(bad_escape(
                at,
                at + 1,
                "a lone `\\` at the end of the string",
            ));
        };
        let decoded = match e {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = read_hex4(raw, &mut chars, at)?;
                if (0xD800..0xDC00).contains(&hi) {
                    // A high surrogate must be followed by `\uDC00`..`\uDFFF`.
                    let ok = matches!(chars.next(), Some((_, '\\')))
                        && matches!(chars.next(), Some((_, 'u')));
                    let lo = if ok {
                        read_hex4(raw, &mut chars, at)?
                    } else {
                        0
                    };
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(bad_escape(at, at + 6, "an unpaired UTF-16 surrogate"));
                    }
                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    char::from_u32(cp)
                        .ok_or_else(|| bad_escape(at, at + 12, "an invalid code point"))?
                } else {
                    char::from_u32(hi)
                        .ok_or_else(|| bad_escape(at, at + 6, "an unpaired UTF-16 surrogate"))?
                }
            }
            other => {
                return Err(bad_escape(
                    at,
                    at + 1 + other.len_utf8(),
                    &format!("`\\{other}`, which JSON does not define"),
                ))
            }
        };
        for _ in 0..decoded.len_utf8() {
            offsets.push(at);
        }
        value.push(decoded);
    }
    offsets.push(span.end() - 1);
    Ok(JStr {
        value,
        span,
        offsets: Some(offsets),
    })
}

fn read_hex4(
    raw: &str,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    at: usize,
) -> Result<u32, LoadError> {
    let mut v = 0u32;
    for _ in 0..4 {
        match chars.next() {
            Some((_, c)) if c.is_ascii_hexdigit() => v = v * 16 + c.to_digit(16).unwrap_or(0),
            _ => {
                let _ = raw;
                return Err(bad_escape(
                    at,
                    at + 2,
                    "`\\u` not followed by four hex digits",
                ));
            }
        }
    }
    Ok(v)
}

fn bad_escape(start: usize, end: usize, what: &str) -> LoadError {
    LoadError::new(
        LoadErrorKind::BadEscape,
        format!("invalid escape in JSON string: {what}"),
        Span::new(start, end),
    )
}

/// A hand-written reader for strict JSON, for speed (the pest grammar,
/// `json_file`, is the normative one and was the measured bottleneck of
/// loading JSON DIR). It accepts only documents the grammar accepts and
/// builds the same tree with the same spans; on anything else (a syntax
/// error, a bad escape, a duplicate key) it gives up and the grammar
/// decides, so every error is reported as before. A test checks the two
/// agree on generated documents.
pub(crate) mod fast {
    use super::{decode_jstr, JStr, Json, JsonKind, Verbatim};
    use crate::error::limits;
    use crate::span::Span;

    struct R<'a> {
        s: &'a str,
        b: &'a [u8],
        i: usize,
        /// Open brackets around the cursor; past the pre-scan's limit the
        /// reader gives up (and the pre-scan reports).
        depth: usize,
        /// `Some` while `skip` records the first key written twice (in
        /// document order, as the tree is built) and reads on, instead of
        /// giving up at it: (the key, where, where first).
        dup: Option<Option<(String, Span, Span)>>,
    }

    pub(super) fn parse(src: &str) -> Option<Json> {
        let mut r = R {
            s: src,
            b: src.as_bytes(),
            i: 0,
            depth: 0,
            dup: None,
        };
        r.ws();
        let v = r.value()?;
        r.ws();
        (r.i == r.b.len()).then_some(v)
    }

    /// The end (past the closing quote) of a strict JSON string literal
    /// opening at `a`, and whether it has escapes; None when malformed.
    /// Shared with the DIR reader (`fast_load.rs`).
    pub(crate) fn string_end(s: &str, a: usize) -> Option<(usize, bool)> {
        let b = s.as_bytes();
        if b.get(a) != Some(&b'"') {
            return None;
        }
        let (mut i, mut escaped) = (a + 1, false);
        loop {
            i = next_special(b, i);
            match *b.get(i)? {
                b'"' => return Some((i + 1, escaped)),
                b'\\' => {
                    // `\` and then any character.
                    escaped = true;
                    i += 1;
                    i += s.get(i..)?.chars().next()?.len_utf8();
                }
                c if c < 0x20 => return None,
                // Not reached: `next_special` stops only at the bytes above
                // (continuation bytes of UTF-8 are never any of them).
                _ => i += 1,
            }
        }
    }

    /// The first byte at or after `i` that a string's scan must look at:
    /// `"`, a backslash or a control character (or the end). Eight bytes at a time
    /// (the lowest flagged byte of each test below is exact: a borrow only
    /// flags bytes above a real hit), as the plain loop was most of reading
    /// a file's strings.
    pub(crate) fn next_special(b: &[u8], mut i: usize) -> usize {
        const ONES: u64 = u64::from_le_bytes([0x01; 8]);
        const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
        let zero_in = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
        // Sixteen at a time where the machine compares them at once.
        while let Some(hits) = crate::class::string_stops16(b, i) {
            if hits != 0 {
                return i + hits.trailing_zeros() as usize;
            }
            i += 16;
        }
        while let Some(word) = b.get(i..i + 8) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            let w = u64::from_le_bytes(bytes);
            let hits = zero_in(w ^ u64::from_le_bytes([b'"'; 8]))
                | zero_in(w ^ u64::from_le_bytes([b'\\'; 8]))
                | (w.wrapping_sub(u64::from_le_bytes([0x20; 8])) & !w & HIGH);
            if hits != 0 {
                return i + (hits.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
        while b
            .get(i)
            .is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20)
        {
            i += 1;
        }
        i
    }

    /// The end of a strict JSON number starting at `a`; None when malformed.
    pub(crate) fn number_end(b: &[u8], a: usize) -> Option<usize> {
        let mut i = a;
        let digits = |i: &mut usize| {
            let d = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - d
        };
        let eat = |i: &mut usize, c: u8| {
            let hit = b.get(*i) == Some(&c);
            *i += usize::from(hit);
            hit
        };
        eat(&mut i, b'-');
        if !eat(&mut i, b'0') && digits(&mut i) == 0 {
            return None;
        }
        if eat(&mut i, b'.') && digits(&mut i) == 0 {
            return None;
        }
        if eat(&mut i, b'e') || eat(&mut i, b'E') {
            let _ = eat(&mut i, b'+') || eat(&mut i, b'-');
            if digits(&mut i) == 0 {
                return None;
            }
        }
        Some(i)
    }

    /// One value starting at byte `i` of `src` inside `depth` open
    /// brackets, and the offset just past it; None past the file nesting
    /// limit, as for anything else the reader is unsure of.
    /// The first key written twice in a document that is otherwise one
    /// the reader accepts whole (so the grammar parses it, and the tree's
    /// first error is that key): the key, where, where first.
    pub(super) fn first_duplicate(src: &str) -> Option<(String, Span, Span)> {
        let mut r = R {
            s: src,
            b: src.as_bytes(),
            i: 0,
            depth: 0,
            dup: Some(None),
        };
        r.ws();
        r.skip()?;
        r.ws();
        if r.i != r.b.len() {
            return None;
        }
        r.dup.flatten()
    }

    /// A value kept verbatim, at `i`: read without building a tree (`skip`
    /// accepts what `value` accepts), within
    /// `MAX_VERBATIM_NESTING`, and its end.
    pub(crate) fn verbatim_at(src: &str, i: usize, depth: usize) -> Option<(Verbatim, usize)> {
        let mut r = R {
            s: src,
            b: src.as_bytes(),
            i,
            depth,
            dup: None,
        };
        let nesting = r.skip()?;
        if nesting > limits::MAX_VERBATIM_NESTING {
            return None;
        }
        let v = Verbatim::of_text(&src[i..r.i], Span::new(i, r.i))?;
        Some((v, r.i))
    }

    /// The end of the value at `i` (`depth` brackets open around it), read
    /// as `verbatim_at` reads it but within the file's nesting limit.
    pub(crate) fn skip_at(src: &str, i: usize, depth: usize) -> Option<usize> {
        let mut r = R {
            s: src,
            b: src.as_bytes(),
            i,
            depth,
            dup: None,
        };
        r.skip()?;
        Some(r.i)
    }

    fn has_duplicates(mut keys: Vec<&str>) -> bool {
        keys.sort_unstable();
        keys.windows(2).any(|w| w[0] == w[1])
    }

    impl R<'_> {
        fn ws(&mut self) {
            while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                self.i += 1;
            }
        }

        fn eat(&mut self, c: u8) -> bool {
            let hit = self.b.get(self.i) == Some(&c);
            self.i += usize::from(hit);
            hit
        }

        fn word(&mut self, w: &str, kind: JsonKind) -> Option<JsonKind> {
            self.s[self.i..].starts_with(w).then(|| {
                self.i += w.len();
                kind
            })
        }

        /// The items of an array or the members of an object, the cursor
        /// on its opening bracket: `item` reads each (after the bracket or
        /// a comma, whitespace skipped), up to `close`.
        fn items(
            &mut self,
            close: u8,
            mut item: impl FnMut(&mut Self) -> Option<()>,
        ) -> Option<()> {
            self.i += 1;
            self.depth += 1;
            if self.depth > limits::MAX_FILE_NESTING {
                return None;
            }
            self.ws();
            if !self.eat(close) {
                loop {
                    item(self)?;
                    self.ws();
                    if self.eat(close) {
                        break;
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                    self.ws();
                }
            }
            self.depth -= 1;
            Some(())
        }

        /// An object member's key and colon, whitespace after skipped.
        fn key(&mut self) -> Option<JStr> {
            if self.b.get(self.i) != Some(&b'"') {
                return None;
            }
            let key = self.string()?;
            self.colon()?;
            Some(key)
        }

        /// The `:` after a key, with the whitespace around it.
        fn colon(&mut self) -> Option<()> {
            self.ws();
            if !self.eat(b':') {
                return None;
            }
            self.ws();
            Some(())
        }

        fn value(&mut self) -> Option<Json> {
            let a = self.i;
            let kind = match *self.b.get(self.i)? {
                b'{' => {
                    let mut members: Vec<(JStr, Json)> = Vec::new();
                    self.items(b'}', |r| {
                        let key = r.key()?;
                        members.push((key, r.value()?));
                        Some(())
                    })?;
                    // A duplicate key is the grammar's error to report.
                    if has_duplicates(members.iter().map(|(k, _)| k.value.as_str()).collect()) {
                        return None;
                    }
                    JsonKind::Object(members)
                }
                b'[' => {
                    let mut items = Vec::new();
                    self.items(b']', |r| {
                        items.push(r.value()?);
                        Some(())
                    })?;
                    JsonKind::Array(items)
                }
                b'"' => JsonKind::Str(self.string()?),
                b't' => self.word("true", JsonKind::Bool(true))?,
                b'f' => self.word("false", JsonKind::Bool(false))?,
                b'n' => self.word("null", JsonKind::Null)?,
                b'-' | b'0'..=b'9' => {
                    self.i = number_end(self.b, a)?;
                    JsonKind::Number(self.s[a..self.i].to_string())
                }
                _ => return None,
            };
            Some(Json {
                kind,
                span: Span::new(a, self.i),
            })
        }

        /// `value` without the tree: the value's bracket nesting (0 for a
        /// scalar), having checked all `value` checks.
        fn skip(&mut self) -> Option<usize> {
            let mut nesting = 0;
            match *self.b.get(self.i)? {
                b'{' => {
                    // Each key's span; a key seen again is checked before
                    // its value is read, as the tree's builder checks it.
                    // Keys without escapes are borrowed, and hashed with
                    // foldhash: an object of 3 M keys is read without an
                    // allocation per key.
                    let mut keys: std::collections::HashMap<
                        std::borrow::Cow<'_, str>,
                        Span,
                        foldhash::fast::RandomState,
                    > = Default::default();
                    let s = self.s;
                    self.items(b'}', |r| {
                        let a = r.i;
                        let (end, escaped) = string_end(s, a)?;
                        let key: std::borrow::Cow<'_, str> = if escaped {
                            r.key()?.value.into()
                        } else {
                            r.i = end;
                            r.colon()?;
                            s[a + 1..end - 1].into()
                        };
                        let at = Span::new(a, end);
                        if let Some(prev) = keys.get(&key) {
                            match &mut r.dup {
                                Some(first @ None) => *first = Some((key.into_owned(), at, *prev)),
                                Some(Some(_)) => {}
                                None => return None,
                            }
                        } else {
                            keys.insert(key, at);
                        }
                        nesting = nesting.max(r.skip()?);
                        Some(())
                    })?;
                    Some(nesting + 1)
                }
                b'[' => {
                    self.items(b']', |r| {
                        nesting = nesting.max(r.skip()?);
                        Some(())
                    })?;
                    Some(nesting + 1)
                }
                // Numbers without their lexeme copied (a `value` each).
                b'-' | b'0'..=b'9' => {
                    self.i = number_end(self.b, self.i)?;
                    Some(0)
                }
                _ => self.value().map(|_| 0),
            }
        }

        fn string(&mut self) -> Option<JStr> {
            let a = self.i;
            self.i = string_end(self.s, a)?.0;
            decode_jstr(&self.s[a + 1..self.i - 1], Span::new(a, self.i)).ok()
        }
    }

    #[cfg(test)]
    mod tests {
        use crate::testing::{corrupt, Rng};

        /// `next_special` against the byte-by-byte scan, at every start of
        /// strings full of the bytes it looks for, near word boundaries.
        #[test]
        fn special_bytes_are_found_as_a_plain_scan_finds_them() {
            let plain = |b: &[u8], mut i: usize| {
                while b
                    .get(i)
                    .is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20)
                {
                    i += 1;
                }
                i
            };
            let pieces: [&[u8]; 12] = [
                b"a",
                b"\"",
                b"\\",
                b"\n",
                b"\x1f",
                b" ",
                b"\x7f",
                b"\xc3\xa9",
                b"!",
                b"#",
                b"\x00",
                b"]",
            ];
            let mut r = Rng(0x2545_f491_4f6c_dd1d);
            for _ in 0..4000 {
                let mut s = Vec::new();
                for _ in 0..r.next(40) {
                    s.extend_from_slice(pieces[r.next(pieces.len() as u64) as usize]);
                }
                for i in 0..=s.len() {
                    assert_eq!(super::next_special(&s, i), plain(&s, i), "{s:?} at {i}");
                }
            }
        }

        fn gap(r: &mut Rng) -> &'static str {
            ["", "", " ", "\n  ", "\t", "\r\n"][r.next(6) as usize]
        }

        fn gen(r: &mut Rng, depth: u32) -> String {
            if depth == 0 || r.next(3) == 0 {
                let atoms = [
                    "0",
                    "-0",
                    "12",
                    "-3.25",
                    "1e5",
                    "2E-3",
                    "1.5e+2",
                    "true",
                    "false",
                    "null",
                    "\"\"",
                    "\"abc\"",
                    "\"q\\\"\\\\\\/\\n\"",
                    "\"\\u00e9\\uD83D\\uDE00\"",
                    "\"é Φ 😀\"",
                ];
                return atoms[r.next(atoms.len() as u64) as usize].to_string();
            }
            let n = r.next(4);
            if r.next(2) == 0 {
                let items: Vec<String> = (0..n)
                    .map(|_| format!("{}{}{}", gap(r), gen(r, depth - 1), gap(r)))
                    .collect();
                format!("[{}{}]", items.join(","), gap(r))
            } else {
                let items: Vec<String> = (0..n)
                    .map(|i| {
                        format!(
                            "{}\"k{i}\"{}:{}{}",
                            gap(r),
                            gap(r),
                            gap(r),
                            gen(r, depth - 1)
                        )
                    })
                    .collect();
                format!("{{{}{}}}", items.join(","), gap(r))
            }
        }

        /// Wherever the fast reader accepts, the grammar accepts with the
        /// same tree and spans; it accepts every valid document generated;
        /// corruptions never make it accept what the grammar rejects.
        #[test]
        fn agrees_with_the_pest_grammar() {
            let mut r = Rng(0x9e37_79b9_7f4a_7c15);
            let (mut valid, mut fast_ok, mut dups, mut pest_dups) = (0, 0, 0, 0);
            for round in 0..3600 {
                let mut src = format!(
                    "{}{}{}",
                    gap(&mut r),
                    gen(&mut r, 1 + round % 5),
                    gap(&mut r)
                );
                if round >= 3000 {
                    // Keys written twice, among and inside other values.
                    let k = ["\"k\"", "\"j\"", "\"\\u006b\""];
                    src = format!(
                        "[{}, {{{}: {}, \"i\": 1, {}: {}}}, {}]",
                        gen(&mut r, 2),
                        k[r.next(3) as usize],
                        gen(&mut r, 2),
                        k[r.next(3) as usize],
                        gen(&mut r, 2),
                        gen(&mut r, 2)
                    );
                }
                if round % 3 == 2 {
                    let ins = [
                        "{",
                        "}",
                        "[",
                        "]",
                        ",",
                        ":",
                        "\"",
                        "\\",
                        "-",
                        "0",
                        "e",
                        ".",
                        "\u{1}",
                        "x",
                        "\"k0\":1,",
                    ];
                    src = corrupt(&mut r, &src, &ins);
                }
                let pest = {
                    use crate::grammar::{DirParser, Rule};
                    use pest::Parser;
                    DirParser::parse(Rule::json_file, &src)
                        .ok()
                        .and_then(|mut p| p.next())
                        .and_then(|f| f.into_inner().find(|p| p.as_rule() != Rule::EOI))
                        .map(|v| super::super::build(v, 0))
                };
                let fast = super::parse(&src);
                if matches!(pest, Some(Ok(_))) {
                    valid += 1;
                }
                // The verbatim reader (no tree) accepts the same values, and
                // keeps what the tree would give.
                let start = src.len() - src.trim_start().len();
                let verbatim = super::verbatim_at(&src, start, 0)
                    .filter(|(_, end)| src[*end..].trim().is_empty())
                    .map(|(v, _)| v);
                let tree = match &pest {
                    Some(Ok(p)) => p.verbatim("v").ok(),
                    _ => None,
                };
                assert_eq!(verbatim, tree, "{src:?}");
                // A key written twice is found without the tree, and is the
                // tree's error.
                if let Some((key, at, prev)) = super::first_duplicate(&src) {
                    dups += 1;
                    let fast = super::super::duplicate_key(&key, at, prev);
                    match &pest {
                        Some(Err(e)) => {
                            assert_eq!(format!("{fast:?}"), format!("{e:?}"), "{src:?}")
                        }
                        _ => panic!("a duplicate the grammar does not report: {src:?}"),
                    }
                }
                if let Some(Err(e)) = &pest {
                    if e.kind == crate::error::LoadErrorKind::DuplicateKey {
                        pest_dups += 1;
                    }
                }
                if let Some(f) = fast {
                    fast_ok += 1;
                    match pest {
                        Some(Ok(p)) => assert_eq!(format!("{f:?}"), format!("{p:?}"), "{src:?}"),
                        _ => panic!("fast accepts what the grammar rejects: {src:?}"),
                    }
                }
            }
            assert!(valid > 1500, "{valid} valid");
            assert_eq!(
                fast_ok, valid,
                "the fast reader accepts every valid document"
            );
            assert!(
                pest_dups > 20 && dups * 100 >= pest_dups * 90,
                "{dups} of {pest_dups} duplicates"
            );
        }
    }
}

#[cfg(test)]
mod verbatim_tests {
    /// A later version's field is empty when written `null` or `[]`, by
    /// either reader; a number serde_json cannot hold prints as `null` but
    /// is not empty (it made a rejected program run).
    #[test]
    fn emptiness_is_what_was_written() {
        let hello = |types: &str| {
            format!(
                r#"{{"forges": [{{"name": "F", "procs": [{{"regime": "K", "name": "main", "ret": "i64", "body": [{{"Return": {{"expr": "1"}}}}]}}]}}], "types": {types}}}"#
            )
        };
        for (types, empty) in [
            ("null", true),
            ("[]", true),
            ("[ \n ]", true),
            ("1e400", false),
            ("-1e999", false),
            ("[1e400]", false),
            ("{}", false),
            ("0", false),
        ] {
            let src = hello(types);
            let fast = crate::load_str(&src).unwrap();
            let tree = crate::load_json::load_json_tree(&src).unwrap();
            for p in [&fast, &tree] {
                assert_eq!(
                    p.types.as_ref().map(|t| t.is_empty()),
                    Some(empty),
                    "{types}"
                );
            }
            assert_eq!(fast.types, tree.types, "{types}");
        }
    }
}
