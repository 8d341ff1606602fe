//! Linear pre-scan run before pest: pest's recursion has no depth bound, so a
//! 100 000-deep input would overflow the stack. The scan also finds
//! unterminated strings, which pest would only report as "expected ...".

use crate::error::{LoadError, LoadErrorKind};
use crate::span::Span;

/// How a quoted string is delimited in the scanned language.
#[derive(Clone, Copy)]
pub struct Lexical {
    /// `//` starts a comment to end of line (textual DIR and expressions).
    pub line_comments: bool,
    /// `'...'` is a char literal (textual DIR only).
    pub char_quotes: bool,
}

/// Checks nesting of `( [ {` against `limit` and that every string closes.
/// `map` turns an offset in `src` into a file offset.
pub fn scan(
    src: &str,
    lex: Lexical,
    limit: usize,
    what: &str,
    map: &dyn Fn(usize) -> usize,
) -> Result<(), LoadError> {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' | b'\'' if b == b'"' || lex.char_quotes => {
                let open = i;
                i += 1;
                loop {
                    if i >= bytes.len() {
                        return Err(LoadError::new(
                            LoadErrorKind::UnterminatedString,
                            if b == b'"' {
                                "unterminated string literal"
                            } else {
                                "unterminated character literal"
                            },
                            Span::new(map(open), map(open + 1)),
                        ));
                    }
                    match bytes[i] {
                        b'\\' => i += 2,
                        c if c == b => break,
                        _ => i += 1,
                    }
                }
            }
            b'/' if lex.line_comments && bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(LoadError::new(
                        LoadErrorKind::TooDeep,
                        format!("{what} nests deeper than the limit of {limit} brackets"),
                        Span::new(map(i), map(i + 1)),
                    )
                    .note(format!(
                        "dustrun bounds nesting so that no input can exhaust its stack; the limit for {what} is {limit}"
                    )));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// What textual DIR holds outside its string and character literals.
pub(crate) enum Lexeme {
    /// A `//` comment, to the end of its line.
    Comment(std::ops::Range<usize>),
    /// Any other byte, at its offset.
    Byte(u8, usize),
}

/// Walks textual DIR's lexical surface: literals skipped, comments whole,
/// every other byte one at a time. Shared by the comment collector, the
/// syntax-error helpers and the reader that finds where an expression ends,
/// so they agree on what is a comment and what is a literal.
pub(crate) fn lexemes(src: &str, mut on: impl FnMut(Lexeme)) {
    lexemes_until(src, 0, |l| {
        on(l);
        true
    });
}

/// `lexemes` from byte `at`, until `on` answers false (offsets are still
/// offsets in `src`).
pub(crate) fn lexemes_until(src: &str, at: usize, mut on: impl FnMut(Lexeme) -> bool) {
    let b = src.as_bytes();
    let mut i = at;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let start = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                if !on(Lexeme::Comment(start..i)) {
                    return;
                }
                continue;
            }
            c => {
                if !on(Lexeme::Byte(c, i)) {
                    return;
                }
            }
        }
        i += 1;
    }
}
