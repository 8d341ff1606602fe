//! Textual DIR: UTF-8 input through `dir_grammar::load_text` (on the parse
//! stack, as `load` runs it) and through `dir_grammar::load`. Never panics;
//! for input `load` treats as text, both give the same verdict; a program
//! that loads survives the canonical-printer round trip; the hand-written
//! reader builds the same program with its expressions parsed on a second
//! thread as in place; the grammar words the same error with the items the
//! reader read in full blanked.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        // `load` must refuse it, without panicking.
        assert!(dir_grammar::load(data).is_err(), "invalid UTF-8 loaded");
        return;
    };
    let direct = dir_grammar::on_parse_stack(|| dir_grammar::load_text(src));
    let loaded = dir_grammar::load(data);
    let first = src.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if !first.starts_with('{') && data.len() <= dir_grammar::limits::MAX_INPUT_BYTES {
        match (&loaded, &direct) {
            (Ok(_), Ok(_)) => {}
            (Err(a), Err(b)) => assert_eq!(
                (a.kind, a.span, &a.message),
                (b.kind, b.span, &b.message),
                "load and load_text report different errors"
            ),
            _ => panic!(
                "load and load_text disagree: load ok = {}, load_text ok = {}",
                loaded.is_ok(),
                direct.is_ok()
            ),
        }
    }
    if !first.starts_with('{') {
        let (here, beside) = dir_grammar::fuzzing::text_beside(src);
        assert_eq!(here, beside, "expressions parsed beside differ");
        // With the items read in full blanked, the grammar words the same
        // error as for the whole input, or none.
        if let (Err(b), Err(e)) = (dir_grammar::fuzzing::text_blanked(src), &direct) {
            assert_eq!(
                (b.kind, b.span, &b.message),
                (e.kind, e.span, &e.message),
                "the blanked input words another error"
            );
        }
    }
    if let Ok(p) = &loaded {
        common::check_roundtrip(p);
    }
});
