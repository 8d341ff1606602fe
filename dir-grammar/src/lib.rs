//! DIR input: the model (with spans), the JSON and textual loaders, the
//! expression grammar and the canonical printers. Knows nothing of the
//! engine or of the rule tables.

pub mod error;
mod expr;
mod grammar;
pub mod json;
mod load_json;
pub mod model;
mod prescan;
pub mod print;
pub mod span;
mod text;

pub use error::{limits, LoadError, LoadErrorKind};
pub use expr::parse_standalone;
pub use load_json::{load_json, LATER_STATEMENTS};
pub use model::*;
pub use span::Span;
pub use text::load_text;

/// Decode and load DIR bytes. The form is JSON when the first non-blank byte
/// is `{`, textual DIR otherwise, whatever the file is called.
pub fn load(bytes: &[u8]) -> Result<Program, LoadError> {
    if bytes.len() > limits::MAX_INPUT_BYTES {
        return Err(LoadError::new(
            LoadErrorKind::TooLarge,
            format!(
                "input is {} bytes; the limit is {} bytes",
                bytes.len(),
                limits::MAX_INPUT_BYTES
            ),
            Span::new(0, 0),
        ));
    }
    let src = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        LoadError::new(
            LoadErrorKind::InvalidUtf8,
            format!("input is not valid UTF-8 (invalid byte at offset {at})"),
            Span::new(at, at),
        )
    })?;
    load_str(src)
}

pub fn load_str(src: &str) -> Result<Program, LoadError> {
    let first = src.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if first.starts_with('{') {
        load_json(src)
    } else {
        load_text(src)
    }
}
