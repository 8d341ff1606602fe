//! Shared by the loader targets: the canonical-printer round trip that
//! `dustrun fmt` relies on (dir-grammar/src/print.rs, and the corpus test
//! `every_case_round_trips_between_json_and_text`, whose checks this
//! mirrors), checked on every input that loads. Set `DUSTRUN_FUZZ_ROUNDTRIP=0` to fuzz for panics only.
//!
//! Every finding so far (docs/fuzzing.md) is fixed, so nothing is skipped.
//! While one is open, an early return here on a predicate over the loaded
//! program that recognises it (gated by an environment variable, as F3's
//! `has_keyword_effect` was in 5061f21) lets a run go on finding new ones.

use std::sync::OnceLock;

pub fn roundtrip_enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("DUSTRUN_FUZZ_ROUNDTRIP").map_or(true, |v| v != "0"))
}

/// The properties of the corpus test `every_case_round_trips_between_json_and_text`:
/// the text form, comments included, loads again, is a fixed point of
/// `fmt` and keeps every comment; then, without comments (JSON has none),
/// both printed forms load again and print back to the same bytes.
pub fn check_roundtrip(program: &dir_grammar::Program) {
    if !roundtrip_enabled() {
        return;
    }
    use dir_grammar::print::{to_json, to_text};
    let commented = to_text(program);
    let reloaded = match dir_grammar::load_str(&commented) {
        Ok(p) => p,
        Err(e) => {
            panic!("round trip: commented text does not load: {e:?}\n--- text ---\n{commented}")
        }
    };
    let again = to_text(&reloaded);
    assert!(
        again == commented,
        "round trip: fmt is not a fixed point\n--- text ---\n{commented}\n--- text reloaded ---\n{again}"
    );
    assert_eq!(
        reloaded.comments.len(),
        program.comments.len(),
        "round trip: comments lost or gained\n--- text ---\n{commented}"
    );
    let mut program = program.clone();
    program.comments.clear();
    let json = to_json(&program);
    let text = to_text(&program);
    let from_text = match dir_grammar::load_str(&text) {
        Ok(p) => p,
        Err(e) => panic!("round trip: printed text does not load: {e:?}\n--- text ---\n{text}"),
    };
    let from_json = match dir_grammar::load_str(&json) {
        Ok(p) => p,
        Err(e) => panic!("round trip: printed JSON does not load: {e:?}\n--- json ---\n{json}"),
    };
    let json2 = to_json(&from_text);
    assert!(
        json2 == json,
        "round trip: JSON -> text -> JSON differs\n--- json ---\n{json}\n--- json via text ---\n{json2}"
    );
    let text2 = to_text(&from_json);
    assert!(
        text2 == text,
        "round trip: text -> JSON -> text differs\n--- text ---\n{text}\n--- text via json ---\n{text2}"
    );
}
