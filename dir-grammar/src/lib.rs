//! DIR input: the model (with spans), the JSON and textual loaders, the
//! expression grammar and the canonical printers. Knows nothing of the
//! engine or of the rule tables.

mod beside;
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

thread_local! {
    /// Whether this thread is one `on_parse_stack` started (its closure
    /// running on the large stack).
    static ON_PARSE_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
thread_local! {
    /// Parse-stack threads this thread started (for the tests).
    static STARTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Run `f` on a thread with a stack large enough for the documented limits.
pub fn on_parse_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let slot = std::sync::Mutex::new(Some(f));
    let take = || slot.lock().ok().and_then(|mut g| g.take());
    #[cfg(test)]
    STARTED.with(|n| n.set(n.get() + 1));
    let spawned = std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name("dir-parse".into())
            .stack_size(PARSE_STACK_BYTES)
            .spawn_scoped(s, || {
                ON_PARSE_STACK.with(|on| on.set(true));
                take().map(|f| f())
            })
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
    // A caller already on a parse stack (the engine runs a program on
    // one) loads on it: a thread of its own for the loading cost a large
    // run ~0.3 ms on its one busy core (its start, and its stack unmapped
    // at its end). Such callers load near the top of their stack, so the
    // nesting limits still have the room they were sized for.
    if ON_PARSE_STACK.with(|on| on.get()) {
        return load_str_here(src);
    }
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

#[cfg(test)]
mod parse_stack_tests {
    use super::*;

    /// Inputs at the nesting limits: a file nested as deep as it may be,
    /// and an expression as deep as it may be, in both forms.
    fn deepest() -> Vec<String> {
        let brackets = limits::MAX_EXPR_NESTING;
        let chain = limits::MAX_EXPR_DEPTH - brackets - 1;
        let e = format!(
            "{}1{}{}",
            "(".repeat(brackets),
            ")".repeat(brackets),
            " Add 1".repeat(chain)
        );
        let types = limits::MAX_VERBATIM_NESTING;
        vec![
            format!(
                r#"{{"types": {}1{}, "forges": [{{"name": "F", "shapes": [], "procs": [{{"regime": "K", "name": "main", "params": [], "uses": [], "ret": "i64", "qualifiers": [], "body": [{{"Return": {{"expr": "{e}"}}}}]}}]}}]}}"#,
                "[".repeat(types - 1),
                "]".repeat(types - 1)
            ),
            format!("dir 0.1;\nforge F {{\n  proc K main() -> i64 {{\n    return {e};\n  }}\n}}\n"),
        ]
    }

    /// A caller already on a parse stack (as the engine's run is) loads on
    /// it, without a thread of its own; a caller elsewhere still gets one.
    #[test]
    fn a_load_on_a_parse_stack_stays_on_it() {
        let src = "dir 0.1;\nforge F {\n  proc K main() -> i64 {\n    return 1;\n  }\n}\n";
        let started = || STARTED.with(|n| n.get());
        let nested = on_parse_stack(|| {
            let before = started();
            let loaded = load_str(src).is_ok();
            (loaded, started() - before)
        });
        assert_eq!(nested, (true, 0));
        let before = started();
        assert!(load_str(src).is_ok());
        assert_eq!(started() - before, 1);
    }

    /// What the limits allow loads on a parse stack already in use by its
    /// caller's frames, as it does on a fresh one: the same result.
    #[test]
    fn the_deepest_inputs_load_on_a_parse_stack_in_use() {
        for src in deepest() {
            let fresh = format!("{:?}", load_str(&src));
            let nested = on_parse_stack(|| format!("{:?}", load_str(&src)));
            assert!(
                fresh.starts_with("Ok("),
                "{}",
                &fresh[..fresh.len().min(300)]
            );
            assert_eq!(fresh, nested);
        }
    }
}
