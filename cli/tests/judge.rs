//! `dustrun conformance --backend`: dustrun judged against itself agrees;
//! toy wrong backends are caught on exactly the cases they get wrong.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_dustrun");

fn temp_dir(name: &str) -> common::Scratch {
    common::Scratch::new("judge", name)
}

/// `dustrun conformance --backend CMD ARGS...`, run from a folder that is
/// not the repository (the corpus is built in).
fn judge(backend: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(std::env::temp_dir())
        .env("D", BIN)
        .args(["conformance", "--backend", backend, "--jobs", "4"])
        .args(extra)
        .output()
        .unwrap()
}

fn report(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Cases of a report whose status is `status`.
fn with_status(r: &serde_json::Value, status: &str) -> BTreeSet<String> {
    r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == status)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// A backend script around the real dustrun: `sh FILE {tmp} {dir} {args}`.
fn script(dir: &Path, name: &str, after: &str) -> String {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "tmp=$1; dir=$2; shift 2\n\"$D\" \"$@\" --ledger \"$tmp/ledger.jsonl\" \"$dir\" > \"$tmp/out\"\nrc=$?\n{after}\n"
        ),
    )
    .unwrap();
    format!("sh '{}' {{tmp}} {{dir}} {{args}}", p.display())
}

/// The reference itself, and three wrong backends, on the whole corpus.
#[test]
fn dustrun_agrees_with_itself_and_wrong_backends_are_caught_exactly() {
    let d = temp_dir("toys");
    let right = judge(
        &script(&d, "right.sh", "cat \"$tmp/out\"; exit $rc"),
        &["--format", "json"],
    );
    assert_eq!(
        right.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
    let r = report(&right);
    assert_eq!(r["passed"], true);
    assert_eq!(r["totals"]["disagree"], 0);
    assert_eq!(r["totals"]["backend-error"], 0);
    let comparable = r["totals"]["agree"].as_u64().unwrap();
    let not = r["totals"]["not comparable"].as_u64().unwrap();
    assert!(
        comparable > 190 && not < 15,
        "{comparable} agree, {not} not comparable"
    );
    let cases = r["cases"].as_array().unwrap();
    let reference = |outcome: &str| -> BTreeSet<String> {
        cases
            .iter()
            .filter(|c| c["reference"] == outcome && c["status"] == "agree")
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };

    // Reverses the output order: wrong exactly where reversing changes it.
    let reversed: BTreeSet<String> = cases
        .iter()
        .filter(|c| c["status"] == "agree" && c["reference"] == "executed")
        .filter(|c| {
            let e: Vec<&serde_json::Value> = c["expected"].as_array().unwrap().iter().collect();
            let mut r = e.clone();
            r.reverse();
            e != r
        })
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert!(reversed.len() > 5);
    let o = judge(
        &script(&d, "reverse.sh", "tac \"$tmp/out\"; exit $rc"),
        &["--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(with_status(&report(&o), "disagree"), reversed);

    // Realizes an effect of runs that are not admissible.
    let o = judge(
        &script(
            &d,
            "leak.sh",
            "cat \"$tmp/out\"; [ $rc = 10 ] && echo leaked; exit $rc",
        ),
        &["--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1));
    let inadmissible = reference("inadmissible");
    assert!(inadmissible.len() > 10);
    assert_eq!(with_status(&report(&o), "disagree"), inadmissible);

    // Exits 0 on failures.
    let o = judge(
        &script(
            &d,
            "fail0.sh",
            "cat \"$tmp/out\"; [ $rc = 11 ] && exit 0; exit $rc",
        ),
        &["--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1));
    let failed = reference("failed");
    assert!(failed.len() > 3);
    assert_eq!(with_status(&report(&o), "disagree"), failed);
}

/// A report shows an excerpt around the first difference and the totals,
/// whatever a backend prints (every line of its output was kept: 1.9 GB a
/// case for 64 MiB of short lines).
#[test]
fn reports_show_an_excerpt_of_long_outputs() {
    let d = temp_dir("long");
    let prog = d.join("many.dir");
    let mut s = String::from("dir 0.1;\nforge F {\n  proc K main() -> i64 {\n");
    for i in 0..500 {
        s.push_str(&format!("    emit {i};\n"));
    }
    s.push_str("    return 0;\n  }\n}\n");
    std::fs::write(&prog, s).unwrap();
    // Right for 300 lines, then 200 000 lines of its own.
    let o = judge(
        "seq 0 299; yes x | head -n 200000",
        &["--format", "json", prog.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    let r = report(&o);
    assert_eq!(r["report_version"], 2);
    let c = &r["cases"][0];
    assert_eq!(c["status"], "disagree");
    assert_eq!(
        c["divergence"],
        "stdout line 301: expected \"300\", actual \"x\""
    );
    assert_eq!(c["excerpt_start"], 290);
    assert_eq!(c["expected_lines"], 500);
    assert_eq!(c["actual_lines"], 200_300);
    let (e, a) = (
        c["expected"].as_array().unwrap(),
        c["actual"].as_array().unwrap(),
    );
    assert_eq!((e.len(), a.len()), (40, 40));
    assert_eq!((e[0].as_str(), a[0].as_str()), (Some("290"), Some("290")));
    assert_eq!((e[11].as_str(), a[11].as_str()), (Some("301"), Some("x")));
    // An agreeing case shows its first lines.
    let o = judge("seq 0 499", &["--format", "json", prog.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let c = &report(&o)["cases"][0];
    assert_eq!(c["excerpt_start"], 0);
    assert_eq!(c["actual_lines"], 500);
    assert_eq!(c["actual"].as_array().unwrap().len(), 40);
}

#[test]
fn a_hanging_backend_is_a_backend_error() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let hello = root.join("examples/hello.dir");
    let o = judge(
        "sleep 30",
        &[
            "--timeout-ms",
            "300",
            "--format",
            "json",
            hello.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let r = report(&o);
    assert_eq!(r["totals"]["backend-error"], 1);
    assert!(r["cases"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("timed out"));
    // A backend that cannot be started.
    let o = judge("no-such-backend-xyz {dir}", &[hello.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("backend-error"));
}

#[test]
fn source_cases_go_through_the_compiler_and_paths_are_quoted() {
    let d = temp_dir("source's dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let json = std::fs::read_to_string(root.join("examples/hello.json")).unwrap();
    let src = d.join("it's a \"source\" file.dust");
    std::fs::write(&src, format!("// emitted by the stand-in compiler\n{json}")).unwrap();
    let o = judge(
        "\"$D\" {dir}",
        &[
            "--compiler",
            "cat {src}",
            "--format",
            "json",
            src.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(report(&o)["totals"]["agree"], 1);
    // {src} reaches the backend too, quoted.
    let o = judge(
        "test -f {src} && \"$D\" {dir}",
        &[
            "--compiler",
            "cat {src}",
            "--format",
            "json",
            src.to_str().unwrap(),
        ],
    );
    assert_eq!(report(&o)["totals"]["agree"], 1);
    // A compiler that refuses the source: not compiled, not a disagreement.
    let o = judge(
        "\"$D\" {dir}",
        &["--compiler", "false", src.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not compiled"));
    // Without --compiler the source cannot be judged.
    let o = judge("\"$D\" {dir}", &["--format", "json", src.to_str().unwrap()]);
    assert_eq!(report(&o)["totals"]["not compiled"], 1);
}

#[test]
fn the_html_report_is_a_well_formed_page() {
    let d = temp_dir("html");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let page = d.join("report.html");
    let o = judge(
        &script(&d, "reverse.sh", "tac \"$tmp/out\"; exit $rc"),
        &[
            "--format",
            "html",
            "--report",
            page.to_str().unwrap(),
            root.join("examples").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("class=\"disagree\""), "{html}");
    // Every element closes, in order (the page has no void elements but meta).
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html.as_str();
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("tag closes");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name == "meta" {
            continue;
        }
        if tag.starts_with('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.as_str()), "{html}");
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "{stack:?}");
    // The human summary still reaches stdout.
    assert!(String::from_utf8_lossy(&o.stdout).contains("disagree"));
}

#[test]
fn exact_exit_compares_exit_codes() {
    let d = temp_dir("exact");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let failures = root.join("conformance/cases/failures");
    let cases = failures.to_str().unwrap();
    let right = script(&d, "right.sh", "cat \"$tmp/out\"; exit $rc");
    let o = judge(&right, &["--exact-exit", "--format", "json", cases]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Any non-zero code is "not executed", but not dustrun's code.
    let other = script(
        &d,
        "other.sh",
        "cat \"$tmp/out\"; [ $rc = 0 ] && exit 0; exit 1",
    );
    assert_eq!(
        judge(&other, &["--format", "json", cases]).status.code(),
        Some(0)
    );
    let o = judge(&other, &["--exact-exit", "--format", "json", cases]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("exit code: the reference's is 11"));
}
