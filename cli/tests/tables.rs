//! The table contract (issue 12): every edit the loader accepts is honoured
//! by the engine, and every edit the engine cannot honour is refused at
//! load with a diagnostic naming the file and the row. Each edit starts
//! from a fresh `dustrun rules --export`.

use std::path::{Path, PathBuf};

mod common;
use common::dustrun;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn scratch(name: &str) -> common::Scratch {
    common::Scratch::new("tables", name)
}

/// Export the built-in tables into a fresh directory.
fn export(dir: &Path) -> PathBuf {
    let tables = dir.join("tables");
    let o = dustrun(&["rules", "--export", tables.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    tables
}

enum Expect {
    /// Refused at load: exit 2, stderr names the file and this text.
    Refused(&'static str, &'static str),
    /// Honoured: the program runs with this exit code and stdout.
    Runs(i32, &'static str),
    /// Honoured: the program is rejected with this exit code and stderr.
    Rejects(i32, &'static str),
}

struct Edit {
    what: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
    /// Arguments after `--rules DIR` (a program and options).
    run: &'static [&'static str],
    expect: Expect,
}

const MUL: &str =
    "dir 0.1;\nforge T {\n  proc K main() {\n    emit 5 Mul 4;\n    return;\n  }\n}\n";

const PROVE: &str = "dir 0.1;\nforge T {\n  proc Φ main(x: i32) -> i32 {\n    prove big from x Gt 5;\n    return x;\n  }\n}\n";

const PHI: &str = "dir 0.1;\nforge T {\n  proc Φ main(x: i32) -> i32 {\n    constrain x Gt 5;\n    return x;\n  }\n}\n";

const Q: &str = "dir 0.1;\nforge T {\n  proc Q main(a: i32) -> i32 {\n    let b = a;\n    let c = a;\n    return b;\n  }\n}\n";

const EDITS: &[Edit] = &[
    Edit {
        what: "an operator's class that does not fit its meaning",
        file: "05-types.ron",
        from: r#"op: "Mul", class: Arith,"#,
        to: r#"op: "Mul", class: Compare,"#,
        run: &["mul.dir"],
        expect: Expect::Refused("05-types.ron", "row `OP-MUL`"),
    },
    Edit {
        what: "an operator's meaning, within its class",
        file: "05-types.ron",
        from: "meaning: Multiply,",
        to: "meaning: Add,",
        run: &["mul.dir"],
        expect: Expect::Runs(0, "9\n"),
    },
    Edit {
        what: "an ordering's meaning, followed by Φ resolution too",
        file: "05-types.ron",
        from: "meaning: Greater,",
        to: "meaning: Less,",
        run: &["--simulate", "phi.dir"],
        expect: Expect::Runs(0, "Φ witness (exact): x = 0\n"),
    },
    Edit {
        what: "a later statement added to the profile, in textual DIR",
        file: "00-profile.ron",
        from: "    later_statements: [",
        to: "    later_statements: [\n        (id: \"VERSION-STMT-MATCH\", statement: \"Match\", since: \"0.3\", code: \"E0130\", cite: \"§14.5\"),",
        run: &["later.dir"],
        expect: Expect::Rejects(4, "E0130"),
    },
    Edit {
        what: "the payload budget, counted over every effect of a run",
        file: "00-profile.ron",
        from: "payload_bytes: 67108864,",
        to: "payload_bytes: 60,",
        run: &["payloads.dir"],
        expect: Expect::Rejects(12, "E0401"),
    },
    Edit {
        what: "a cross-product datalog rule, stopped before it is materialised",
        file: "04-q-linearity.ron",
        from: "            (id: \"Q-LIN-PRED-CONSUME\",",
        to: "            (id: \"X-CROSS\", head: \"cross(A, B, C, D)\", body: [\"edge(A, B)\", \"edge(C, D)\"], cite: \"§4.4.2\"),\n            (id: \"Q-LIN-PRED-CONSUME\",",
        // 30 000 edges: 9·10^8 pairs would need tens of GB.
        run: &["--arg", "v0=1", "chain.dir"],
        expect: Expect::Rejects(12, "E0402"),
    },
    Edit {
        what: "actions a construct's step cannot perform",
        file: "08-k-steps.ron",
        from: "actions: [Eval, Bind, Tick],            cite: \"§8.4.1\"",
        to: "actions: [Defer, Witness, Record, Bind, Tick], cite: \"§8.4.1\"",
        run: &["mul.dir"],
        expect: Expect::Refused("08-k-steps.ron", "row `K-STEP-LET`"),
    },
    Edit {
        what: "an exit row that does more than check constraints",
        file: "08-k-steps.ron",
        from: "actions: [CheckConstraints], cite: \"§7.5.1\"",
        to: "actions: [CheckConstraints, Tick, Record], cite: \"§7.5.1\"",
        run: &["mul.dir"],
        expect: Expect::Refused("08-k-steps.ron", "row `K-EXIT-CONSTRAINTS`"),
    },
    Edit {
        what: "a check the engine reports by id, deleted",
        file: "11-checks.ron",
        from: "(id: \"PHI-UNDETERMINED\"",
        to: "(id: \"PHI-UNDECIDED\"",
        run: &["phi.dir"],
        // The refusal names the row and what in the engine relies on it.
        expect: Expect::Refused(
            "11-checks.ron",
            "row `PHI-UNDETERMINED` (Φ resolution reports a question it could not decide)",
        ),
    },
    Edit {
        what: "a linearity input relation renamed",
        file: "04-q-linearity.ron",
        from: "name: \"use\",",
        to: "name: \"uses\",",
        run: &["q.dir"],
        expect: Expect::Refused("04-q-linearity.ron", "`uses`"),
    },
    Edit {
        what: "a primitive range that is empty",
        file: "05-types.ron",
        from: "(name: \"i32\",  kind: Int(min: -2147483648, max: 2147483647))",
        to: "(name: \"i32\",  kind: Int(min: 10, max: -10))",
        run: &["phi.dir"],
        expect: Expect::Refused("05-types.ron", "`i32`"),
    },
    Edit {
        what: "a duplicate primitive",
        file: "05-types.ron",
        from: "(name: \"f32\",  kind: Float(single: true)),",
        to: "(name: \"f32\",  kind: Float(single: true)),\n        (name: \"f32\",  kind: Float(single: false)),",
        run: &["mul.dir"],
        expect: Expect::Refused("05-types.ron", "`f32`"),
    },
    Edit {
        what: "a duplicate time cost",
        file: "09-time.ron",
        from: "(construct: Let,               cost_us: 1),",
        to: "(construct: Let,               cost_us: 1),\n        (construct: Let,               cost_us: 7),",
        run: &["mul.dir"],
        expect: Expect::Refused("09-time.ron", "let"),
    },
    Edit {
        what: "a Φ prove that no longer requires its predicate",
        file: "08-phi-steps.ron",
        from: "actions: [Eval, Witness, Bind], cite: \"§7.6\"",
        to: "actions: [Eval], cite: \"§7.6\"",
        run: &["--simulate", "prove.dir"],
        expect: Expect::Runs(0, "Φ witness (exact): x = 0\n"),
    },
    Edit {
        what: "Φ constraints deferred but never checked at exit",
        file: "08-phi-steps.ron",
        from: "actions: [CheckConstraints], cite: \"§7.5.3\"",
        to: "actions: [], cite: \"§7.5.3\"",
        run: &["--simulate", "phi.dir"],
        expect: Expect::Runs(0, "Φ witness (exact): x = 0\n"),
    },
    Edit {
        what: "a later statement added to the profile, in both DIR forms",
        file: "00-profile.ron",
        from: "    later_statements: [",
        to: "    later_statements: [\n        (id: \"VERSION-STMT-MATCH\", statement: \"Match\", since: \"0.3\", code: \"E0130\", cite: \"§14.5\"),",
        run: &["later.json"],
        expect: Expect::Rejects(4, "E0130"),
    },
];

#[test]
fn each_edit_is_honoured_or_refused_at_load() {
    let d = scratch("edits");
    for (name, body) in [
        ("mul.dir", MUL),
        ("prove.dir", PROVE),
        ("phi.dir", PHI),
        ("q.dir", Q),
    ] {
        std::fs::write(d.join(name), body).unwrap();
    }
    let lets: String = (1..30_000)
        .map(|i| format!("    let v{i} = v{} Add 1;\n", i - 1))
        .collect();
    std::fs::write(
        d.join("chain.dir"),
        format!("dir 0.1;\nforge T {{\n  proc Q main(v0: i64) -> i64 [linear] {{\n{lets}    return v29999;\n  }}\n}}\n"),
    )
    .unwrap();
    // Eight emits of a 37-byte payload: past a 60-byte budget.
    let emits = "    emit p;\n".repeat(8);
    std::fs::write(
        d.join("payloads.dir"),
        format!("dir 0.1;\nforge T {{\n  shape P {{ x: i32, y: i32 }}\n  proc K main() {{\n    let p = P {{ x: 1, y: 2 }};\n{emits}    return;\n  }}\n}}\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("later.dir"),
        "dir 0.1;\nforge T {\n  proc K main() {\n    @Match {};\n    return;\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("later.json"),
        r#"{"forges": [{"name": "T", "shapes": [], "binds": [], "procs": [{"regime": "K", "name": "main", "params": [], "uses": [], "ret": null, "qualifiers": [], "body": [{"Match": {}}, {"Return": {"expr": null}}]}]}]}"#,
    )
    .unwrap();
    let mut failures = Vec::new();
    for (i, e) in EDITS.iter().enumerate() {
        let tables = export(&d.join(format!("edit{i}")));
        let path = tables.join(e.file);
        let before = std::fs::read_to_string(&path).unwrap();
        assert!(
            before.contains(e.from),
            "{}: `{}` not in {}",
            e.what,
            e.from,
            e.file
        );
        std::fs::write(&path, before.replacen(e.from, e.to, 1)).unwrap();
        let mut args = vec!["--rules", tables.to_str().unwrap()];
        let runs: Vec<String> = e
            .run
            .iter()
            .map(|a| {
                if a.starts_with("--") || a.contains('=') {
                    a.to_string()
                } else {
                    d.join(a).to_str().unwrap().to_string()
                }
            })
            .collect();
        args.extend(runs.iter().map(|s| s.as_str()));
        let o = dustrun(&args);
        let (out, err) = (text(&o.stdout), text(&o.stderr));
        let ok = match &e.expect {
            Expect::Refused(file, needle) => {
                o.status.code() == Some(2) && err.contains(file) && err.contains(needle)
            }
            Expect::Runs(code, needle) => o.status.code() == Some(*code) && out.contains(needle),
            Expect::Rejects(code, needle) => o.status.code() == Some(*code) && err.contains(needle),
        };
        if !ok {
            failures.push(format!(
                "{}: exit {:?}\nstdout: {out}\nstderr: {err}",
                e.what,
                o.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn an_untouched_export_is_the_built_in_tables() {
    let d = scratch("untouched");
    let tables = export(&d);
    let trace = |extra: &[&str], name: &str| {
        let out = d.join(name);
        let mut args = extra.to_vec();
        args.extend([
            "--simulate",
            "--trace-out",
            out.to_str().unwrap(),
            "examples/hello.dir",
        ]);
        let o = dustrun(&args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        std::fs::read(out).unwrap()
    };
    assert_eq!(
        trace(&[], "builtin.json"),
        trace(&["--rules", tables.to_str().unwrap()], "exported.json"),
        "same rules digest, same trace bytes"
    );
    let o = dustrun(&["rules"]);
    let p = dustrun(&["rules", "--rules", tables.to_str().unwrap()]);
    assert_eq!(o.stdout, p.stdout);
}
