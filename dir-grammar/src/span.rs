//! Byte spans into the source file a DIR program was read from.

/// A half-open byte range `[start, end)` into the original input file.
///
/// Spans are always file-absolute, including spans of sub-expressions inside
/// a JSON expression string: the loader maps them back through the string's
/// escapes so a diagnostic can underline `c.x` inside `"c.x Gt 0"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Line and column (both 1-based; the column counts characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = clamp_to_char_boundary(src, offset);
    let before = &src[..offset];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = src[line_start..offset].chars().count() + 1;
    (line, col)
}

/// The largest char boundary `<= offset` within `src` (codespan-reporting
/// panics on spans that split a multi-byte character such as `Φ`).
pub fn clamp_to_char_boundary(src: &str, offset: usize) -> usize {
    let mut o = offset.min(src.len());
    while o > 0 && !src.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// Clamp a span so it lies within `src` on char boundaries and is non-inverted.
pub fn clamp_span(src: &str, span: Span) -> Span {
    let start = clamp_to_char_boundary(src, span.start);
    let end = clamp_to_char_boundary(src, span.end).max(start);
    Span::new(start, end)
}
