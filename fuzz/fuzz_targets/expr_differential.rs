//! Expression strings: the hand-written reader (`fast_expr`) against the
//! normative pest parse. When the shared pre-scan refuses the input, or the
//! fast reader finds a valid expression too deep, pest gives the same
//! error; when the fast reader answers, pest accepts the input and the two
//! trees (spans included) are identical.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let fast = dir_grammar::fuzzing::expr_fast(src);
    let pest = dir_grammar::fuzzing::expr_pest(src);
    match (fast, pest) {
        // The pre-scan's refusal (both run it), or the fast reader's
        // finding that the expression is too deep: pest reports the same.
        (Err(f), p) => {
            let (fe, pe) = (format!("{f:?}"), format!("{:?}", p.as_ref().err()));
            assert!(
                pe == format!("Some({fe})"),
                "fast reader refused {src:?} ({fe}) but pest says {pe}"
            );
        }
        (Ok(None), _) => {}
        (Ok(Some(e)), Ok(p)) => {
            let (fe, pe) = (format!("{e:?}"), format!("{p:?}"));
            assert!(
                fe == pe,
                "fast reader and pest differ on {src:?}\n--- fast ---\n{fe}\n--- pest ---\n{pe}"
            );
        }
        (Ok(Some(e)), Err(p)) => panic!(
            "fast reader accepted {src:?} but pest refused it\n--- fast ---\n{e:?}\n--- pest ---\n{p:?}"
        ),
    }
});
