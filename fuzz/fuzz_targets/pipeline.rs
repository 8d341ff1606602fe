//! The whole engine in simulate mode, as `dustrun --simulate FILE` runs it:
//! load, validate, admit, evaluate (effects only recorded). Never panics;
//! the trace serialises and every diagnostic renders; a second run of the
//! same input gives the same trace and diagnostics (the second evaluating
//! the entry beside its check, `Overlap::Always`, where it can: the two
//! ways of evaluating agree); and a run whose
//! outcome is not `executed` recorded no effect (brief §1: nothing of a
//! rejected, inadmissible or failed run is realized).
#![no_main]

use engine::{Engine, Mode, Outcome, Overlap, RunConfig, Source, Tables};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Tables::defaults().expect("default tables")).expect("engine"))
}

/// Simulate mode with a smaller step budget than the profile's 10 000 000:
/// under sanitizer instrumentation a run that exhausts the default budget
/// takes ~15 s (the corpus case `failures/budget_exponential_calls.dir`), so
/// every exponential call tree would be a libFuzzer timeout. The budget is
/// counted work, so a smaller one stops the same programs the same way,
/// only sooner. `DUSTRUN_FUZZ_MAX_STEPS=N` overrides it (`default`: the
/// profile's budget, exactly what `dustrun --simulate` runs with).
const FUZZ_MAX_STEPS: u64 = 100_000;

fn config() -> &'static RunConfig {
    static CFG: OnceLock<RunConfig> = OnceLock::new();
    CFG.get_or_init(|| {
        let max_steps = match std::env::var("DUSTRUN_FUZZ_MAX_STEPS") {
            Ok(v) if v == "default" => None,
            Ok(v) => Some(
                v.parse()
                    .expect("DUSTRUN_FUZZ_MAX_STEPS: a number or `default`"),
            ),
            Err(_) => Some(FUZZ_MAX_STEPS),
        };
        RunConfig {
            max_steps,
            ..RunConfig::new(Mode::Simulate)
        }
    })
}

/// `config()`, evaluating the entry beside its check wherever it can, and
/// without the trace's digests (as the CLI runs when it shows only the
/// summary).
fn config_beside() -> &'static RunConfig {
    static CFG: OnceLock<RunConfig> = OnceLock::new();
    CFG.get_or_init(|| RunConfig {
        overlap: Overlap::Always,
        digests: false,
        ..config().clone()
    })
}

fuzz_target!(|data: &[u8]| {
    let src = Source {
        name: "fuzz",
        bytes: data,
    };
    let report = engine().run(&src, config());
    let t = &report.trace;
    if t.outcome != Outcome::Executed {
        // (The realizer reads the trace's own list: `Report::events`.)
        assert!(
            report.events().is_empty(),
            "outcome {:?} but {} effects",
            t.outcome,
            report.events().len()
        );
        assert!(
            t.error.is_some(),
            "outcome {:?} without an error",
            t.outcome
        );
        assert!(
            !report.diagnostics.is_empty(),
            "outcome {:?} without diagnostics",
            t.outcome
        );
    } else {
        assert!(t.error.is_none(), "executed with an error: {:?}", t.error);
    }
    // What the CLI does with every report.
    let _ = t.to_json();
    let rendered: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| {
            let _ = engine::render::json(&src, d);
            engine::render::human(&src, d)
        })
        .collect();
    // Runs are deterministic (docs/ARCHITECTURE.md: no `HashMap` iteration
    // reaches output): the same input again gives the same trace and the
    // same diagnostics, its entry evaluated beside its check this time
    // (`Overlap`: the first run's inputs are too small for it), and
    // without the trace's digests: the traces differ in those only.
    // `DUSTRUN_FUZZ_DETERMINISM=0` skips the second run.
    if determinism_enabled() {
        let again = engine().run(&src, config_beside());
        assert_eq!(
            engine::runs_beside_disagreed(),
            0,
            "evaluated beside the check with binders other than the check's"
        );
        assert!(
            again.trace.artifact.digest.is_empty() && again.trace.run.is_empty(),
            "a run without digests has them"
        );
        let mut blanked = t.clone();
        blanked.artifact.digest.clear();
        blanked.run.clear();
        assert!(
            again.trace.to_json() == blanked.to_json(),
            "two runs of the same input gave different traces"
        );
        let rendered2: Vec<String> = again
            .diagnostics
            .iter()
            .map(|d| engine::render::human(&src, d))
            .collect();
        assert!(
            rendered2 == rendered,
            "two runs of the same input gave different diagnostics"
        );
    }
});

fn determinism_enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("DUSTRUN_FUZZ_DETERMINISM").map_or(true, |v| v != "0"))
}
