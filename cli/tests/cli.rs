//! End-to-end tests of the `dustrun` binary: stdout bytes, exit codes,
//! diagnostics formats and the table-editing workflow.

use std::process::{Command, Output};

mod common;
use common::{dustrun, repo};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_dir(name: &str) -> common::Scratch {
    common::Scratch::new("test", name)
}

#[test]
fn hello_prints_exactly_the_payload_in_both_forms() {
    for f in ["examples/hello.dir", "examples/hello.json"] {
        let o = dustrun(&[f]);
        assert_eq!(o.status.code(), Some(0), "{f}: {}", stderr(&o));
        assert_eq!(stdout(&o), "Hello, Dust!\n", "{f}");
        assert_eq!(stderr(&o), "", "{f}");
    }
}

#[test]
fn realize_prints_effects_in_program_order() {
    let o = dustrun(&["examples/ordered_effects.dir"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "7\n5\n37\n");
}

#[test]
fn simulate_logs_instead_of_realizing() {
    let o = dustrun(&["--simulate", "examples/hello.dir"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    assert!(
        s.contains("outcome: executed")
            && s.contains("[tick 1] emit Hello, Dust!  (Examples::K::main)")
            && s.contains("returned: 0\n"),
        "{s}"
    );
    assert!(!s.lines().any(|l| l == "Hello, Dust!"));
}

#[test]
fn exit_codes_follow_the_outcome() {
    let cases = [
        ("conformance/cases/load/malformed_json.json", 3),
        ("conformance/cases/static/rebinding.dir", 4),
        ("conformance/cases/k/emit_before_false_constraint.json", 10),
        ("conformance/cases/failures/div_zero.dir", 11),
        ("conformance/cases/entry/arg_missing.dir", 2),
        ("conformance/cases/does-not-exist.dir", 2),
    ];
    for (f, code) in cases {
        let o = dustrun(&[f]);
        assert_eq!(o.status.code(), Some(code), "{f}: {}", stderr(&o));
        assert_eq!(
            stdout(&o),
            "",
            "{f}: a stopped run prints nothing on stdout"
        );
    }
}

#[test]
fn nothing_is_realized_before_a_false_constraint() {
    let o = dustrun(&["conformance/cases/k/emit_before_false_constraint.json"]);
    assert_eq!(o.status.code(), Some(10));
    assert_eq!(stdout(&o), "");
    let e = stderr(&o);
    assert!(
        e.contains("E0201") && e.contains("ADM-CONSTRAINT") && e.contains("§7.5.1"),
        "{e}"
    );
    assert!(e.contains("29:31"), "points into the JSON string: {e}");
}

/// Human output shows values as a person writes them, never the trace's
/// tagged JSON; effect payloads keep their canonical (realized) form.
#[test]
fn summaries_print_values_for_people() {
    let s = stdout(&dustrun(&["--simulate", "examples/struct_field.dir"]));
    assert!(s.contains("returned: Candidate { x: 5, y: 7 }\n"), "{s}");
    assert!(
        s.contains("[tick 4] emit {\"shape\":\"Pair\",\"fields\":{\"left\":"),
        "payloads keep their canonical form: {s}"
    );
    assert!(!s.contains("{\"Int\"") && !s.contains("\"Struct\""), "{s}");
    // No control character reaches the terminal raw.
    let d = temp_dir("ctrl");
    let p = d.join("ctrl.dir");
    std::fs::write(
        &p,
        "dir 0.1;\nforge F {\n  proc K main() -> String { return \"b\u{1b}[31mred\"; }\n}\n",
    )
    .unwrap();
    let s = stdout(&dustrun(&["--simulate", p.to_str().unwrap()]));
    assert!(
        s.contains("returned: \"b\\u{1b}[31mred\"") && !s.contains('\u{1b}'),
        "{s:?}"
    );
    let s = stdout(&dustrun(&[
        "--simulate",
        "conformance/cases/phi/exact_i64_sum.dir",
    ]));
    assert!(
        s.contains("Φ witness (exact): x = 1, y = 999999999999\n")
            && s.contains("returned: 999999999999\n"),
        "{s}"
    );
}

/// A run that did not happen is never labelled a warning: the header says
/// what happened, once (issue 14).
#[test]
fn headers_name_the_outcome() {
    let o = dustrun(&["conformance/cases/k/emit_before_false_constraint.json"]);
    let e = stderr(&o);
    assert!(e.starts_with("inadmissible[E0201]: constraint `"), "{e}");
    assert!(
        !e.contains("warning") && !e.contains("inadmissible: "),
        "{e}"
    );
    let o = dustrun(&["--max-steps", "1", "examples/hello.dir"]);
    assert_eq!(o.status.code(), Some(12));
    let e = stderr(&o);
    assert!(
        e.starts_with("undetermined[E0401]: evaluation needs more than 1 steps"),
        "{e}"
    );
    let o = dustrun(&["conformance/cases/static/unknown_field.dir"]);
    assert!(stderr(&o).starts_with("error[E0"), "{}", stderr(&o));
}

#[test]
fn json_diagnostics_carry_the_same_facts() {
    let o = dustrun(&[
        "--error-format",
        "json",
        "conformance/cases/static/unknown_field.dir",
    ]);
    assert_eq!(o.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&o.stderr).expect("stderr is JSON");
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "E0113");
    assert_eq!(d["rule"], "FIELD-UNKNOWN");
    assert_eq!(d["spec"], "§5.9");
    assert_eq!(d["primary"]["span"]["line"], 6);
}

#[test]
fn trace_output() {
    let o = dustrun(&["--simulate", "--emit-trace", "examples/ordered_effects.dir"]);
    assert_eq!(o.status.code(), Some(0));
    let t: serde_json::Value = serde_json::from_slice(&o.stdout).expect("trace JSON");
    assert_eq!(t["outcome"], "executed");
    assert_eq!(t["returned"]["Int"], 37);
    assert_eq!(t["time"]["tick"], 6);
    assert_eq!(t["effects"]["events"].as_array().unwrap().len(), 3);
    assert!(t["artifact"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));

    let d = temp_dir("trace");
    let out = d.join("t.json");
    let o = dustrun(&[
        "conformance/cases/failures/div_zero.dir",
        "--trace-out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(11));
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(t["outcome"], "failed");
    assert_eq!(t["error"]["code"], "E0301");
    assert_eq!(t["effects"]["events"].as_array().unwrap().len(), 0);
    // A run leaves the trace's digests out only where no trace is shown or
    // written: every trace written carries both.
    let digested = |t: &serde_json::Value| {
        [&t["artifact"]["digest"], &t["run"]]
            .iter()
            .all(|d| d.as_str().is_some_and(|d| d.starts_with("sha256:")))
    };
    assert!(digested(&t), "{t}");
    for args in [
        &["--simulate", "examples/ordered_effects.dir"][..],
        &["check", "examples/ordered_effects.dir"],
        &["explain", "examples/ordered_effects.dir"],
    ] {
        let o = dustrun(&[args, &["--trace-out", out.to_str().unwrap()]].concat());
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let t: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert!(digested(&t), "{args:?}: {t}");
    }

    let o = dustrun(&["--emit-trace", "examples/hello.dir"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "realize + --emit-trace would mix outputs"
    );
}

#[test]
fn ledger_effects_need_a_ledger_and_are_checked_first() {
    let o = dustrun(&["examples/audit_log.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stdout(&o),
        "",
        "nothing realized when a realizer is missing"
    );
    assert!(stderr(&o).contains("E0022"));

    let d = temp_dir("ledger");
    let ledger = d.join("ledger.jsonl");
    let o = dustrun(&[
        "examples/audit_log.json",
        "--ledger",
        ledger.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "AUDIT:BEGIN\n1001\nOUTPUT:result\n1055\nAUDIT:END\n"
    );
    let l = std::fs::read_to_string(&ledger).unwrap();
    assert_eq!(l.lines().count(), 1);
    assert!(
        l.contains("\"kind\":\"seal\"") && l.contains("\"payload\":\"1001\""),
        "{l}"
    );
}

#[test]
fn entry_and_args() {
    let o = dustrun(&[
        "--entry",
        "B::K::main",
        "conformance/cases/entry/qualified.dir",
    ]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "B\n"));
    let o = dustrun(&[
        "conformance/cases/entry/args.dir",
        "--arg",
        "c=Candidate{x: 7, y: 5}",
        "--arg",
        "scale=3",
        "--arg",
        "tag=\"hi\"",
    ]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "hi\n"),
        "{}",
        stderr(&o)
    );
    let o = dustrun(&["conformance/cases/entry/args.dir", "--arg", "nonsense"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_realizes_nothing() {
    let o = dustrun(&["check", "examples/hello.dir"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("would occur"));
    assert!(!stdout(&o).lines().any(|l| l == "Hello, Dust!"));
    let o = dustrun(&[
        "check",
        "conformance/cases/k/emit_before_false_constraint.json",
    ]);
    assert_eq!(o.status.code(), Some(10));
}

#[test]
fn fmt_converts_both_ways() {
    let d = temp_dir("fmt");
    let o = dustrun(&["fmt", "--to", "text", "conformance/cases/k/audit_log.json"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.starts_with("dir 0.1;\n"));
    let tp = d.join("a.dir");
    std::fs::write(&tp, &text).unwrap();
    let o = dustrun(&["fmt", "--to", "json", tp.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let jp = d.join("a.json");
    std::fs::write(&jp, &o.stdout).unwrap();
    let o2 = dustrun(&["fmt", "--to", "text", jp.to_str().unwrap()]);
    assert_eq!(stdout(&o2), text, "JSON -> text -> JSON -> text is stable");
    let o = dustrun(&["--simulate", jp.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let o = dustrun(&["fmt", "conformance/cases/load/malformed_json.json"]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn rules_explain_and_version() {
    let o = dustrun(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    let s = stdout(&o);
    assert!(
        s.contains("Q-EFFECT-EMIT") && s.contains("§6.5.2") && s.contains("K-STEP-LET"),
        "{s}"
    );
    let o = dustrun(&["explain", "E0201"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("constraint does not hold") && stdout(&o).contains("ADM-CONSTRAINT")
    );
    assert_eq!(dustrun(&["explain", "E9999"]).status.code(), Some(2));
    // A row of any table names the code it reports, not only 11-checks'.
    let o = dustrun(&["explain", "VERSION-TYPE-WRAPPED"]);
    assert!(stdout(&o).contains("reports: E0130"), "{}", stdout(&o));
    let o = dustrun(&["explain", "E0130", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let rules = v["rules"].as_array().expect("rules");
    for id in [
        "VERSION-TYPE-WRAPPED",
        "VERSION-TYPE-U64",
        "VERSION-STMT-WHILE",
    ] {
        assert!(rules.iter().any(|r| r == id), "{id}: {rules:?}");
    }
    let o = dustrun(&["--version"]);
    assert!(stdout(&o).contains("DPL v0.1"), "{}", stdout(&o));
}

/// The spec-editor workflow from the README: export the tables, edit one
/// row, rerun the corpus, see which cases change.
#[test]
fn edited_tables_change_verdicts_and_conformance_reports_it() {
    let d = temp_dir("rules");
    let tables = d.join("tables");
    let o = dustrun(&["rules", "--export", tables.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = dustrun(&["rules", "--export", tables.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "export never overwrites edits");

    let o = dustrun(&["conformance", "--rules", tables.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "unedited tables change nothing: {}",
        stdout(&o)
    );

    let p = tables.join("04-regimes.ron");
    let text = std::fs::read_to_string(&p).unwrap();
    let edited: Vec<String> = text
        .lines()
        .map(|l| {
            if l.contains("\"Q-EFFECT-EMIT\"") {
                l.replace("verdict: Forbidden", "verdict: Allowed")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&p, edited.join("\n")).unwrap();

    // Allowing a construct that no transition rule performs is refused.
    let o = dustrun(&["--rules", tables.to_str().unwrap(), "examples/hello.dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no transition rule performs it"),
        "{}",
        stderr(&o)
    );

    // With a Q step for emit, a Q process emits.
    let steps = tables.join("08-q-steps.ron");
    let text = std::fs::read_to_string(&steps).unwrap().replace(
        "    steps: [",
        "    steps: [\n        (id: \"Q-STEP-EMIT\", construct: Effect(\"emit\"), actions: [Eval, Tick, Record], cite: \"§6.4\"),",
    );
    std::fs::write(&steps, text).unwrap();
    let o = dustrun(&[
        "--rules",
        tables.to_str().unwrap(),
        "conformance/cases/regimes/q_emit.dir",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "event\n");

    let o = dustrun(&["conformance", "--rules", tables.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let s = stdout(&o);
    assert!(
        s.contains("changed  regimes/q_emit.dir: rejected E0101 -> executed"),
        "{s}"
    );

    std::fs::write(&p, "not ron").unwrap();
    let o = dustrun(&["--rules", tables.to_str().unwrap(), "examples/hello.dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("04-regimes.ron"));
}

#[test]
fn hostile_input_never_crashes() {
    let d = temp_dir("hostile");
    let deep = format!(
        "dir 0.1;\nforge X {{ proc K main() -> i64 {{ return {}1{}; }} }}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("deep.dir", deep.into_bytes()),
        ("deep_braces.json", "{".repeat(200_000).into_bytes()),
        (
            "chain.dir",
            format!(
                "dir 0.1;\nforge X {{ proc K main() -> i64 {{ return 1{}; }} }}\n",
                " Add 1".repeat(100_000)
            )
            .into_bytes(),
        ),
        ("binary.json", (0u8..=255).cycle().take(10_000).collect()),
        ("empty.dir", Vec::new()),
        ("nul.dir", b"dir 0.1;\0\0".to_vec()),
        (
            "overflow.dir",
            b"dir 0.1;\nforge X { proc K main() -> i64 { return 9223372036854775808; } }\n"
                .to_vec(),
        ),
    ];
    for (name, bytes) in inputs {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        let o = dustrun(&[p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(3), "{name}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{name}");
        // Diagnostics name the file as the user gave it (brief 11).
        assert!(
            stderr(&o).contains(p.to_str().unwrap()),
            "{name}: not shown as given: {}",
            stderr(&o)
        );
    }
}

/// Diagnostics on stderr name files as the user gave them, and I/O errors
/// use the operating system's words; traces keep the stable display name,
/// never an absolute path (brief 11).
#[test]
fn paths_are_shown_as_given_and_traces_stay_stable() {
    let d = temp_dir("paths");
    let sub = d.join("some/where");
    std::fs::create_dir_all(&sub).unwrap();
    let typo = sub.join("typo.dir");
    std::fs::write(
        &typo,
        "dir 0.1;\nforge F {\n  proc K main() -> i64 { return nope; }\n}\n",
    )
    .unwrap();
    let given = typo.to_str().unwrap();
    let o = dustrun(&["check", given]);
    assert!(
        stderr(&o).contains(&format!("{given}:3:")),
        "{}",
        stderr(&o)
    );
    let o = dustrun(&["check", "some/where/typo.dir"]);
    assert!(
        stderr(&o).contains("cannot read `some/where/typo.dir`: No such file or directory\n"),
        "{}",
        stderr(&o)
    );
    let ledger = "/nonexistent/dir/l.jsonl";
    let o = dustrun(&["ledger", "verify", ledger]);
    assert!(
        stderr(&o).contains(&format!("`{ledger}`: No such file or directory\n")),
        "{}",
        stderr(&o)
    );
    // The trace of the same absolute input records only its file name.
    let trace = d.join("t.json");
    let o = dustrun(&["check", "--trace-out", trace.to_str().unwrap(), given]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let t = std::fs::read_to_string(&trace).unwrap();
    assert!(t.contains("\"typo.dir\""), "{t}");
    assert!(
        !t.contains(d.to_str().unwrap()),
        "absolute path in the trace: {t}"
    );
    // A usage stop's trace (`not-run`) keeps the stable name and wording
    // too, while stderr shows the path as given in the OS's words.
    let missing = d.join("missing.dir");
    let o = dustrun(&[
        "--trace-out",
        trace.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains(&format!(
            "cannot read `{}`: No such file or directory",
            missing.display()
        )),
        "{}",
        stderr(&o)
    );
    let t = std::fs::read_to_string(&trace).unwrap();
    assert!(
        t.contains("cannot read `missing.dir`: entity not found"),
        "{t}"
    );
    assert!(
        !t.contains(d.to_str().unwrap()),
        "absolute path in the trace: {t}"
    );
}

#[test]
fn the_corpus_runs_from_the_cli() {
    let o = dustrun(&["conformance"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).starts_with("corpus: conformance/cases (snapshots: conformance/snapshots)\n")
    );
    assert!(stdout(&o).contains(", 0 changed"));
}

/// `dustrun conformance` works from any directory: the corpus and its
/// snapshots are built into the binary; `--corpus` still names one on
/// disk, its snapshots beside it (issue 14).
#[test]
fn the_corpus_runs_from_any_directory() {
    let elsewhere = temp_dir("elsewhere");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_dustrun"))
            .current_dir(&elsewhere)
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["conformance"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let s = stdout(&o);
    assert!(s.starts_with("corpus: built into dustrun"), "{s}");
    let n = common::repo().join("conformance/cases");
    let from_disk = run(&["conformance", "--corpus", n.to_str().unwrap()]);
    assert_eq!(from_disk.status.code(), Some(0), "{}", stdout(&from_disk));
    // The same cases either way.
    let last = |o: &std::process::Output| stdout(o).lines().last().unwrap_or("").to_string();
    assert_eq!(last(&o), last(&from_disk));
    assert!(last(&o).ends_with(" cases, 0 changed"), "{}", last(&o));
    let o = run(&["conformance", "--corpus", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error[E0020]: usage error: cannot read corpus"),
        "{}",
        stderr(&o)
    );
}

const GATED: &str = "conformance/cases/programs/gate_never_called.dir";

/// `explain FILE`: the human derivation names the deciding rule, its spec
/// section and the spans of what it decided.
#[test]
fn explain_human_names_rules_spans_and_cites() {
    let o = dustrun(&["explain", GATED]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    for want in [
        "outcome: inadmissible",
        "decided by: ADM-GATE-PHI (§10.6.1), E0205",
        "Examples::K::main [K] at conformance/cases/programs/gate_never_called.dir:7:10: inadmissible (gated) by ADM-GATE-PHI",
        "gate: not admissible by ADM-PHI-FAILS; minimal inadmissible set: c.x Gt 0",
        "latency_us < 5000  — holds by CONTRACT-LATENCY",
        "reaches(Examples::K::main)  by ADM-REACH-ENTRY §8.1 :- entry(Examples::K::main)",
        "uses Console(device = \"stdout\")  — available by RES-REALIZER",
    ] {
        assert!(s.contains(want), "missing `{want}` in:\n{s}");
    }
    // Nothing was realized: the explanation is all that reached stdout.
    assert!(!s.contains("\n12\n"));
}

/// `explain FILE --format json`: the documented schema (docs/explain-schema.md).
#[test]
fn explain_json_follows_the_schema() {
    let o = dustrun(&["explain", GATED, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["explain_version"], 1);
    assert_eq!(v["outcome"], "inadmissible");
    assert_eq!(v["error"]["rule"], "ADM-GATE-PHI");
    assert_eq!(v["error"]["spec"], "§10.6.1");
    let p = &v["program"];
    assert_eq!(p["entry"], "Examples::K::main");
    let procs = p["procs"].as_array().unwrap();
    let main = procs
        .iter()
        .find(|x| x["name"] == "Examples::K::main")
        .unwrap();
    for key in [
        "regime",
        "at",
        "reached",
        "cost_us",
        "verdict",
        "rule",
        "constraints",
        "uses",
        "linearity",
    ] {
        assert!(main.get(key).is_some(), "proc lacks `{key}`");
    }
    let b = &p["bindings"][0];
    assert_eq!(b["gate"]["verdict"], "not admissible");
    assert_eq!(b["gate"]["rule"], "ADM-PHI-FAILS");
    assert_eq!(b["clauses"][1]["verdict"], "holds");
    assert!(p["derived"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == "ADM-GATE-PHI" && d["cite"] == "§10.6.1"));
}

/// `explain FILE --format dot` parses with Graphviz itself: nodes for
/// processes, edges for calls and bindings, verdicts in the labels.
#[test]
fn explain_dot_is_valid_graphviz() {
    for case in [
        GATED,
        "conformance/cases/programs/effects_forbidden.dir",
        "conformance/cases/programs/witness_transfer_allowed.dir",
    ] {
        let o = dustrun(&["explain", case, "--format", "dot"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let dot = stdout(&o);
        assert!(dot.starts_with("digraph admissibility {"), "{dot}");
        assert!(dot.contains("style=dashed, label=\"bind"), "{dot}");
        let mut child = Command::new("dot")
            .args(["-Tcanon"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("Graphviz `dot` is installed (scripts/test installs it)");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{case}: dot refused the graph: {}\n{dot}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dot = stdout(&dustrun(&[
        "explain",
        "conformance/cases/programs/effects_forbidden.dir",
        "--format",
        "dot",
    ]));
    assert!(dot.contains("\"Examples::K::main\" -> \"Examples::K::worker\" [label=\"call\"]"));
    assert!(dot.contains("effects_allowed == false: violated"), "{dot}");
}

/// Φ runs: the witness, or the minimal inadmissible set; Q runs: the
/// linearity derivation.
#[test]
fn explain_shows_phi_witnesses_sets_and_q_linearity() {
    let s = stdout(&dustrun(&[
        "explain",
        "conformance/cases/phi/witness_two_unknowns.dir",
    ]));
    assert!(
        s.contains("Φ witness (exact): c = Candidate { x: 1, y: 10 }\n"),
        "{s}"
    );
    let s = stdout(&dustrun(&[
        "explain",
        "conformance/cases/phi/minimal_set.dir",
    ]));
    assert!(
        s.contains("decided by: PHI-NONEXISTENT") && s.contains("minimal inadmissible set:"),
        "{s}"
    );
    let s = stdout(&dustrun(&[
        "explain",
        "conformance/cases/programs/k_calls_q_transform.dir",
    ]));
    assert!(
        s.contains("linearity: t (linear): bound at") && s.contains("(Q-CONSUMES-USE)"),
        "{s}"
    );
    // Codes and rule ids still explain themselves.
    let s = stdout(&dustrun(&["explain", "ADM-GATE-PHI"]));
    assert!(s.contains("table: 10-admission.ron, spec: §10.6.1"), "{s}");
    assert_eq!(
        dustrun(&["explain", "no-such-thing"]).status.code(),
        Some(2)
    );
}

/// Resources from the command line: a denied Console stops the run before
/// anything is printed; a manifest provides what has no realizer.
#[test]
fn resources_come_from_the_run_configuration() {
    let o = dustrun(&[
        "--deny-resource",
        "Console",
        "conformance/cases/programs/console_denied.dir",
    ]);
    assert_eq!(o.status.code(), Some(10));
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("E0206"), "{}", stderr(&o));
    let nuclear = "conformance/cases/programs/uses_unknown_resource.dir";
    let o = dustrun(&[nuclear]);
    assert_eq!(o.status.code(), Some(10));
    assert_eq!(stdout(&o), "");
    let d = temp_dir("manifest");
    let m = d.join("resources.ron");
    std::fs::write(&m, "(provide: [\"Nuclear\"])").unwrap();
    let o = dustrun(&["--resources", m.to_str().unwrap(), nuclear]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "launch\n");
    std::fs::write(&m, "(provide: [\"Nuclear\"], deny: [\"Nuclear\"])").unwrap();
    assert_eq!(
        dustrun(&["--resources", m.to_str().unwrap(), nuclear])
            .status
            .code(),
        Some(10)
    );
    std::fs::write(&m, "not ron").unwrap();
    assert_eq!(
        dustrun(&["--resources", m.to_str().unwrap(), nuclear])
            .status
            .code(),
        Some(2)
    );
    // Simulate mode provides it as a simulated resource.
    assert_eq!(dustrun(&["--simulate", nuclear]).status.code(), Some(0));
}

/// The README's binding example: adding an impossible constraint to the Φ
/// source stops the K target, which no longer prints anything.
#[test]
fn a_gated_program_realizes_nothing() {
    let o = dustrun(&[GATED]);
    assert_eq!(o.status.code(), Some(10), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let o = dustrun(&[
        "conformance/cases/programs/phi_to_k_contract.json",
        "--entry",
        "consume_phi_value",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Φ-VALUE\n12\n");
}

/// An oversized one-line stream costs the limit's buffer, not multiples of
/// it: the diagnostic shows a window of the line without visiting the
/// rest (it collected the whole 64 MiB line as chars, 333 MB). The child's
/// own peak memory comes from `wait4`, so other tests' processes do not
/// count.
#[test]
// The child is reaped by `libc::wait4` (for its own rusage), not `wait()`.
#[allow(clippy::zombie_processes)]
fn an_oversized_stream_costs_only_the_limit() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dustrun"))
        .current_dir(repo())
        .args(["--simulate", "/dev/stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'a'; 1 << 20];
        // dustrun stops reading at the limit: a broken pipe ends this.
        for _ in 0..200 {
            if input.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: waits for our own child, whose pid we just read.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    writer.join().unwrap();
    assert_eq!(waited, pid);
    assert!(err.contains("E0002"), "{err}");
    assert!(err.lines().all(|l| l.chars().count() < 200), "{err}");
    // ru_maxrss is in KiB: the 64 MiB read buffer and the program itself.
    assert!(usage.ru_maxrss < 150 * 1024, "peak {} KiB", usage.ru_maxrss);
}

/// Endless inputs are read only up to the limit: the size diagnostic comes
/// at once, for programs and for resource manifests alike.
#[test]
fn endless_inputs_stop_at_the_limit() {
    let o = dustrun(&["/dev/zero"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("E0002"), "{}", stderr(&o));
    let o = dustrun(&["--resources", "/dev/zero", "examples/hello.dir"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let o = dustrun(&[
        "--deny-resource",
        "Console(device = \"stdout\")",
        "examples/hello.dir",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("give the resource's name"),
        "{}",
        stderr(&o)
    );
    let o = dustrun(&["explain", "E0206", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["exit"], 10);
    assert_eq!(
        dustrun(&["explain", "E0206", "--format", "dot"])
            .status
            .code(),
        Some(2)
    );
}

/// `explain` follows the evaluation: a process called twice shows its
/// constraint false if either call refused, and the refusal reaches the
/// entry through the calls that led to it, not through every static edge.
#[test]
fn explain_follows_the_refusing_calls() {
    let d = temp_dir("refpath");
    let f = d.join("refpath.dir");
    std::fs::write(
        &f,
        "dir 0.1;\nforge E {\n  proc K c(n: i64) -> i64 { constrain n Gt 0; return n; }\n  proc K b() -> i64 { let v = c(5); return v; }\n  proc K a() -> i64 { let v = c(0 Sub 1); return v; }\n  proc K main() -> i64 { let y = b(); let x = a(); return x; }\n}\n",
    )
    .unwrap();
    let s = stdout(&dustrun(&["explain", f.to_str().unwrap()]));
    assert!(
        s.contains("constrain n Gt 0  — false (ADM-CONSTRAINT)"),
        "{s}"
    );
    assert!(
        s.contains("E::K::b [K] at refpath.dir:4:10: admitted by ADM-REACH-CALL"),
        "{s}"
    );
    assert!(
        s.contains(
            "E::K::a [K] at refpath.dir:5:10: refused by a concrete call by ADM-REFUSED-CALLER"
        ),
        "{s}"
    );
}

/// Output that cannot be written is never reported as success: realizing an
/// effect into a full device stops with exit 15 and says how many effects
/// were realized; other commands exit 2 — never a panic.
#[test]
fn failed_output_is_not_success() {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
    };
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dustrun"))
            .current_dir(repo())
            .args(args)
            .stdout(full())
            .output()
            .expect("dustrun runs")
    };
    let o = run(&["examples/hello.dir"]);
    assert_eq!(o.status.code(), Some(15), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("realization failed")
            && stderr(&o).contains("0 effect(s) before it were realized"),
        "{}",
        stderr(&o)
    );
    for args in [
        &["--simulate", "examples/hello.dir"][..],
        &["fmt", "examples/hello.dir"][..],
        &["rules"][..],
        &["explain", "examples/hello.dir"][..],
        &["--help"][..],
        &["--version"][..],
        &["check", "--help"][..],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
    }
    // A reader that goes away: the pipe breaks partway through.
    let d = temp_dir("pipe");
    let f = d.join("many.dir");
    let mut text = String::from("dir 0.1;\nforge F {\n  proc K main() {\n");
    for i in 0..20000 {
        text.push_str(&format!(
            "    emit \"line {i} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\";\n"
        ));
    }
    text.push_str("    return;\n  }\n}\n");
    std::fs::write(&f, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dustrun"))
        .arg(&f)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(15), "{}", stderr(&o));
}

/// `--trace-out` or `--ledger` naming the program itself is refused before
/// anything runs, and the program is left intact.
#[test]
fn outputs_never_overwrite_the_program() {
    let d = temp_dir("selfwrite");
    let f = d.join("prog.dir");
    let text = std::fs::read_to_string(repo().join("examples/hello.dir")).unwrap();
    std::fs::write(&f, &text).unwrap();
    let p = f.to_str().unwrap();
    for args in [
        vec![p, "--trace-out", p],
        vec![p, "--ledger", p],
        vec!["check", p, "--trace-out", p],
        vec!["explain", p, "--trace-out", p],
    ] {
        let o = dustrun(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{args:?}");
        assert_eq!(std::fs::read_to_string(&f).unwrap(), text, "{args:?}");
    }
}

/// Misspelt names get a "did you mean" from what is in scope (issue 14):
/// identifiers, shapes, fields, processes, effect kinds, types, entries;
/// flags get clap's.
#[test]
fn misspellings_get_a_suggestion() {
    let d = temp_dir("didyoumean");
    let bad = d.join("typo.dir");
    std::fs::write(
        &bad,
        "dir 0.1;\nforge Shop {\n  shape Order { total: i64, count: i64 }\n  proc K helper(x: i64) -> i64 { return x; }\n  proc K main(n: Intt) -> i64 {\n    let o = Ordr { total: 5, count: 1 };\n    let p = Order { total: 5, count: 1 };\n    let total = 3;\n    let a = totl Add 1;\n    let b = p.totl;\n    let c = helpr(1);\n    emitt a;\n    return 0;\n  }\n}\n",
    )
    .unwrap();
    let e = stderr(&dustrun(&["check", bad.to_str().unwrap()]));
    for want in [
        "help: did you mean `Int`?",
        "help: did you mean `Order`?",
        "help: did you mean `total`?\n",
        "help: did you mean `total`? (`Order` has the fields: total, count)",
        "help: did you mean `helper`?",
        "help: did you mean `emit`? (effect kinds are emit, observe, seal)",
    ] {
        assert!(e.contains(want), "missing {want:?} in:\n{e}");
    }
    let e = stderr(&dustrun(&["--entry", "mian", "examples/hello.dir"]));
    assert!(e.contains("did you mean `Examples::K::main`?"), "{e}");
    let e = stderr(&dustrun(&["--entry", "Q::main", "examples/hello.dir"]));
    assert!(e.contains("did you mean `Examples::K::main`?"), "{e}");
    let e = stderr(&dustrun(&["--simulat", "examples/hello.dir"]));
    assert!(e.contains("a similar argument exists: '--simulate'"), "{e}");
    // Nothing close: no guess.
    let e = stderr(&dustrun(&["--entry", "zzzzzz", "examples/hello.dir"]));
    assert!(!e.contains("did you mean"), "{e}");
}

/// Every message, usage errors included, goes through one diagnostic
/// voice: `error[CODE]: category: message`, and JSON under
/// `--error-format json` (issue 14).
#[test]
fn usage_errors_share_one_header_and_honour_json() {
    let cases: [&[&str]; 5] = [
        &[],
        &["--emit-trace", "examples/hello.dir"],
        &["explain", "not-a-rule"],
        &["explain", "--format", "dot", "E0201"],
        &["--rules", "/nonexistent/tables", "examples/hello.dir"],
    ];
    for args in cases {
        let o = dustrun(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(
            e.starts_with("error[E002") && e.contains("]: usage error: "),
            "{args:?}: {e}"
        );
        let mut json_args = vec!["--error-format", "json"];
        json_args.extend_from_slice(args);
        // A subcommand takes the global flag after its name.
        if args.first() == Some(&"explain") {
            json_args = args.to_vec();
            json_args.extend(["--error-format", "json"]);
        }
        let o = dustrun(&json_args);
        let v: serde_json::Value = serde_json::from_str(&stderr(&o))
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stderr(&o)));
        assert_eq!(v["diagnostics"][0]["category"], "usage", "{args:?}");
    }
    // Rule ids are explained in either case, and in both formats.
    let o = dustrun(&["explain", "adm-constraint"]);
    assert!(stdout(&o).starts_with("ADM-CONSTRAINT: "), "{}", stdout(&o));
    let o = dustrun(&["explain", "ADM-CONSTRAINT", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["rule"].as_str(), v["code"].as_str()),
        (Some("ADM-CONSTRAINT"), Some("E0201"))
    );
    // `--format` is still understood as the old spelling when running.
    let o = dustrun(&[
        "--format",
        "json",
        "conformance/cases/static/unknown_field.dir",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stderr(&o)).unwrap();
    assert_eq!(v["diagnostics"][0]["code"], "E0113");
}

/// Syntax errors say what is missing where a person looks (issue 14): a
/// missing `;` at the end of its statement, an unclosed `{` pointed at,
/// a non-ASCII letter in a name named as such.
#[test]
fn syntax_errors_point_where_the_mistake_is() {
    let d = temp_dir("syntax");
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let semi = write(
        "semi.dir",
        "dir 0.1;\nforge F {\n  proc K main() -> i64 {\n    let x = 1 // one\n    let y = 2;\n    return x;\n  }\n}\n",
    );
    let e = stderr(&dustrun(&["check", &semi]));
    assert!(
        e.contains("expected `;` after this statement") && e.contains("semi.dir:4:14"),
        "{e}"
    );
    assert!(e.contains("- the next statement starts here"), "{e}");
    let brace = write(
        "brace.dir",
        "dir 0.1;\nforge F {\n  proc K main() -> i64 {\n    return 0;\n  \n}\n",
    );
    let e = stderr(&dustrun(&["check", &brace]));
    assert!(
        e.contains("the file ends inside a `{ ... }`: expected `}`"),
        "{e}"
    );
    assert!(
        e.contains("2 │ forge F {\n  │         - this `{` is never closed"),
        "{e}"
    );
    let cafe = write(
        "cafe.dir",
        "dir 0.1;\nforge F {\n  proc K main() -> i64 {\n    let café = 1;\n    return 0;\n  }\n}\n",
    );
    let e = stderr(&dustrun(&["check", &cafe]));
    assert!(
        e.contains("`é` cannot be part of a name") && e.contains("cafe.dir:4:12"),
        "{e}"
    );
    let json = write("bad.json", "{\"forges\": tru}");
    let e = stderr(&dustrun(&["check", &json]));
    assert!(!e.contains("jtrue") && !e.contains("json_file"), "{e}");
}

/// Minified JSON shows a window of its one long line around the mistake,
/// and input echoed in a message is capped (issue 14).
#[test]
fn long_lines_show_a_window_and_echoes_are_capped() {
    let d = temp_dir("window");
    let p = d.join("min.json");
    let name = "F".repeat(3000);
    std::fs::write(
        &p,
        format!(r#"{{"forges":[{{"name":"{name}","procs":[{{"regime":"K","name":"main","ret":"i64","body":[{{"Effect":{{"kind":"emit","payload":"nope"}}}},{{"Return":{{"expr":"0"}}}}]}}]}}]}}"#),
    )
    .unwrap();
    let e = stderr(&dustrun(&["check", p.to_str().unwrap()]));
    assert!(
        e.contains("min.json:1:3116: not found in this scope\n"),
        "{e}"
    );
    assert!(
        e.contains(
            r#"…y":[{"Effect":{"kind":"emit","payload":"nope"}},{"Return":{"expr":"0"}}]}]}]}"#
        ),
        "{e}"
    );
    let caret_line = e.lines().find(|l| l.trim_start().starts_with('^')).unwrap();
    assert_eq!(caret_line.trim(), "^^^^", "{e}");
    assert!(e.lines().all(|l| l.chars().count() < 200), "{e}");
    let long = "x".repeat(100_000);
    let e = stderr(&dustrun(&["--entry", &long, "examples/hello.dir"]));
    assert!(e.len() < 1000, "{} bytes echoed", e.len());
    assert!(e.contains("xxx…xxx"), "{e}");
    // Input with a backquote of its own is capped too.
    let odd = format!("a`{long}");
    let e = stderr(&dustrun(&["--entry", &odd, "examples/hello.dir"]));
    assert!(
        e.len() < 1000 && e.contains("xxx…xxx"),
        "{} bytes: {e}",
        e.len()
    );
}

/// `check` validates without entry arguments: a K/Q entry reports what
/// admission needs (exit 0); with every argument it admits as before; a Φ
/// entry without them is its existence question (issue 14).
#[test]
fn check_needs_no_entry_arguments() {
    let f = "conformance/cases/entry/args.dir";
    let o = dustrun(&["check", f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(
            "outcome: validated\nentry: Examples::K::main\nadmission needs: c: Candidate, scale: i32, tag: String"
        ),
        "{}",
        stdout(&o)
    );
    let d = temp_dir("checkneeds");
    let trace = d.join("t.json");
    let o = dustrun(&["check", "--trace-out", trace.to_str().unwrap(), f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    assert_eq!(t["outcome"], "validated");
    // Some arguments given: they are still checked.
    let o = dustrun(&["check", "--arg", "scale=x", f]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    // Every argument: admitted and evaluated, nothing realized.
    let o = dustrun(&[
        "check",
        "--arg",
        "c=Candidate{x: 1, y: 2}",
        "--arg",
        "scale=3",
        "--arg",
        "tag=\"t\"",
        f,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("outcome: executed") && stdout(&o).contains("returned: 9"),
        "{}",
        stdout(&o)
    );
    // What no argument can change is still decided: a denied resource.
    let d = temp_dir("checkdenied");
    let denied = d.join("denied.dir");
    std::fs::write(
        &denied,
        "dir 0.1;\nforge F {\n  proc K main(n: i64) uses Console(device = \"stdout\") { emit n; return; }\n}\n",
    )
    .unwrap();
    let o = dustrun(&[
        "check",
        "--deny-resource",
        "Console",
        denied.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(10), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).starts_with("inadmissible[E0206]"),
        "{}",
        stderr(&o)
    );
    // A static error is still an error without arguments.
    let o = dustrun(&["check", "conformance/cases/static/unknown_field.dir"]);
    assert_eq!(o.status.code(), Some(4));
    // A Φ entry without arguments is its existence question.
    let o = dustrun(&["check", "conformance/cases/phi/exact_i64_sum.dir"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Φ witness (exact): x = 1"),
        "{}",
        stdout(&o)
    );
}

/// Colour on request, by the NO_COLOR and CLICOLOR_FORCE conventions, and
/// never by default when stderr is not a terminal (issue 14).
#[test]
fn colour_follows_the_flag_and_the_conventions() {
    let f = "conformance/cases/static/unknown_field.dir";
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_dustrun"));
        c.current_dir(repo())
            .args(args)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in env {
            c.env(k, v);
        }
        stderr(&c.output().unwrap())
    };
    let esc = '\u{1b}';
    let plain = run(&["check", f], &[]);
    assert!(
        !plain.contains(esc) && plain.starts_with("error[E0113]"),
        "{plain}"
    );
    let coloured = run(&["check", "--color", "always", f], &[]);
    assert!(
        coloured.contains(esc) && coloured.contains("error[E0113]"),
        "{coloured}"
    );
    assert!(run(&["check", f], &[("CLICOLOR_FORCE", "1")]).contains(esc));
    assert!(!run(&["check", f], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains(esc));
    assert!(!run(
        &["check", "--color", "never", f],
        &[("CLICOLOR_FORCE", "1")]
    )
    .contains(esc));
    // The outcome label survives colouring.
    let o = run(
        &[
            "--color",
            "always",
            "conformance/cases/k/emit_before_false_constraint.json",
        ],
        &[],
    );
    assert!(
        o.contains("inadmissible[E0201]") && !o.contains("error[E0201]"),
        "{o}"
    );
}

/// `fmt` keeps comments, each before the declaration or statement that
/// follows it, and is a fixed point (issue 14).
#[test]
fn fmt_keeps_comments() {
    let d = temp_dir("fmtcomments");
    let p = d.join("c.dir");
    std::fs::write(
        &p,
        "// file header\ndir 0.1;\n// the forge\nforge F {\n  // a shape\n  shape P { x: i64 }\n  // the entry\n  proc K main() -> i64 {\n    // first\n    let a = 1; // after a\n    let b = a Add // inside\n      2;\n    return b;\n    // at the end of the body\n  }\n  // at the end of the forge\n}\n// at the end of the file\n",
    )
    .unwrap();
    let o = dustrun(&["fmt", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(
        out,
        "// file header\ndir 0.1;\n\n// the forge\nforge F {\n  // a shape\n  shape P { x: i64 }\n\n  // the entry\n  proc K main() -> i64 {\n    // first\n    let a = 1;\n    // after a\n    let b = a Add 2;\n    // inside\n    return b;\n    // at the end of the body\n  }\n  // at the end of the forge\n}\n\n// at the end of the file\n"
    );
    let again = d.join("again.dir");
    std::fs::write(&again, &out).unwrap();
    assert_eq!(stdout(&dustrun(&["fmt", again.to_str().unwrap()])), out);
    // JSON has no comments to keep.
    let json = stdout(&dustrun(&["fmt", "--to", "json", p.to_str().unwrap()]));
    assert!(!json.contains("//"), "{json}");
}

/// The README's first-run walkthrough is what dustrun really does: its
/// program, its diagnostic, its simulate summary and its replay line.
#[test]
fn the_readme_walkthrough_is_true() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme
        .split("## First run: a walkthrough")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the walkthrough section");
    let blocks: Vec<&str> = section
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|b| {
            b.trim_start_matches(|c: char| c != '\n')
                .trim_start_matches('\n')
        })
        .collect();
    let [program, diagnostic, session, ..] = blocks.as_slice() else {
        panic!("walkthrough blocks: {blocks:?}")
    };
    let d = temp_dir("walkthrough");
    let greet = d.join("greet.dir");
    std::fs::write(&greet, program).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_dustrun"))
            .current_dir(&d)
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["greet.dir"]);
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(stderr(&o).trim_end(), diagnostic.trim_end());
    std::fs::write(&greet, program.replace("return cout;", "return count;")).unwrap();
    let o = run(&["greet.dir"]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "Hello, Dust!\n")
    );
    let o = run(&["--simulate", "--trace-out", "trace.json", "greet.dir"]);
    let replay = run(&["--replay", "trace.json"]);
    let lines: Vec<&str> = session.lines().collect();
    let summary: String = lines[1..lines.len() - 2].join("\n");
    assert_eq!(stdout(&o).trim_end(), summary);
    assert_eq!(stdout(&replay).trim_end(), *lines.last().unwrap());
}

/// `fmt` output always loads, in both directions, at the limits; and a
/// crafted JSON name cannot inject text (issue 14).
#[test]
fn fmt_output_always_loads() {
    let d = temp_dir("fmtloads");
    let deep =
        |open: &str, close: &str, n: usize| format!("{}1{}", open.repeat(n), close.repeat(n));
    let text = format!(
        "dir 0.1;\ntypes {};\nforge F {{\n  proc K main() -> i64 {{\n    @While {};\n    return {};\n  }}\n}}\n",
        deep("[", "]", 64),
        deep("[", "]", 64),
        deep("(", ")", 64)
    );
    let t = d.join("deep.dir");
    std::fs::write(&t, &text).unwrap();
    let o = dustrun(&["fmt", "--to", "json", t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j = d.join("deep.json");
    std::fs::write(&j, stdout(&o)).unwrap();
    let back = dustrun(&["fmt", j.to_str().unwrap()]);
    assert_eq!(
        back.status.code(),
        Some(0),
        "fmt --to json output does not load: {}",
        stderr(&back)
    );
    assert_eq!(
        stdout(&back),
        stdout(&dustrun(&["fmt", t.to_str().unwrap()]))
    );
    // One level more is refused in text as in JSON.
    for (what, bad) in [
        (
            "an expression",
            text.replace(&deep("(", ")", 64), &deep("(", ")", 65)),
        ),
        (
            "a later statement's body",
            text.replacen(
                &format!("@While {}", deep("[", "]", 64)),
                &format!("@While {}", deep("[", "]", 65)),
                1,
            ),
        ),
    ] {
        std::fs::write(&t, bad).unwrap();
        let e = stderr(&dustrun(&["fmt", t.to_str().unwrap()]));
        assert!(
            e.contains(&format!("{what} nests deeper than the limit of 64")),
            "{e}"
        );
    }
    // A dir_version that is not a version would print as text of its own.
    std::fs::write(&j, r#"{"dir_version": "0.1; forge X {}", "forges": []}"#).unwrap();
    let e = stderr(&dustrun(&["fmt", j.to_str().unwrap()]));
    assert!(e.contains("$.dir_version must be a version"), "{e}");
}

/// The spec-editor loop reports every case whose outcome changed in one
/// run, not the first only (issue 14's snapshot workflow, as the CLI sees
/// it; the cargo-test side writes every mismatch as a pending `.snap.new`).
#[test]
fn conformance_lists_every_changed_case_at_once() {
    let d = temp_dir("snapshots");
    let snaps = d.join("snapshots");
    std::fs::create_dir_all(&snaps).unwrap();
    for e in std::fs::read_dir(repo().join("conformance/snapshots")).unwrap() {
        let p = e.unwrap().path();
        let mut text = std::fs::read_to_string(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name == "k__hello_json.snap" || name == "entry__args_dir.snap" {
            text = text.replacen("\"outcome\": \"", "\"outcome\": \"was-", 1);
        }
        std::fs::write(snaps.join(name), text).unwrap();
    }
    let o = dustrun(&["conformance", "--snapshots", snaps.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let s = stdout(&o);
    let changed: Vec<&str> = s.lines().filter(|l| l.starts_with("changed")).collect();
    assert_eq!(changed.len(), 2, "{s}");
    assert!(
        s.contains("changed  entry/args.dir: was-")
            && s.contains("changed  k/hello.json: was-executed -> executed"),
        "{s}"
    );
    assert!(s.trim_end().ends_with(", 2 changed"), "{s}");
}
