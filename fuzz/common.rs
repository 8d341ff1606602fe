//! Shared by the loader targets: the canonical-printer round trip that
//! `dustrun fmt` relies on (dir-grammar/src/print.rs, and the corpus test
//! `every_case_round_trips_between_json_and_text`, whose checks this
//! mirrors), checked on every input that loads. Set `DUSTRUN_FUZZ_ROUNDTRIP=0` to fuzz for panics only.
//!
//! The two round-trip findings of the first runs
//! (`json_loader/type-brackets*`, `text_parser/later-*`) were fixed in
//! b97b2e5 and are checked again; open ones are skipped (`skip_known`).

use std::sync::OnceLock;

pub fn roundtrip_enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("DUSTRUN_FUZZ_ROUNDTRIP").map_or(true, |v| v != "0"))
}

/// Skip-list of findings already reported (docs/fuzzing.md, "Findings"),
/// so a run goes on finding new ones. `DUSTRUN_FUZZ_SKIP_KNOWN=0` checks
/// them too. Remove an entry once its finding is fixed.
pub fn skip_known() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("DUSTRUN_FUZZ_SKIP_KNOWN").map_or(true, |v| v != "0"))
}

/// Finding `text_parser/effect-kind-keyword`: textual `let x == 1;` or
/// `call f;` loads as an effect statement whose kind is the keyword `let`
/// / `call` (dir.pest `effect_s = { ident ~ expr ~ ";" }` takes any
/// identifier once the keyword's own rule failed); `fmt --to json` then
/// writes JSON that the JSON loader refuses (E0009, "a statement keyword of
/// textual DIR").
fn has_keyword_effect(p: &dir_grammar::Program) -> bool {
    const KW: [&str; 5] = ["let", "constrain", "prove", "return", "call"];
    p.forges
        .iter()
        .flat_map(|f| &f.procs)
        .flat_map(|pr| &pr.body)
        .any(|st| matches!(&st.kind, dir_grammar::StmtKind::Effect { kind, .. } if KW.contains(&kind.name.as_str())))
}

/// The properties of the corpus test `every_case_round_trips_between_json_and_text`:
/// the text form, comments included, loads again, is a fixed point of
/// `fmt` and keeps every comment; then, without comments (JSON has none),
/// both printed forms load again and print back to the same bytes.
pub fn check_roundtrip(program: &dir_grammar::Program) {
    if !roundtrip_enabled() || (skip_known() && has_keyword_effect(program)) {
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
