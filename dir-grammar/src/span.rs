//! Byte spans into the source file a DIR program was read from.

/// A half-open byte range `[start, end)` into the original input file.
///
/// Spans are always file-absolute, including spans of sub-expressions inside
/// a JSON expression string: the loader maps them back through the string's
/// escapes so a diagnostic can underline `c.x` inside `"c.x Gt 0"`.
///
/// Offsets are kept in 32 bits: every node of the model carries spans, and
/// inputs are far below 4 GiB (64 MiB at most, `error::limits`); an offset
/// past `u32::MAX` would be kept as `u32::MAX`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    start: u32,
    end: u32,
}

/// An offset in 32 bits (saturating: see `Span`).
const fn narrow(offset: usize) -> u32 {
    if offset > u32::MAX as usize {
        u32::MAX
    } else {
        offset as u32
    }
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Span {
        Span {
            start: narrow(start),
            end: narrow(end),
        }
    }

    /// The first byte.
    pub const fn start(self) -> usize {
        self.start as usize
    }

    /// The byte after the last.
    pub const fn end(self) -> usize {
        self.end as usize
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
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
    let start = clamp_to_char_boundary(src, span.start());
    let end = clamp_to_char_boundary(src, span.end()).max(start);
    Span::new(start, end)
}

/// Line and column lookups in O(log n) each, for outputs that locate many
/// spans in one file (`line_col` rescans the file every time). Columns count
/// characters, as `line_col` does, via a per-block count of character starts.
pub struct LineIndex<'s> {
    src: &'s str,
    line_starts: Vec<usize>,
    /// Characters before byte `BLOCK * i`.
    block_chars: Vec<usize>,
}

const BLOCK: usize = 64;

impl<'s> LineIndex<'s> {
    pub fn new(src: &'s str) -> LineIndex<'s> {
        let mut line_starts = vec![0];
        let mut block_chars = Vec::with_capacity(src.len() / BLOCK + 1);
        let mut chars = 0usize;
        for (i, b) in src.bytes().enumerate() {
            if i % BLOCK == 0 {
                block_chars.push(chars);
            }
            // UTF-8 continuation bytes do not start a character.
            if b & 0xC0 != 0x80 {
                chars += 1;
            }
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        block_chars.push(chars);
        LineIndex {
            src,
            line_starts,
            block_chars,
        }
    }

    fn chars_before(&self, o: usize) -> usize {
        let b = o / BLOCK;
        let base = self.block_chars.get(b).copied().unwrap_or(0);
        base + self.src.as_bytes()[b * BLOCK..o]
            .iter()
            .filter(|x| *x & 0xC0 != 0x80)
            .count()
    }

    /// 1-based (line, column), as `line_col` computes them.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let o = clamp_to_char_boundary(self.src, offset);
        let line = self.line_starts.partition_point(|s| *s <= o);
        let start = self.line_starts[line - 1];
        (line, self.chars_before(o) - self.chars_before(start) + 1)
    }
}

#[cfg(test)]
mod line_index_tests {
    use super::*;

    /// The index agrees with the straightforward scan at every offset.
    #[test]
    fn agrees_with_line_col() {
        let src = "dir 0.1;\nforge Φ {\n  // ΦΦΦ é\n\n".repeat(20) + "tail";
        let idx = LineIndex::new(&src);
        for o in 0..=src.len() + 3 {
            assert_eq!(idx.line_col(o), line_col(&src, o), "offset {o}");
        }
    }
}
