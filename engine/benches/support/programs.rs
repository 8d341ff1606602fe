//! Generated programs the benches measure: `engine/benches/throughput.rs`
//! and `cli/benches/targets.rs` include it (`#[path]`; a subdirectory, so that
//! cargo does not take it for a bench of its own), so both
//! measure the same inputs.

/// Straight-line K: `n` lets, with a constraint, a struct literal and an
/// effect every four statements.
pub fn text_program(n: usize) -> String {
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
pub fn q_program(n: usize) -> String {
    let mut s = String::from("dir 0.1;\nforge Bench {\n  proc Q main(v0: i64) -> i64 [linear] {\n");
    for i in 1..n {
        s.push_str(&format!("    let v{i} = v{} Add 1;\n", i - 1));
    }
    s.push_str(&format!("    return v{};\n  }}\n}}\n", n - 1));
    s
}
