//! Loader and grammar behaviour that the corpus shows only indirectly.

use dir_grammar::model::{BinOp, ExprKind, StmtKind};
use dir_grammar::print::expr_to_string;
use dir_grammar::{limits, load, load_str, parse_standalone, LoadErrorKind};

#[test]
fn precedence_follows_the_spec_grammar() {
    let cases = [
        ("1 Add 2 Mul 3", "1 Add 2 Mul 3", BinOp::Add),
        ("(1 Add 2) Mul 3", "(1 Add 2) Mul 3", BinOp::Mul),
        ("a Or b And c", "a Or b And c", BinOp::Or),
        ("a Eq b Lt c", "a Eq b Lt c", BinOp::Eq),
        ("1 - 2 - 3", "1 Sub 2 Sub 3", BinOp::Sub),
        ("1 - (2 - 3)", "1 Sub (2 Sub 3)", BinOp::Sub),
        (
            "x <= 1 && y >= 2 || z == 3",
            "x Le 1 And y Ge 2 Or z Eq 3",
            BinOp::Or,
        ),
    ];
    for (src, printed, top) in cases {
        let e = parse_standalone(src).unwrap();
        assert_eq!(expr_to_string(e.root()), printed, "{src}");
        match e.root().kind() {
            ExprKind::Binary { op, .. } => assert_eq!(op, top, "{src}"),
            other => panic!("{src}: {other:?}"),
        }
    }
}

#[test]
fn word_operators_need_a_word_boundary() {
    let e = parse_standalone("Address Add Order").unwrap();
    assert_eq!(expr_to_string(e.root()), "Address Add Order");
    assert!(parse_standalone("x Addy").is_err());
}

#[test]
fn spans_inside_json_strings_are_file_offsets_even_through_escapes() {
    let src = r#"{"forges":[{"name":"F","procs":[{"regime":"K","name":"m","body":[
        {"Effect":{"kind":"emit","payload":"\"a\\tb\" Eq \"c\" And zz Gt 1"}}]}]}]}"#;
    let p = load_str(src).unwrap();
    let StmtKind::Effect { payload, .. } = &p.forges[0].procs[0].body[0].kind else {
        panic!()
    };
    let mut found = None;
    p.expr(*payload).walk(&mut |e| {
        if let ExprKind::Path(s, _) = e.kind() {
            if s.segments().next() == Some("zz") {
                found = Some(e.span());
            }
        }
    });
    let span = found.unwrap();
    assert_eq!(&src[span.start()..span.end()], "zz");
}

#[test]
fn load_errors_have_kinds_and_locations() {
    let cases: [(&[u8], LoadErrorKind); 8] = [
        (b"{\"forges\": [", LoadErrorKind::JsonSyntax),
        (b"{\"forges\": 1}", LoadErrorKind::JsonShape),
        (b"{\"forges\": [{\"name\": \"x\", \"procs\": [{\"regime\": \"Z\", \"name\": \"m\", \"body\": []}]}]}", LoadErrorKind::UnknownRegime),
        (b"dir 0.1; forge X { proc K m() { emit \"\\q\"; } }", LoadErrorKind::BadEscape),
        (b"dir 0.1; forge X { proc K m() { emit \"open; } }", LoadErrorKind::UnterminatedString),
        (b"\xff", LoadErrorKind::InvalidUtf8),
        (b"dir 0.1; forge X { proc K m() { return 99999999999999999999; } }", LoadErrorKind::IntegerRange),
        (b"dir 0.1; forge X { proc K m() { return 1 ++ 2; } }", LoadErrorKind::TextSyntax),
    ];
    for (src, kind) in cases {
        let e = load(src).unwrap_err();
        assert_eq!(
            e.kind,
            kind,
            "{:?}: {}",
            String::from_utf8_lossy(src),
            e.message
        );
        assert!(e.span.end() <= src.len());
    }
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let big = vec![b' '; limits::MAX_INPUT_BYTES + 1];
    assert_eq!(load(&big).unwrap_err().kind, LoadErrorKind::TooLarge);
}

#[test]
fn nesting_limits_hold_without_overflowing_the_stack() {
    // Runs on a test thread (2 MiB stack): the pre-scan refuses before pest recurses.
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(
        parse_standalone(&deep).unwrap_err().kind,
        LoadErrorKind::TooDeep
    );
    let n = limits::MAX_EXPR_NESTING;
    let ok = format!("{}1{}", "(".repeat(n), ")".repeat(n));
    assert!(parse_standalone(&ok).is_ok());
    let chain = vec!["1"; limits::MAX_EXPR_DEPTH + 2].join(" Add ");
    assert_eq!(
        parse_standalone(&chain).unwrap_err().kind,
        LoadErrorKind::TooDeep
    );
    let json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        load_str(&json).unwrap_err().kind,
        LoadErrorKind::JsonSyntax.max(LoadErrorKind::TooDeep)
    );
}

#[test]
fn escapes_decode_as_documented() {
    let e = parse_standalone(r#""q\" b\\ n\n r\r t\t""#).unwrap();
    let ExprKind::Str(s) = e.root().kind() else {
        panic!()
    };
    assert_eq!(s, "q\" b\\ n\n r\r t\t");
}

/// Every program either form loads prints, in the other form, as a program
/// that loads back to the same canonical text (found by the generated
/// round-trip properties in conformance/tests/generated.rs).
#[test]
fn what_one_form_loads_the_other_can_write() {
    use dir_grammar::print::{to_json, to_text};
    let wrap = |body: &str| {
        format!("dir 0.1;\nforge F {{\n  proc K main() {{\n    {body}\n    return;\n  }}\n}}\n")
    };
    // A later statement's tag is capitalised and not a v0.1 statement's:
    // `{"Let": ...}` in JSON is a `let`, so `@Let` cannot be a later one.
    for (body, what) in [
        (
            "@Let {\"name\": \"x\", \"expr\": \"1\"};",
            "is a DIR v0.1 statement",
        ),
        ("@Return {\"expr\": null};", "is a DIR v0.1 statement"),
        ("@while {};", "is not a statement tag"),
        ("@_Tag {};", "is not a statement tag"),
    ] {
        let e = load_str(&wrap(body)).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::UnknownStatement, "{body}");
        assert!(e.message.contains(what), "{body}: {}", e.message);
    }
    assert!(load_str(&wrap("@While {\"cond\": \"true\", \"body\": []};")).is_ok());

    // An effect kind that is a statement keyword would print as that
    // statement: JSON DIR refuses it.
    let json = |kind: &str| {
        format!(
            r#"{{"forges":[{{"name":"F","procs":[{{"regime":"K","name":"main","body":[{{"Effect":{{"kind":"{kind}","payload":"1"}}}}]}}]}}]}}"#
        )
    };
    for kw in ["let", "constrain", "prove", "return", "call"] {
        let e = load_str(&json(kw)).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::JsonShape, "{kw}");
        assert!(e.message.contains("statement keyword"), "{}", e.message);
    }
    assert!(load_str(&json("emit")).is_ok());

    // A quote character, and a later version's wrapped types, survive
    // JSON -> text -> JSON.
    let src = r#"{"forges":[{"name":"F","procs":[{"regime":"K","name":"main","params":[{"name":"a","ty":"K[Q[Int]]"}],"uses":[{"resource":"R","args":[["c",{"Char":"'"}]]}],"ret":"K[Int]","qualifiers":["linear"],"body":[{"Return":{"expr":null}}]}]}]}"#;
    let p = load_str(src).unwrap();
    let text = to_text(&p);
    assert!(text.contains("-> K[Int] [linear]"), "{text}");
    assert!(text.contains("c = '\\''"), "{text}");
    let back = load_str(&text).unwrap_or_else(|e| panic!("{text}\n{}", e.message));
    assert_eq!(to_json(&back), to_json(&p));
    assert_eq!(to_text(&back), text);

    // Only regime wrappers take `[...]`: after any other type the brackets
    // are still the qualifiers, as before.
    let p =
        load_str("dir 0.1;\nforge F {\n  proc K main() -> i64[linear] { return 1; }\n}\n").unwrap();
    let pr = &p.forges[0].procs[0];
    assert_eq!(pr.ret.as_ref().unwrap().name, "i64");
    assert_eq!(pr.qualifiers[0].name, "linear");
    // Type names JSON DIR accepts are exactly the grammar's.
    for bad in ["i64[", "a]b", "Vec[Int]", "K[]", "K[Int"] {
        let src = format!(
            r#"{{"forges":[{{"name":"F","procs":[{{"regime":"K","name":"main","ret":"{bad}","body":[]}}]}}]}}"#
        );
        let e = load_str(&src).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::JsonShape, "{bad}");
    }
}

/// Nothing JSON DIR carries can print as text of its own (issue 14): a
/// crafted version or clause cannot inject a process into `fmt --to text`.
#[test]
fn json_names_cannot_inject_text() {
    use dir_grammar::print::to_text;
    let evil = r#"0.1;\nforge Evil { proc K main() { emit 1; return; } }\n//"#;
    let src = format!(r#"{{"dir_version": "{evil}", "forges": []}}"#);
    let e = load_str(&src).unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::JsonShape);
    assert!(e.message.contains("a version"), "{}", e.message);
    // Clause operators and values that are not plain tokens print quoted.
    let src = r#"{"forges":[{"name":"F","procs":[{"regime":"K","name":"a","body":[]},{"regime":"Φ","name":"b","body":[]}],"binds":[{"source":"Φ::b","target":"K::a","contract":[{"key":"k","op":"<; } proc K x() { } //","value":"1 }; proc K y() {"}]}]}]}"#;
    let p = load_str(src).unwrap();
    let text = to_text(&p);
    let back = load_str(&text).unwrap_or_else(|e| panic!("{text}\n{}", e.message));
    assert_eq!(back.forges[0].procs.len(), 2, "{text}");
    assert_eq!(to_text(&back), text);
}

/// One nesting limit per expression in both forms, so `fmt` output always
/// loads: text that loads gives JSON that loads, and an expression too
/// deep for JSON is refused in text as well (issue 14).
#[test]
fn one_expression_nesting_limit_for_both_forms() {
    use dir_grammar::print::{to_json, to_text};
    let text = |depth: usize| {
        let e = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
        format!("dir 0.1;\nforge F {{\n  proc K main() -> i64 {{ return {e}; }}\n}}\n")
    };
    let ok = load_str(&text(limits::MAX_EXPR_NESTING)).unwrap();
    let json = to_json(&ok);
    let back =
        load_str(&json).unwrap_or_else(|e| panic!("fmt --to json does not load: {}", e.message));
    assert_eq!(to_text(&back), to_text(&ok));
    let e = load_str(&text(limits::MAX_EXPR_NESTING + 1)).unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::TooDeep);
    assert!(
        e.message
            .contains("an expression nests deeper than the limit of 64"),
        "{}",
        e.message
    );
}

/// A call statement's arguments are expressions of their own in both
/// forms: one at the nesting limit in JSON prints as text that loads
/// (found by review).
#[test]
fn call_statement_arguments_have_their_own_limits() {
    use dir_grammar::print::{to_json, to_text};
    let deep = format!(
        "{}1{}",
        "(".repeat(limits::MAX_EXPR_NESTING),
        ")".repeat(limits::MAX_EXPR_NESTING)
    );
    let src = format!(
        r#"{{"forges":[{{"name":"F","procs":[{{"regime":"K","name":"f","params":[{{"name":"a","ty":"i64"}}],"ret":"i64","body":[{{"Return":{{"expr":"a"}}}}]}},{{"regime":"K","name":"main","body":[{{"Call":{{"target":"f","args":["{deep}"],"result":"y"}}}},{{"Return":{{"expr":null}}}}]}}]}}]}}"#
    );
    let p = load_str(&src).unwrap();
    let text = to_text(&p);
    let back = load_str(&text).unwrap_or_else(|e| panic!("{}\n{text}", e.message));
    assert_eq!(to_json(&back), to_json(&p));
}
