//! Load errors: the input is not well-formed DIR. The engine maps each kind to
//! a catalogue code (`semantics`), so codes and cites stay data.

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LoadErrorKind {
    InvalidUtf8,
    TooLarge,
    JsonSyntax,
    TextSyntax,
    ExprSyntax,
    UnterminatedString,
    BadEscape,
    TooDeep,
    JsonShape,
    MissingField,
    UnknownField,
    DuplicateKey,
    UnknownRegime,
    UnknownStatement,
    IntegerRange,
    BadPath,
}

impl LoadErrorKind {
    /// Stable key the error catalogue uses to find this kind's code.
    pub fn key(self) -> &'static str {
        match self {
            LoadErrorKind::InvalidUtf8 => "load/invalid-utf8",
            LoadErrorKind::TooLarge => "load/too-large",
            LoadErrorKind::JsonSyntax => "load/json-syntax",
            LoadErrorKind::TextSyntax => "load/text-syntax",
            LoadErrorKind::ExprSyntax => "load/expr-syntax",
            LoadErrorKind::UnterminatedString => "load/unterminated-string",
            LoadErrorKind::BadEscape => "load/bad-escape",
            LoadErrorKind::TooDeep => "load/too-deep",
            LoadErrorKind::JsonShape => "load/json-shape",
            LoadErrorKind::MissingField => "load/missing-field",
            LoadErrorKind::UnknownField => "load/unknown-field",
            LoadErrorKind::DuplicateKey => "load/duplicate-key",
            LoadErrorKind::UnknownRegime => "load/unknown-regime",
            LoadErrorKind::UnknownStatement => "load/unknown-statement",
            LoadErrorKind::IntegerRange => "load/integer-range",
            LoadErrorKind::BadPath => "load/bad-path",
        }
    }

    pub const ALL: [LoadErrorKind; 16] = [
        LoadErrorKind::InvalidUtf8,
        LoadErrorKind::TooLarge,
        LoadErrorKind::JsonSyntax,
        LoadErrorKind::TextSyntax,
        LoadErrorKind::ExprSyntax,
        LoadErrorKind::UnterminatedString,
        LoadErrorKind::BadEscape,
        LoadErrorKind::TooDeep,
        LoadErrorKind::JsonShape,
        LoadErrorKind::MissingField,
        LoadErrorKind::UnknownField,
        LoadErrorKind::DuplicateKey,
        LoadErrorKind::UnknownRegime,
        LoadErrorKind::UnknownStatement,
        LoadErrorKind::IntegerRange,
        LoadErrorKind::BadPath,
    ];
}

#[derive(Clone, Debug)]
pub struct LoadError {
    pub kind: LoadErrorKind,
    pub message: String,
    pub span: Span,
    /// Extra facts (e.g. the JSON path `forges[0].procs[1].body[2]`).
    pub notes: Vec<String>,
    /// Other places that explain the error (the `{` a missing `}` opened).
    pub secondary: Vec<(Span, String)>,
}

impl LoadError {
    pub fn new(kind: LoadErrorKind, message: impl Into<String>, span: Span) -> LoadError {
        LoadError {
            kind,
            message: message.into(),
            span,
            notes: Vec::new(),
            secondary: Vec::new(),
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> LoadError {
        self.notes.push(note.into());
        self
    }

    pub fn also(mut self, span: Span, message: impl Into<String>) -> LoadError {
        self.secondary.push((span, message.into()));
        self
    }
}

/// Documented input limits (README, "Limits").
pub mod limits {
    /// Largest input file accepted, in bytes.
    pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;
    /// Deepest bracket nesting (`( [ {`) in a JSON or textual DIR file.
    pub const MAX_FILE_NESTING: usize = 96;
    /// Deepest nesting of a JSON value kept verbatim (`types`, `locals`, a
    /// later statement's body), in either form: both forms place it at
    /// different depths, and this keeps each within the file limit in the
    /// other, so `fmt` output always loads.
    pub const MAX_VERBATIM_NESTING: usize = 64;
    /// Deepest bracket nesting inside one expression.
    pub const MAX_EXPR_NESTING: usize = 64;
    /// Deepest expression tree (operator chains count too).
    pub const MAX_EXPR_DEPTH: usize = 256;
}
