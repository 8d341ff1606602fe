//! DIR input: the model (with spans), the JSON and textual loaders, the
//! expression grammar and the canonical printers. Knows nothing of the
//! engine or of the rule tables.

mod beside;
mod class;
pub mod error;
mod expr;
mod exprs;
mod fast_expr;
mod fast_load;
mod fast_text;
mod grammar;
pub mod json;
mod load_json;
pub mod model;
mod prescan;
pub mod print;
pub mod span;
#[cfg(test)]
mod testing;
mod text;

pub use error::{limits, LoadError, LoadErrorKind};
pub use expr::parse_standalone;
pub use load_json::load_json;
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
                "input exceeds the limit of {} bytes",
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

/// Stack for parsing. pest's generated parser recurses through every grammar
/// level; unoptimised builds use roughly 90 KiB of stack per bracket level,
/// so the documented nesting limits need more than a default thread has.
pub(crate) const PARSE_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Run `f` on a thread with a stack large enough for the documented limits.
pub fn on_parse_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let slot = std::sync::Mutex::new(Some(f));
    let take = || slot.lock().ok().and_then(|mut g| g.take());
    let spawned = std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name("dir-parse".into())
            .stack_size(PARSE_STACK_BYTES)
            .spawn_scoped(s, || take().map(|f| f()))
            .ok()?;
        match h.join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        }
    });
    match spawned {
        Some(v) => v,
        // No thread could be started (resource limits): run here; the
        // nesting limits still bound the recursion.
        None => match take() {
            Some(f) => f(),
            None => unreachable_state(),
        },
    }
}

#[cold]
fn unreachable_state() -> ! {
    // The closure either ran on the thread (and its value was returned) or
    // is still in the slot; a missing value means it panicked, which was
    // resumed above.
    std::process::abort()
}

pub fn load_str(src: &str) -> Result<Program, LoadError> {
    on_parse_stack(|| load_str_here(src))
}

fn load_str_here(src: &str) -> Result<Program, LoadError> {
    let first = src.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if first.starts_with('{') {
        load_json(src)
    } else {
        load_text(src)
    }
}

/// Entry points for the fuzz targets (`fuzz/`): the hand-written expression
/// reader and its pest oracle, side by side. Not a stable interface.
#[doc(hidden)]
pub mod fuzzing {
    use crate::{ExprTree, Exprs, LoadError};

    /// The hand-written reader alone (after the pre-scan); `None` where it
    /// defers to pest. An error is the pre-scan's, or the reader's finding
    /// that a valid expression is too deep: pest must give the same.
    pub fn expr_fast(src: &str) -> Result<Option<ExprTree>, LoadError> {
        crate::expr::prescan_expr(src, &|o| o)?;
        let mut ex = Exprs::default();
        match crate::fast_expr::parse(src, &|o| o, &mut ex) {
            crate::fast_expr::Parsed::Expr(e) => Ok(Some(ExprTree::new(ex, e))),
            crate::fast_expr::Parsed::TooDeep(at) => Err(crate::expr::too_deep(at)),
            crate::fast_expr::Parsed::Unsure => Ok(None),
        }
    }

    /// The hand-written JSON reader with its expressions parsed in place
    /// and on a second thread (as for inputs of 1 MiB on), as the Debug
    /// text of each program (`None` where it gives up): the two must be
    /// equal.
    pub fn json_beside(src: &str) -> (Option<String>, Option<String>) {
        crate::on_parse_stack(|| crate::beside::both_ways(crate::fast_load::load_beside, src))
    }

    /// The hand-written JSON reader with its expressions parsed beside and
    /// the statements from the first statement start found from `from` on
    /// read ahead on the second thread (as from the middle of a file for
    /// inputs of 1 MiB on), as the Debug text of the program (`None` where
    /// it gives up): the same as `json_beside`'s, wherever the start falls.
    pub fn json_ahead(src: &str, from: usize) -> Option<String> {
        crate::on_parse_stack(|| crate::fast_load::load_ahead_from(src, from))
            .map(|p| format!("{p:?}"))
    }

    /// The same for the hand-written textual DIR reader.
    pub fn text_beside(src: &str) -> (Option<String>, Option<String>) {
        crate::on_parse_stack(|| crate::beside::both_ways(crate::fast_text::load_beside, src))
    }

    /// The error the grammar words for `src` with the items the fast
    /// reader read in full blanked (what `load_text` does from 64 KiB on),
    /// whatever the size; `Ok` where that says nothing.
    pub fn text_blanked(src: &str) -> Result<(), LoadError> {
        crate::on_parse_stack(|| crate::text::load_text_blanked(src))
    }

    /// The error the reference JSON loader words for `src` with the items
    /// the fast reader read in full blanked and left out (what `load_json`
    /// does from 64 KiB on), whatever the size; `Ok` where that says
    /// nothing.
    pub fn json_blanked(src: &str) -> Result<(), LoadError> {
        crate::on_parse_stack(|| crate::load_json::load_json_blanked(src))
    }

    /// The normative pest parse, after the same pre-scan.
    pub fn expr_pest(src: &str) -> Result<ExprTree, LoadError> {
        crate::on_parse_stack(|| {
            crate::expr::prescan_expr(src, &|o| o)?;
            let mut ex = Exprs::default();
            let e = crate::expr::parse_expr_pest(src, &|o| o, &mut ex)?;
            Ok(ExprTree::new(ex, e))
        })
    }
}
