//! `cargo bench -p engine`: load and run throughput on generated programs,
//! checked against the targets below (release build). Targets live here,
//! never in timed tests.

use engine::{Engine, Mode, RunConfig, Source, Tables};
use std::time::{Duration, Instant};

/// Each target: (name, statements, limit for load + validate + run).
const TARGETS: &[(&str, usize, Duration)] = &[
    ("Q linearity chain", 10_000, Duration::from_millis(1500)),
    ("Φ witness, 24 unknowns", 24, Duration::from_millis(1500)),
    (
        "straight-line K, text",
        100_000,
        Duration::from_millis(1500),
    ),
    // The JSON form is 4x the bytes (pretty-printed, every expression a string).
    (
        "straight-line K, JSON",
        100_000,
        Duration::from_millis(2500),
    ),
];

fn text_program(n: usize) -> String {
    let mut s = String::from("dir 0.1;\nforge Bench {\n  shape P { a: i64, b: i64 }\n  proc K main() -> i64 {\n    let v0 = 1;\n");
    for i in 1..n {
        match i % 4 {
            0 => s.push_str(&format!(
                "    let v{i} = (v{} Add {i}) Mul 2 Sub v{};\n",
                i - 1,
                i - 1
            )),
            1 => s.push_str(&format!(
                "    constrain v{} Gt -9223372036854775807;\n    let v{i} = v{} Div 3;\n",
                i - 1,
                i - 1
            )),
            2 => s.push_str(&format!("    let v{i} = P{{a: v{}, b: 1}}.a;\n", i - 1)),
            _ => s.push_str(&format!(
                "    emit v{};\n    let v{i} = v{} Sub 1;\n",
                i - 1,
                i - 1
            )),
        }
    }
    s.push_str(&format!("    return v{};\n  }}\n}}\n", n - 1));
    s
}

/// A Q process threading one linear value through `n` lets.
fn q_program(n: usize) -> String {
    let mut s = String::from("dir 0.1;\nforge Bench {\n  proc Q main(v0: i64) -> i64 [linear] {\n");
    for i in 1..n {
        s.push_str(&format!("    let v{i} = v{} Add 1;\n", i - 1));
    }
    s.push_str(&format!("    return v{};\n  }}\n}}\n", n - 1));
    s
}

/// A Φ question over `n` chained unknowns (each pair sums past a bound).
fn phi_program(n: usize) -> String {
    let params: Vec<String> = (0..n).map(|i| format!("x{i}: i32")).collect();
    let mut s = format!(
        "dir 0.1;\nforge Bench {{\n  proc Φ main({}) {{\n",
        params.join(", ")
    );
    for i in 1..n {
        s.push_str(&format!(
            "    constrain x{i} Ge 0;\n    constrain (x{} Add x{i}) Gt {i};\n",
            i - 1
        ));
    }
    s.push_str("    return;\n  }\n}\n");
    s
}

fn main() {
    let engine = Engine::new(Tables::defaults().expect("tables")).expect("engine");
    let mut missed = 0;
    for (name, n, limit) in TARGETS {
        let text = if name.starts_with("Q") {
            q_program(*n)
        } else if name.starts_with("Φ") {
            phi_program(*n)
        } else {
            text_program(*n)
        };
        let input = if name.ends_with("JSON") {
            dir_grammar::print::to_json(&dir_grammar::load_str(&text).expect("bench program loads"))
        } else {
            text
        };
        let args = if name.starts_with("Q") {
            vec![("v0".to_string(), "1".to_string())]
        } else {
            Vec::new()
        };
        let cfg = RunConfig {
            args: args.clone(),
            ..RunConfig::new(Mode::Simulate)
        };
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let r = engine.run(
                &Source {
                    name: "bench",
                    bytes: input.as_bytes(),
                },
                &cfg,
            );
            let d = t.elapsed();
            assert_eq!(
                r.trace.outcome,
                engine::Outcome::Executed,
                "{:?}",
                r.trace.error
            );
            best = best.min(d);
        }
        let ok = best <= *limit;
        if !ok {
            missed += 1;
        }
        println!(
            "{name:28} {n:>7} stmts  {:>6.1} MiB  best {:>8.1} ms  target {:>6} ms  {}",
            input.len() as f64 / (1024.0 * 1024.0),
            best.as_secs_f64() * 1000.0,
            limit.as_millis(),
            if ok { "ok" } else { "MISSED" }
        );
    }
    if missed > 0 {
        std::process::exit(1);
    }
}
