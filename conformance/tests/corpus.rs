//! The conformance corpus as tests: one reviewed snapshot per case, rule
//! coverage, round trips, determinism, and the no-partial-execution invariant.

use conformance::{discover, run_case, snapshot_text, Case};
use engine::{Engine, Outcome, Tables};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn cases() -> Vec<Case> {
    discover(&root().join("cases")).expect("corpus is readable")
}

fn engine() -> Engine {
    Engine::new(Tables::defaults().expect("default tables")).expect("engine")
}

/// An engine whose tables are the defaults with one file edited.
fn edited_engine(file: &str, edit: impl Fn(&str) -> String) -> Engine {
    edited_engine_many(&[(file, &edit)])
}

/// A table file's name and an edit of its text.
type Edit<'a> = (&'a str, &'a dyn Fn(&str) -> String);

/// The defaults with several files edited.
fn edited_engine_many(edits: &[Edit<'_>]) -> Engine {
    let files = Tables::default_files()
        .into_iter()
        .map(|(n, t)| {
            let edited = edits.iter().find(|(f, _)| *f == n).map(|(_, e)| e(t));
            (n.to_string(), edited.unwrap_or_else(|| t.to_string()))
        })
        .collect();
    Engine::new(Tables::from_sources(files).expect("edited tables validate")).expect("engine")
}

/// Every case against its reviewed snapshot. All mismatches of a run are
/// reported (and, under insta's default `INSTA_UPDATE`, written as pending
/// `.snap.new` files together), not only the first: `cargo insta review`
/// then walks through every change at once.
#[test]
fn corpus_matches_reviewed_snapshots() {
    let engine = engine();
    let cases = cases();
    assert!(cases.len() > 80, "corpus too small: {}", cases.len());
    let mut mismatched = Vec::new();
    for case in &cases {
        let r = run_case(&engine, case).unwrap();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root().join("snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(case.config.about.clone().unwrap_or_else(|| case.id.clone()));
        let text = snapshot_text(&r);
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(case.snapshot_name(), text));
        }));
        if checked.is_err() {
            mismatched.push(case.id.clone());
        }
    }
    assert!(
        mismatched.is_empty(),
        "{} case(s) differ from their reviewed snapshots: {mismatched:?}; review with `cargo insta review` (README, \"Changing the semantics\")",
        mismatched.len()
    );
}

#[test]
fn every_rule_id_is_exercised_by_a_case() {
    let engine = engine();
    let mut fired = BTreeSet::new();
    for case in cases() {
        let r = run_case(&engine, &case).unwrap();
        fired.extend(r.report.trace.rules.iter().cloned());
    }
    let missing: Vec<String> = engine
        .tables()
        .rules()
        .into_iter()
        .map(|r| r.id)
        .filter(|id| !fired.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "rule ids no conformance case exercises: {missing:?}"
    );
}

#[test]
fn every_snapshot_belongs_to_a_case() {
    let names: BTreeSet<String> = cases()
        .iter()
        .map(|c| format!("{}.snap", c.snapshot_name()))
        .collect();
    let mut stale = Vec::new();
    for e in std::fs::read_dir(root().join("snapshots")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        // A pending `.snap.new` is insta's review queue, reported by the
        // snapshot test itself, not a stale snapshot.
        if !names.contains(&name) && !name.ends_with(".snap.new") {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "snapshots without a case (renamed or deleted cases): {stale:?}"
    );
}

#[test]
fn every_case_round_trips_between_json_and_text() {
    let mut checked = 0;
    for case in cases() {
        let bytes = std::fs::read(&case.path).unwrap();
        let Ok(mut program) = dir_grammar::load(&bytes) else {
            continue;
        };
        // Text keeps its comments through `fmt` (and is a fixed point with
        // them); JSON has none, so the forms are compared without them.
        let commented = dir_grammar::print::to_text(&program);
        let reloaded = dir_grammar::load_str(&commented)
            .unwrap_or_else(|e| panic!("{}: commented text does not load: {e:?}", case.id));
        assert_eq!(
            dir_grammar::print::to_text(&reloaded),
            commented,
            "{}: fmt is not a fixed point",
            case.id
        );
        assert_eq!(
            reloaded.comments.len(),
            program.comments.len(),
            "{}",
            case.id
        );
        program.comments.clear();
        let json = dir_grammar::print::to_json(&program);
        // The streamed printer and the tree it replaced write the same bytes.
        let tree = dir_grammar::print::to_json_value(&program);
        assert_eq!(
            json,
            format!("{}\n", serde_json::to_string_pretty(&tree).unwrap()),
            "{}: streamed JSON differs from the tree's",
            case.id
        );
        let text = dir_grammar::print::to_text(&program);
        let from_text = dir_grammar::load_str(&text)
            .unwrap_or_else(|e| panic!("{}: text form does not load: {e:?}\n{text}", case.id));
        let from_json = dir_grammar::load_str(&json)
            .unwrap_or_else(|e| panic!("{}: JSON form does not load: {e:?}", case.id));
        assert_eq!(
            dir_grammar::print::to_json(&from_text),
            json,
            "{}: JSON -> text -> JSON differs",
            case.id
        );
        assert_eq!(
            dir_grammar::print::to_text(&from_json),
            text,
            "{}: text -> JSON -> text differs",
            case.id
        );
        checked += 1;
    }
    assert!(checked > 60);
}

#[test]
fn runs_are_deterministic() {
    let engine = engine();
    for case in cases() {
        let a = run_case(&engine, &case).unwrap();
        let b = run_case(&engine, &case).unwrap();
        assert_eq!(
            a.report.trace.to_json(),
            b.report.trace.to_json(),
            "{}",
            case.id
        );
        assert_eq!(a.rendered, b.rendered, "{}", case.id);
    }
}

/// A run's trace and human diagnostics with the entry evaluated beside its
/// check or after it.
fn run_with(
    engine: &Engine,
    id: &str,
    bytes: &[u8],
    cfg: &engine::RunConfig,
    overlap: engine::Overlap,
) -> String {
    let mut cfg = cfg.clone();
    cfg.overlap = overlap;
    let run = rendered_run(engine, id, bytes, &cfg);
    // An evaluation beside the check always binds the check's binders in
    // the check's slots (were it not so, its run would be made again after
    // the check, and the comparison would not see it).
    assert_eq!(
        engine::runs_beside_disagreed(),
        0,
        "{id}: evaluated beside the check with binders other than the check's"
    );
    run
}

/// A run's trace and rendered diagnostics.
fn rendered_run(engine: &Engine, id: &str, bytes: &[u8], cfg: &engine::RunConfig) -> String {
    let src = engine::Source { name: id, bytes };
    let report = engine.run(&src, cfg);
    let rendered: String = report
        .diagnostics
        .iter()
        .map(|d| engine::render::human(&src, d))
        .collect();
    format!("{}{rendered}", report.trace.to_json())
}

/// Large generated bodies (textual DIR), each of `n` rounds of `round`
/// (`{i}` its number, `{p}` the last one's) after `head`, with `tail`.
fn generated(head: &str, round: &str, tail: &str, n: usize) -> String {
    let mut s = format!("dir 0.1;\nforge G {{\n{head}");
    for i in 1..=n {
        s.push_str(
            &round
                .replace("{i}", &i.to_string())
                .replace("{p}", &(i - 1).to_string()),
        );
    }
    s.push_str(tail);
    s.push_str("\n}\n");
    s
}

/// Evaluating the entry beside its check (`Overlap`) changes nothing: every
/// case, and large generated bodies of what the evaluation beside handles,
/// waits for, or gives up on, give the same trace and diagnostics byte for
/// byte both ways; and the comparison compared evaluations made beside.
#[test]
fn evaluation_beside_the_check_changes_nothing() {
    use engine::{Mode, Overlap, RunConfig};
    let engine = engine();
    for case in cases() {
        let bytes = std::fs::read(&case.path).unwrap();
        let cfg = case.run_config();
        assert_eq!(
            run_with(&engine, &case.id, &bytes, &cfg, Overlap::Never),
            run_with(&engine, &case.id, &bytes, &cfg, Overlap::Always),
            "{}",
            case.id
        );
    }
    let k = "  shape P { a: i64, b: i64 }\n  proc K main() -> i64 {\n    let v0 = 1;\n";
    let k_round = "    constrain v{p} Gt -9223372036854775807;\n    let w{i} = v{p} Div 3;\n    let x{i} = P{a: w{i}, b: 1}.a;\n    emit x{i};\n    let v{i} = (x{i} Add {i}) Mul 2 Sub x{i};\n    let t{i} = v{i} Lt x{i};\n    let u{i} = t{i} And true;\n";
    let ret = "    return v300;\n  }";
    let i32_head = "  shape S { x: i32 }\n  proc K main() -> i64 {\n    let a = 2147483000;\n    let v0 = 0;\n";
    let programs: Vec<(&str, String, RunConfig)> = vec![
        // Every statement kind it evaluates; literal variables decided
        // later (`v0`, each `w`); comparisons and booleans.
        ("k", generated(k, k_round, ret, 300), RunConfig::new(Mode::Simulate)),
        // A step budget that stops it part way.
        ("k-budget", generated(k, k_round, ret, 300), RunConfig { max_steps: Some(700), ..RunConfig::new(Mode::Simulate) }),
        // Rejected late (a name bound twice): nothing evaluated counts.
        ("k-rejected", generated(k, k_round, "    let v7 = 1;\n    return v300;\n  }", 300), RunConfig::new(Mode::Simulate)),
        // A constraint that fails at the end.
        ("k-refused", generated(k, k_round, "    constrain v300 Lt 0;\n    return v300;\n  }", 300), RunConfig::new(Mode::Simulate)),
        // An operator whose width (i32) is decided by a later use: it
        // overflows where i32 does.
        ("i32-late", generated(i32_head, "    let v{i} = v{p} Add 1;\n", "    let b = a Add 1000;\n    let s = S{x: a};\n    return v300;\n  }", 300), RunConfig::new(Mode::Simulate)),
        // Floats, calls and witnesses: it gives up, the run evaluates after.
        ("floats", generated("  proc K main() -> f64 {\n    let v0 = 0.5;\n", "    let v{i} = v{p} Add 0.25;\n", "    return v300;\n  }", 300), RunConfig::new(Mode::Simulate)),
        ("calls", generated("  proc K one() -> i64 {\n    return 1;\n  }\n  proc K main() -> i64 {\n    let v0 = 0;\n", "    let v{i} = v{p} Add 1;\n", "    let c = one();\n    return v300 Add c;\n  }", 300), RunConfig::new(Mode::Simulate)),
        // Constraints naming what is bound after them, of literal variables
        // whose width a later use decides (i32) or the default does: their
        // evaluation waits on the check's pass over the constraints.
        ("constraints-later", generated("  shape S { x: i32 }\n  proc K main() -> i64 {\n    let v0 = 0;\n", "    constrain w{i} Gt 3;\n    constrain d{i} Lt 2147483647;\n    let v{i} = v{p} Add 1;\n    let w{i} = 5;\n    let d{i} = 7;\n    let s{i} = S{x: w{i}};\n", "    constrain v300 Lt 0 Or v1 Gt 0;\n    return v300;\n  }", 300), RunConfig::new(Mode::Simulate)),
        ("constraints-later-refused", generated("  shape S { x: i32 }\n  proc K main() -> i64 {\n    let v0 = 0;\n", "    constrain w{i} Gt 3;\n    let v{i} = v{p} Add 1;\n    let w{i} = 5;\n    let s{i} = S{x: w{i}};\n", "    constrain v300 Lt 0;\n    constrain w5 Lt 0;\n    return v300;\n  }", 300), RunConfig::new(Mode::Simulate)),
        // Numbers compared for equality (an operator the check gives no
        // width: not waited for).
        ("eq", generated(k, "    let v{i} = v{p} Add 1;\n    let e{i} = v{i} Eq 7;\n    let f{i} = e{i} Eq (v{p} Lt 3);\n", ret, 300), RunConfig::new(Mode::Simulate)),
        // Parameters given as arguments.
        ("args", generated("  proc K main(p: i64, q: bool) -> i64 {\n    let v0 = p;\n", "    let v{i} = v{p} Sub 1;\n    let z{i} = q And true;\n", "    return v300;\n  }", 300), RunConfig { args: vec![RunConfig::arg("p=7"), RunConfig::arg("q=true")], ..RunConfig::new(Mode::Simulate) }),
    ];
    // Those whose run uses the evaluation made beside the check (`Always`
    // evaluates to the end however far the check gets ahead): all but the
    // rejected one and those it gives up on (floats, calls).
    let not_beside = ["k-rejected", "floats", "calls"];
    for (id, src, cfg) in &programs {
        let never = run_with(&engine, id, src.as_bytes(), cfg, Overlap::Never);
        let before = engine::runs_evaluated_beside();
        let always = run_with(&engine, id, src.as_bytes(), cfg, Overlap::Always);
        assert_eq!(never, always, "{id}");
        // (Other tests running at the same time can only add to the count.)
        if !not_beside.contains(id) {
            assert!(
                engine::runs_evaluated_beside() > before,
                "{id} was not evaluated beside"
            );
        }
    }
}

/// Hashing a body's names all at once before its check, or as they are
/// bound (`NameHashing`), changes nothing: every case, and generated
/// bodies with what the names decide (a name bound twice, a parameter
/// named twice, a use before the binding, constraints naming what is bound
/// after them, a misspelt name, Q linearity), trace and diagnostics byte
/// for byte, evaluated beside the check and not.
#[test]
fn hashing_names_at_once_changes_nothing() {
    use engine::{Mode, NameHashing, Overlap, RunConfig};
    let engine = engine();
    let both = |id: &str, bytes: &[u8], cfg: &RunConfig| {
        for overlap in [Overlap::Never, Overlap::Always] {
            let run = |names| {
                let cfg = RunConfig {
                    names,
                    overlap,
                    ..cfg.clone()
                };
                rendered_run(&engine, id, bytes, &cfg)
            };
            assert_eq!(
                run(NameHashing::AsBound),
                run(NameHashing::AtOnce),
                "{id} {overlap:?}"
            );
        }
    };
    for case in cases() {
        let bytes = std::fs::read(&case.path).unwrap();
        both(&case.id, &bytes, &case.run_config());
    }
    let k = "  proc K main(p: i64, q: i64) -> i64 {\n    let v0 = p;\n";
    let round = "    constrain w{i} Gt v{p};\n    let v{i} = v{p} Add q;\n    let w{i} = v{i} Mul 2;\n    emit w{i};\n";
    let q = "  proc Q main(v0: i64) -> i64 [linear] {\n";
    let programs: Vec<(&str, String, RunConfig)> = vec![
        ("k", generated(k, round, "    return v200;\n  }", 200), RunConfig { args: vec![RunConfig::arg("p=1"), RunConfig::arg("q=2")], ..RunConfig::new(Mode::Simulate) }),
        ("k-again", generated(k, round, "    let v17 = 1;\n    let q = 2;\n    return v200;\n  }", 200), RunConfig::new(Mode::Check)),
        ("k-params-twice", generated("  proc K main(p: i64, p: i64) -> i64 {\n    let v0 = p;\n", round, "    return v200;\n  }", 200), RunConfig::new(Mode::Check)),
        ("k-later", generated(k, round, "    let z = y Add 1;\n    let y = 1;\n    let u = v2000 Add vv3;\n    return z;\n  }", 200), RunConfig::new(Mode::Check)),
        ("q", generated(q, "    let v{i} = v{p} Add 1;\n", "    return v200;\n  }", 200), RunConfig { args: vec![RunConfig::arg("v0=1")], ..RunConfig::new(Mode::Simulate) }),
        ("q-twice", generated(q, "    let v{i} = v{p} Add 1;\n", "    let x = v200 Add v200;\n    return x;\n  }", 200), RunConfig { args: vec![RunConfig::arg("v0=1")], ..RunConfig::new(Mode::Simulate) }),
    ];
    for (id, src, cfg) in &programs {
        both(id, src.as_bytes(), cfg);
    }
}

/// Brief §12: every case's trace replays to an identical trace, and an
/// edited artifact or edited tables are refused by digest before anything
/// runs.
#[test]
fn every_case_replays_identically_and_edits_are_refused() {
    use engine::replay;
    let engine = engine();
    let tables = &engine.tables().digest;
    let mut replayed = 0;
    for case in cases() {
        let r = run_case(&engine, &case).unwrap();
        let recorded = r.report.trace.to_json();
        let open = replay::in_memory(recorded.as_bytes());
        let rec = replay::parse(&open).unwrap_or_else(|e| panic!("{}: {e}", case.id));
        let bytes = std::fs::read(&case.path).unwrap();
        assert_eq!(rec.changed(&bytes, tables), None, "{}", case.id);
        let src = engine::Source {
            name: &rec.name,
            bytes: &bytes,
        };
        let again = engine.run(&src, &rec.config);
        let now: serde_json::Value = serde_json::from_str(&again.trace.to_json()).unwrap();
        assert_eq!(
            replay::first_divergence(&open, &now, None),
            Ok(None),
            "{}",
            case.id
        );
        let mut edited = bytes.clone();
        edited.extend_from_slice(b"\n");
        let why = rec
            .changed(&edited, tables)
            .expect("an edit changes the digest");
        assert!(why.contains("the artifact changed"), "{why}");
        let why = rec
            .changed(&bytes, "sha256:other")
            .expect("other tables are refused");
        assert!(why.contains("the rule tables changed"), "{why}");
        replayed += 1;
    }
    assert!(replayed > 200);
}

#[test]
fn no_effect_unless_executed_and_every_code_is_catalogued() {
    let engine = engine();
    for case in cases() {
        let r = run_case(&engine, &case).unwrap();
        let t = &r.report.trace;
        if t.outcome != Outcome::Executed {
            assert!(
                r.report.events().is_empty(),
                "{}: effects recorded for a {:?} run",
                case.id,
                t.outcome
            );
            let e = t.error.as_ref().expect("a stop has an error");
            let entry = engine
                .tables()
                .entry(&e.code)
                .unwrap_or_else(|| panic!("{}: code {} not catalogued", case.id, e.code));
            assert!(!entry.explanation.is_empty());
            assert!(
                semantics::valid_cite(&e.spec),
                "{}: bad cite {}",
                case.id,
                e.spec
            );
        } else {
            assert!(t.error.is_none());
        }
    }
}

/// Rules are data: flipping one row of `04-regimes.ron` flips the static
/// verdict on a Q program that emits, with no code change.
#[test]
fn editing_a_regime_row_changes_the_static_verdict() {
    let src = std::fs::read(root().join("cases/regimes/q_emit.dir")).unwrap();
    let program = dir_grammar::load(&src).unwrap();

    let defaults = engine();
    let errs = defaults.check_static(&program).unwrap_err();
    assert_eq!(errs[0].rule.as_deref(), Some("Q-EFFECT-EMIT"));
    assert_eq!(errs[0].code, "E0101");

    // Allowing emit in Q also needs a Q transition rule that performs it;
    // the loader refuses a table that allows a construct nothing performs.
    let allow = |t: &str| {
        t.lines()
            .map(|l| {
                if l.contains("\"Q-EFFECT-EMIT\"") {
                    l.replace("verdict: Forbidden", "verdict: Allowed")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let files: Vec<(String, String)> = Tables::default_files()
        .into_iter()
        .map(|(n, t)| {
            (
                n.to_string(),
                if n == "04-regimes.ron" {
                    allow(t)
                } else {
                    t.to_string()
                },
            )
        })
        .collect();
    let refused = match Tables::from_sources(files) {
        Ok(_) => panic!("a construct nothing performs must be refused"),
        Err(e) => e,
    };
    assert!(
        refused.message.contains("no transition rule performs it"),
        "{refused}"
    );
    let step = |t: &str| {
        t.replace(
            "    steps: [",
            "    steps: [\n        (id: \"Q-STEP-EMIT\", construct: Effect(\"emit\"), actions: [Eval, Tick, Record], cite: \"§6.4\"),",
        )
    };
    let edited = edited_engine_many(&[("04-regimes.ron", &allow), ("08-q-steps.ron", &step)]);
    assert!(
        edited.check_static(&program).is_ok(),
        "the edited row should allow emit in Q"
    );
    assert_ne!(edited.tables().digest, defaults.tables().digest);
}

/// Cheap deterministic fuzzing: mutated corpus files must never panic.
#[test]
fn mutated_inputs_never_panic() {
    let engine = engine();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces: [&[u8]; 12] = [
        b"(",
        b")",
        b"{",
        b"}",
        b"\"",
        b"\\",
        b"Add",
        b"::",
        b"\xce\xa6",
        b"\xff",
        b"9999999999999999999999",
        b".",
    ];
    for case in cases() {
        let base = std::fs::read(&case.path).unwrap();
        if base.len() > 8_000 {
            continue;
        }
        for _ in 0..25 {
            let mut b = base.clone();
            for _ in 0..(1 + next() % 4) {
                let at = (next() as usize) % (b.len() + 1);
                match next() % 3 {
                    0 if !b.is_empty() => {
                        let end = (at + (next() as usize % 8)).min(b.len());
                        b.drain(at.min(b.len())..end);
                    }
                    _ => {
                        let p = pieces[(next() as usize) % pieces.len()];
                        b.splice(at..at, p.iter().copied());
                    }
                }
            }
            let src = engine::Source {
                name: "mutant",
                bytes: &b,
            };
            let r = engine.run(&src, &case.run_config());
            for d in &r.diagnostics {
                let _ = engine::render::human(&src, d);
            }
        }
    }
}

/// Linearity verdicts come from the datalog rules in 04-q-linearity.ron:
/// narrowing one premise of Q-LIN-SECOND-USE makes the published copy
/// example pass the static check, with no code change.
#[test]
fn editing_a_linearity_rule_changes_the_verdict() {
    let src = std::fs::read(root().join("cases/regimes/q_invalid_copy.json")).unwrap();
    let program = dir_grammar::load(&src).unwrap();
    let errs = engine().check_static(&program).unwrap_err();
    assert_eq!(errs[0].rule.as_deref(), Some("Q-LIN-SECOND-USE"));
    assert_eq!(errs.len(), 1);

    // "Only a move followed by another consumption is a second use."
    let edited = edited_engine("04-q-linearity.ron", |t| {
        let edited = t.replace(
            "\"use(V, P1)\", \"gone(V, P2, P1)\", \"consuming(V, P2)\"",
            "\"move(V, P1)\", \"gone(V, P2, P1)\", \"consuming(V, P2)\"",
        );
        assert_ne!(edited, t, "the rule text to edit was not found");
        edited
    });
    assert!(
        edited.check_static(&program).is_ok(),
        "with the edited rule the copy is accepted"
    );
}

/// Linearity diagnostics point at the offending (later) use, with the
/// earlier use, move or consumption as the second label.
#[test]
fn linearity_labels_point_at_the_later_use() {
    let engine = engine();
    for id in [
        "regimes/q_invalid_copy.json",
        "q/use_after_move.dir",
        "q/use_after_measure.dir",
        "q/consume_then_return.dir",
    ] {
        let case = cases().into_iter().find(|c| c.id == id).unwrap();
        let r = run_case(&engine, &case).unwrap();
        let d = &r.report.diagnostics[0];
        let primary = d.primary.as_ref().unwrap().span.start();
        let earlier = d.secondary[0].span.start();
        assert!(
            earlier < primary,
            "{id}: `{}` should be after `{}`",
            d.primary.as_ref().unwrap().message,
            d.secondary[0].message
        );
    }
}

/// The outcome and code of one corpus case under an engine.
fn verdict(engine: &Engine, id: &str) -> (Outcome, Option<String>) {
    let case = cases().into_iter().find(|c| c.id == id).unwrap();
    let r = run_case(engine, &case).unwrap();
    let t = r.report.trace;
    (t.outcome, t.error.map(|e| e.code))
}

/// Replace one rule's body text in 10-admission.ron (asserting it was there).
fn edit_admission(from: &'static str, to: &'static str) -> Engine {
    edited_engine("10-admission.ron", move |t| {
        let e = t.replace(from, to);
        assert!(e != t, "rule text `{from}` not found in 10-admission.ron");
        e
    })
}

/// Program verdicts come from the datalog rows of 10-admission.ron: editing
/// the gating, contract and resource rows changes the verdicts, with no
/// code change.
#[test]
fn editing_admission_rows_changes_verdicts() {
    let defaults = engine();
    // Gating: a gate that only closes on undetermined sources lets the
    // non-existent one through.
    let id = "programs/gate_never_called.dir";
    assert_eq!(
        verdict(&defaults, id),
        (Outcome::Inadmissible, Some("E0205".into()))
    );
    let e = edit_admission(
        r#"body: ["reaches(T)", "bind(B, S, T)", "phi_fails(S)"]"#,
        r#"body: ["reaches(T)", "bind(B, S, T)", "phi_unknown(S)"]"#,
    );
    assert_eq!(verdict(&e, id), (Outcome::Executed, None));

    // Contract: a contract that binds only when its target is the entry
    // no longer stops a run that reaches the target through a call.
    let id = "programs/latency_unmet.dir";
    assert_eq!(
        verdict(&defaults, id),
        (Outcome::Inadmissible, Some("E0204".into()))
    );
    let e = edit_admission(
        r#"body: ["reaches(T)", "bind(B, _, T)", "clause_violated(B, C)"]"#,
        r#"body: ["entry(T)", "bind(B, _, T)", "clause_violated(B, C)"]"#,
    );
    assert_eq!(verdict(&e, id), (Outcome::Executed, None));

    // Effects propagate through calls by rule: without ADM-EFFECTFUL-CALL's
    // propagation the callee's emit no longer violates `effects_allowed`.
    let id = "programs/effects_forbidden.dir";
    assert_eq!(
        verdict(&defaults, id),
        (Outcome::Inadmissible, Some("E0204".into()))
    );
    let e = edit_admission(
        r#"body: ["calls(P, Q)", "effectful(Q)"]"#,
        r#"body: ["calls(P, Q)", "effect_in(Q)", "effect_in(P)"]"#,
    );
    assert_eq!(verdict(&e, id), (Outcome::Executed, None));

    // Resources: acquiring only for processes that were refused never
    // stops the denied Console.
    let id = "programs/console_denied.dir";
    assert_eq!(
        verdict(&defaults, id),
        (Outcome::Inadmissible, Some("E0206".into()))
    );
    let e = edit_admission(
        r#"body: ["reaches(P)", "resource_unavailable(P, U)"]"#,
        r#"body: ["reaches(P)", "resource_unavailable(P, U)", "constraint_failed(P)"]"#,
    );
    assert_eq!(verdict(&e, id), (Outcome::Executed, None));

    // Timer deadlines are a row too.
    let id = "programs/timer_deadline.dir";
    assert_eq!(
        verdict(&defaults, id),
        (Outcome::Inadmissible, Some("E0207".into()))
    );
    let e = edit_admission(
        r#"body: ["reaches(P)", "resource_unmet(P, U)"]"#,
        r#"body: ["reaches(P)", "resource_unmet(P, U)", "constraint_failed(P)"]"#,
    );
    assert_eq!(verdict(&e, id), (Outcome::Executed, None));
}

/// The table contract: the inputs of 10-admission.ron are exactly the
/// relations the engine emits, and the derived relations it reads exist.
#[test]
fn renamed_admission_relations_are_refused() {
    let load = |from: &str, to: &str| {
        let files = Tables::default_files()
            .into_iter()
            .map(|(n, t)| {
                let t = if n == "10-admission.ron" {
                    let e = t.replace(from, to);
                    assert_ne!(e, t);
                    e
                } else {
                    t.to_string()
                };
                (n.to_string(), t)
            })
            .collect();
        match Tables::from_sources(files) {
            Ok(_) => panic!("renaming `{from}` must be refused"),
            Err(e) => e.message,
        }
    };
    let m = load(r#"(name: "entry","#, r#"(name: "entry_point","#);
    assert!(
        m.contains("entry_point") && m.contains("not a relation the engine emits"),
        "{m}"
    );
    let m = load("reaches(", "reached(");
    assert!(m.contains("reaches"), "{m}");
}

/// Oracle: the static cost admission checks (latency, Timer) is what
/// evaluation charges, for every executed case.
#[test]
fn static_cost_equals_evaluated_cost() {
    let engine = engine();
    let mut checked = 0;
    for case in cases() {
        let mut cfg = case.run_config();
        cfg.explain = true;
        let bytes = std::fs::read(&case.path).unwrap();
        let r = engine.run(
            &engine::Source {
                name: &case.id,
                bytes: &bytes,
            },
            &cfg,
        );
        if r.trace.outcome != Outcome::Executed {
            continue;
        }
        let x = r.explanation.expect("an executed run has an explanation");
        let entry = x.procs.iter().find(|p| p.name == x.entry).unwrap();
        assert_eq!(entry.cost_us, r.trace.time.cost_us, "{}", case.id);
        checked += 1;
    }
    assert!(checked > 40, "{checked}");
}

/// docs/spec-coverage.md maps the brief's requirements to rule ids and
/// corpus cases: every rule id it names exists in the tables, and every case
/// it names exists in the corpus.
#[test]
fn spec_coverage_is_true() {
    let doc = std::fs::read_to_string(root().join("../docs/spec-coverage.md"))
        .expect("docs/spec-coverage.md");
    let ids: BTreeSet<String> = engine()
        .tables()
        .rules()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let case_ids: BTreeSet<String> = cases().into_iter().map(|c| c.id).collect();
    let mut rows = 0;
    for line in doc
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| §"))
    {
        let cols: Vec<&str> = line.split(" | ").collect();
        if cols.len() < 4 || cols[1].starts_with("---") {
            continue;
        }
        rows += 1;
        let ticked = |s: &str| -> Vec<String> {
            s.split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, t)| t.to_string())
                .collect()
        };
        for id in ticked(cols[2]) {
            if id.contains('-')
                && id
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
            {
                assert!(ids.contains(&id), "spec-coverage names unknown rule `{id}`");
            }
        }
        for case in ticked(cols[3]) {
            assert!(
                case_ids.contains(&case),
                "spec-coverage names missing case `{case}`"
            );
        }
    }
    assert!(rows > 40, "{rows} rows");
}

/// Admission is bounded like every analysis: past the profile's fact
/// budget the run is undetermined (E0401), never silently admitted.
#[test]
fn admission_respects_its_fact_budget() {
    let e = edited_engine("00-profile.ron", |t| {
        let e = t.replace("admission_facts: 10000000", "admission_facts: 1");
        assert!(e != t, "budget row not found");
        e
    });
    assert_eq!(
        verdict(&e, "programs/k_asks_phi_value.dir"),
        (Outcome::Undetermined, Some("E0401".into()))
    );
    assert_eq!(
        verdict(&engine(), "programs/k_asks_phi_value.dir"),
        (Outcome::Executed, None)
    );
}
