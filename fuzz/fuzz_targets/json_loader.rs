//! JSON DIR loader: any bytes through `dir_grammar::load` (which picks the
//! JSON loader when the first non-blank byte is `{`), and UTF-8 input that
//! starts with `{` also straight through `dir_grammar::load_json`. Never
//! panics; `load` and `load_json` agree on JSON-looking input; a program
//! that loads survives the canonical-printer round trip; the hand-written
//! reader builds the same program with its expressions parsed on a second
//! thread as in place, and with statements read ahead from several
//! starts; the reference loader words the same error with the
//! items the reader read in full blanked.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let loaded = dir_grammar::load(data);
    let Ok(src) = std::str::from_utf8(data) else {
        assert!(loaded.is_err(), "invalid UTF-8 loaded");
        return;
    };
    // The same leading blanks `load_str` skips (BOM included).
    let first = src.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if first.starts_with('{') && data.len() <= dir_grammar::limits::MAX_INPUT_BYTES {
        let direct = dir_grammar::on_parse_stack(|| dir_grammar::load_json(src));
        match (&loaded, &direct) {
            (Ok(_), Ok(_)) => {}
            (Err(a), Err(b)) => assert_eq!(
                (a.kind, a.span, &a.message),
                (b.kind, b.span, &b.message),
                "load and load_json report different errors"
            ),
            _ => panic!(
                "load and load_json disagree: load ok = {}, load_json ok = {}",
                loaded.is_ok(),
                direct.is_ok()
            ),
        }
    }
    if first.starts_with('{') {
        // The hand-written reader builds the same program (or gives up
        // alike) whether its expressions are parsed in place or beside.
        let (here, beside) = dir_grammar::fuzzing::json_beside(src);
        assert_eq!(here, beside, "expressions parsed beside differ");
        // Statements read ahead from elsewhere than the middle (a quarter,
        // three quarters, and where the input's first byte says) too.
        let len = src.len();
        for from in [len / 4, len * 3 / 4, len * usize::from(data[0]) / 256] {
            let ahead = dir_grammar::fuzzing::json_ahead(src, from);
            assert_eq!(here, ahead, "statements read ahead from {from} differ");
        }
        // With the items read in full blanked and left out, the reference
        // loader words the same error as for the whole input, or none.
        if let Err(b) = dir_grammar::fuzzing::json_blanked(src) {
            let whole = dir_grammar::on_parse_stack(|| dir_grammar::load_json(src));
            match &whole {
                Err(e) => assert_eq!(
                    (b.kind, b.span, &b.message, &b.notes),
                    (e.kind, e.span, &e.message, &e.notes),
                    "the blanked input words another error"
                ),
                Ok(_) => panic!("the blanked input fails, the whole loads: {}", b.message),
            }
        }
    }
    if let Ok(p) = &loaded {
        common::check_roundtrip(p);
    }
});
