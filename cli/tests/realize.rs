//! Realization, the ledger and replay (brief §1, §5, §12), end to end with
//! real failing devices, closed pipes, a file-size limit and concurrent
//! processes: never a success for an effect that was not enacted.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_dustrun");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(repo()).args(args);
    c
}

fn dustrun(args: &[&str]) -> Output {
    cmd(args).output().expect("dustrun runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn temp_dir(name: &str) -> common::Scratch {
    common::Scratch::new("realize", name)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A K program with `n` effects of `kind`, each payload about 60 bytes.
fn many(dir: &Path, name: &str, kind: &str, n: usize) -> PathBuf {
    let mut s = String::from("dir 0.1;\nforge Many {\n  proc K main() -> i64 {\n");
    for i in 0..n {
        s.push_str(&format!(
            "    {kind} \"effect number {i:06} of a program that writes a lot of output\";\n"
        ));
    }
    s.push_str("    return 0;\n  }\n}\n");
    let p = dir.join(name);
    std::fs::write(&p, s).unwrap();
    p
}

/// A shell line: `sh -c SCRIPT` with `$D` the binary, run in the repo.
fn sh(script: &str) -> Output {
    Command::new("sh")
        .current_dir(repo())
        .env("D", BIN)
        .args(["-c", script])
        .output()
        .unwrap()
}

#[test]
fn stdout_full_or_closed_is_a_realization_failure() {
    let d = temp_dir("full");
    let trace = d.join("t.json");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = cmd(&[
        "examples/ordered_effects.dir",
        "--trace-out",
        trace.to_str().unwrap(),
    ])
    .stdout(full)
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(15), "{}", text(&o.stderr));
    let e = text(&o.stderr);
    assert!(e.contains("E0025") && e.contains("effect 1 of 3"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
    let t = json(&trace);
    assert_eq!(t["outcome"], "executed", "the run happened");
    assert_eq!(t["realization"]["realized"], 0);
    assert_eq!(t["realization"]["failed"]["effect"], 0);
    assert_eq!(t["realization"]["failed"]["realizer"], "stdout");

    // `>&-`: Rust would reopen fd 1 on /dev/null and every write would
    // "succeed"; dustrun sees the closed descriptor.
    let o = sh("exec \"$D\" examples/hello.dir >&-");
    assert_eq!(o.status.code(), Some(15), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("standard output is closed"));
    // ... unless the program realizes nothing on stdout.
    let o = sh("exec \"$D\" --simulate --trace-out /dev/null examples/hello.dir >/dev/null");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// `--trace-out` renames a complete temporary file over a regular file, but
/// writes a device or a FIFO in place: renaming would replace the device.
#[test]
fn trace_out_to_a_device_writes_through_it() {
    use std::os::unix::fs::FileTypeExt;
    let o = dustrun(&[
        "--simulate",
        "examples/hello.dir",
        "--trace-out",
        "/dev/null",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let m = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(
        m.file_type().is_char_device(),
        "/dev/null is still a device"
    );
    let o = dustrun(&["check", "examples/hello.dir", "--trace-out", "/dev/stdout"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("\"trace_version\""),
        "{}",
        text(&o.stdout)
    );
    let o = dustrun(&[
        "--simulate",
        "examples/hello.dir",
        "--trace-out",
        "/dev/full",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("cannot write trace"));
}

/// Stdout effects are written in batches, not a system call each (6 M
/// effects took 17 s), and every line arrives, in order: the child's own
/// count of write calls, read from /proc while it is a zombie.
#[cfg(target_os = "linux")]
#[test]
fn stdout_effects_are_written_in_batches() {
    let d = temp_dir("batches");
    let n = 20_000;
    let prog = many(&d, "many.dir", "emit", n);
    let out = d.join("out.txt");
    let mut child = cmd(&[prog.to_str().unwrap()])
        .stdout(std::fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    let io = loop {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap();
        // The state follows the parenthesised command name.
        let state = stat.rsplit(')').next().unwrap().split_whitespace().next();
        if state == Some("Z") {
            break std::fs::read_to_string(format!("/proc/{}/io", child.id())).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert!(child.wait().unwrap().success());
    let writes: usize = io
        .lines()
        .find_map(|l| l.strip_prefix("syscw: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(writes < n / 50, "{writes} write calls for {n} effects");
    let lines: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), n);
    for (i, l) in lines.iter().enumerate().step_by(997) {
        assert!(l.contains(&format!("effect number {i:06} ")), "{l}");
    }
}

#[test]
fn a_closed_pipe_stops_realization_at_the_failing_effect() {
    let d = temp_dir("pipe");
    let prog = many(&d, "many.dir", "emit", 4000);
    let trace = d.join("t.json");
    let mut child = cmd(&[
        prog.to_str().unwrap(),
        "--trace-out",
        trace.to_str().unwrap(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Read one byte, then close the pipe: like `dustrun many.dir | head -c1`.
    let mut out = child.stdout.take().unwrap();
    let mut one = [0u8; 1];
    out.read_exact(&mut one).unwrap();
    drop(out);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(15), "{err}");
    assert!(
        err.contains("on stdout: Broken pipe;"),
        "the OS's words: {err}"
    );
    let t = json(&trace);
    let realized = t["realization"]["realized"].as_u64().unwrap();
    assert!(realized > 0 && realized < 4000, "{realized}");
    assert_eq!(t["realization"]["failed"]["effect"], realized);
    assert!(
        err.contains(&format!("{realized} effect(s) before it were realized")),
        "{err}"
    );
}

#[test]
fn other_commands_report_output_failures_with_exit_2() {
    let d = temp_dir("other");
    let ledger = d.join("l.jsonl");
    std::fs::write(&ledger, "").unwrap();
    let l = ledger.to_str().unwrap();
    let commands: [&[&str]; 8] = [
        &["--simulate", "examples/hello.dir"],
        &["--simulate", "--emit-trace", "examples/hello.dir"],
        &["fmt", "examples/hello.dir"],
        &["check", "examples/hello.dir"],
        &["explain", "examples/hello.dir"],
        &["explain", "E0201"],
        &["rules"],
        &["ledger", "verify", l],
    ];
    for args in commands {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = cmd(args).stdout(full).output().unwrap();
        let e = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(
            e.contains("cannot write to standard output"),
            "{args:?}: {e}"
        );
        assert!(!e.contains("panicked"), "{args:?}: {e}");
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let o = sh(&format!("exec \"$D\" {} >&-", quoted.join(" ")));
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?} >&-: {}",
            text(&o.stderr)
        );
    }
}

#[test]
fn stdout_is_the_traces_emit_payloads_each_with_a_newline() {
    let d = temp_dir("emits");
    for prog in [
        "examples/hello.dir",
        "examples/hello.json",
        "examples/ordered_effects.dir",
        "examples/struct_field.dir",
        "examples/audit_log.json",
    ] {
        let trace = d.join("t.json");
        let ledger = d.join("l.jsonl");
        let o = dustrun(&[
            prog,
            "--trace-out",
            trace.to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{prog}: {}", text(&o.stderr));
        let t = json(&trace);
        let mut expected = String::new();
        for e in t["effects"]["events"].as_array().unwrap() {
            if e["kind"] == "emit" {
                expected.push_str(e["payload"].as_str().unwrap());
                expected.push('\n');
            }
        }
        assert_eq!(text(&o.stdout), expected, "{prog}");
        assert_eq!(
            t["realization"]["realized"],
            t["effects"]["events"].as_array().unwrap().len(),
            "{prog}"
        );
        assert!(t["realization"].get("failed").is_none(), "{prog}");
    }
}

#[test]
fn a_refused_run_writes_a_not_run_trace_and_realizes_nothing() {
    let d = temp_dir("notrun");
    let trace = d.join("t.json");
    let o = dustrun(&[
        "examples/audit_log.json",
        "--trace-out",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stdout),
        "",
        "no emit before the missing ledger is found"
    );
    let t = json(&trace);
    assert_eq!(t["outcome"], "not-run");
    assert_eq!(t["error"]["code"], "E0022");
    assert_eq!(t["effects"]["events"].as_array().unwrap().len(), 0);
    assert!(t.get("realization").is_none());

    // A usage stop inside the engine (a bad `--arg`) is not-run as well.
    let o = dustrun(&[
        "conformance/cases/entry/args.dir",
        "--arg",
        "nope=1",
        "--trace-out",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(json(&trace)["outcome"], "not-run");

    // A device is not a ledger: refused before the first effect.
    let o = dustrun(&["examples/audit_log.json", "--ledger", "/dev/full"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "");
    assert!(text(&o.stderr).contains("not a regular file"));

    // An unwritable trace location stops the run before any effect.
    let o = dustrun(&[
        "examples/hello.dir",
        "--trace-out",
        "/nonexistent-dir/t.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(text(&o.stdout), "");
}

#[test]
fn outputs_never_overwrite_inputs() {
    let d = temp_dir("guard");
    let prog = d.join("p.dir");
    std::fs::copy(repo().join("examples/hello.dir"), &prog).unwrap();
    let manifest = d.join("m.ron");
    std::fs::write(&manifest, "(provide: [])").unwrap();
    let p = prog.to_str().unwrap();
    let m = manifest.to_str().unwrap();
    let tables = d.join("tables");
    assert_eq!(
        dustrun(&["rules", "--export", tables.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let in_tables = tables.join("11-errors.ron");
    let before_tables = std::fs::read(&in_tables).unwrap();
    let cases: [Vec<&str>; 6] = [
        vec![p, "--trace-out", p],
        vec![p, "--ledger", p],
        vec!["check", p, "--trace-out", p],
        vec![p, "--resources", m, "--trace-out", m],
        vec![
            p,
            "--rules",
            tables.to_str().unwrap(),
            "--trace-out",
            in_tables.to_str().unwrap(),
        ],
        vec![p, "--trace-out", "x.json", "--ledger", "x.json"],
    ];
    for args in cases {
        let o = dustrun(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "", "{args:?}: nothing ran");
        assert!(text(&o.stderr).contains("nothing was run"), "{args:?}");
    }
    assert_eq!(
        std::fs::read(&prog).unwrap(),
        std::fs::read(repo().join("examples/hello.dir")).unwrap()
    );
    assert_eq!(std::fs::read(&in_tables).unwrap(), before_tables);
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), "(provide: [])");
    assert!(!repo().join("x.json").exists());
}

#[test]
fn concurrent_runs_extend_one_verifiable_chain() {
    let d = temp_dir("concurrent");
    let prog = many(&d, "seals.dir", "seal", 400);
    let ledger = d.join("ledger.jsonl");
    let run = || {
        cmd(&[prog.to_str().unwrap(), "--ledger", ledger.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (run(), run());
    for c in [a, b] {
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    let o = dustrun(&["ledger", "verify", ledger.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("800 record(s)"),
        "{}",
        text(&o.stdout)
    );
    for line in std::fs::read_to_string(&ledger).unwrap().lines() {
        let r: serde_json::Value = serde_json::from_str(line).expect("one record per line");
        for f in [
            "n", "run", "tick", "proc", "kind", "payload", "prev", "hash",
        ] {
            assert!(r.get(f).is_some(), "{f} in {line}");
        }
    }

    // A hand-edited record is found, and a run refuses the ledger before
    // its first effect.
    let text_before = std::fs::read_to_string(&ledger).unwrap();
    let edited = text_before.replacen("effect number 000007", "effect number 999999", 1);
    assert_ne!(edited, text_before);
    std::fs::write(&ledger, &edited).unwrap();
    let o = dustrun(&["ledger", "verify", ledger.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    let n = text_before
        .lines()
        .position(|l| l.contains("effect number 000007"))
        .unwrap()
        + 1;
    assert!(
        e.contains("E0024") && e.contains(&format!("record {n} ")),
        "{e}"
    );
    let trace = d.join("t.json");
    let o = dustrun(&[
        "examples/audit_log.json",
        "--ledger",
        ledger.to_str().unwrap(),
        "--trace-out",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(text(&o.stdout), "", "refused before the first emit");
    assert_eq!(json(&trace)["outcome"], "not-run");
    assert_eq!(std::fs::read_to_string(&ledger).unwrap(), edited);
}

/// A real file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes the
/// ledger's disk "full" part-way: the run stops with exit 15, the torn record
/// is taken back, and the ledger still verifies with exactly the records
/// realized.
#[test]
fn a_full_ledger_stops_realization_and_stays_valid() {
    use std::os::unix::process::CommandExt;
    let d = temp_dir("fsize");
    let prog = many(&d, "seals.dir", "seal", 200);
    let ledger = d.join("ledger.jsonl");
    let trace = d.join("t.json");
    // Fill the ledger first, so the limit cuts it and not the (smaller) trace.
    for _ in 0..3 {
        let o = dustrun(&[prog.to_str().unwrap(), "--ledger", ledger.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    let before = std::fs::metadata(&ledger).unwrap().len();
    let limit = before + 12 * 1024;
    let mut c = cmd(&[
        prog.to_str().unwrap(),
        "--ledger",
        ledger.to_str().unwrap(),
        "--trace-out",
        trace.to_str().unwrap(),
    ]);
    // SAFETY: between fork and exec only async-signal-safe calls are made.
    unsafe {
        c.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let l = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &l) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(15), "{}", text(&o.stderr));
    let e = text(&o.stderr);
    assert!(e.contains("on ledger: File too large;"), "{e}");
    let o = dustrun(&["ledger", "verify", ledger.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let records = std::fs::read_to_string(&ledger).unwrap().lines().count() as u64;
    let new = records - 600;
    assert!(new > 0 && new < 200, "{records}");
    assert!(std::fs::metadata(&ledger).unwrap().len() <= limit);
    let t = json(&trace);
    assert_eq!(t["outcome"], "executed");
    assert_eq!(t["realization"]["realized"], new);
    assert_eq!(t["realization"]["failed"]["realizer"], "ledger");
    assert_eq!(t["realization"]["failed"]["error"], "file too large");
}

#[test]
fn replay_confirms_diverges_and_refuses() {
    let d = temp_dir("replay");
    let prog = d.join("ordered.dir");
    std::fs::copy(repo().join("examples/ordered_effects.dir"), &prog).unwrap();
    let trace = d.join("t.json");
    let t = trace.to_str().unwrap();
    let o = dustrun(&[prog.to_str().unwrap(), "--trace-out", t]);
    assert_eq!(o.status.code(), Some(0));

    // Identical: one confirming line. The artifact is found beside the trace.
    let o = dustrun(&["--replay", t]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("replay identical"), "{out}");

    // A different trace: the first divergence, with both values.
    let mut v = json(&trace);
    v["effects"]["events"][1]["payload"] = "6".into();
    let edited = d.join("edited.json");
    std::fs::write(&edited, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let o = dustrun(&["--replay", edited.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(13));
    let e = text(&o.stderr);
    assert!(
        e.contains("E0027") && e.contains("`effects.events[1].payload`: recorded \"6\", now \"5\""),
        "{e}"
    );

    // The artifact edited: refused before anything runs, naming the digest.
    let original = std::fs::read_to_string(&prog).unwrap();
    std::fs::write(&prog, original.replace("let y = 5;", "let y = 6;")).unwrap();
    let o = dustrun(&["--replay", t]);
    assert_eq!(o.status.code(), Some(14));
    let e = text(&o.stderr);
    assert!(
        e.contains("E0026") && e.contains("the artifact changed"),
        "{e}"
    );
    assert_eq!(text(&o.stdout), "");
    // ... while --dir can name the original.
    let o = dustrun(&["--replay", t, "--dir", "examples/ordered_effects.dir"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));

    // The rule tables edited: refused, naming the tables.
    let tables = d.join("tables");
    dustrun(&["rules", "--export", tables.to_str().unwrap()]);
    let f = tables.join("09-time.ron");
    let mut s = std::fs::read_to_string(&f).unwrap();
    s.push_str("\n// edited\n");
    std::fs::write(&f, s).unwrap();
    let o = dustrun(&[
        "--rules",
        tables.to_str().unwrap(),
        "--replay",
        t,
        "--dir",
        "examples/ordered_effects.dir",
    ]);
    assert_eq!(o.status.code(), Some(14));
    assert!(text(&o.stderr).contains("the rule tables changed"));

    // --embed-dir: the trace replays on its own, anywhere.
    let embedded = d.join("embedded.json");
    let o = dustrun(&[
        "--simulate",
        "--embed-dir",
        "examples/audit_log.json",
        "--trace-out",
        embedded.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = dustrun(&["--replay", embedded.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));

    // Not found anywhere: a usage error that says how to give it.
    std::fs::remove_file(&prog).unwrap();
    let o = dustrun(&["--replay", t]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--dir FILE"));
    let o = dustrun(&["--replay", "examples/hello.dir"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn replay_realize_enacts_again_only_when_identical() {
    let d = temp_dir("replay-realize");
    let trace = d.join("t.json");
    let ledger = d.join("l.jsonl");
    let (t, l) = (trace.to_str().unwrap(), ledger.to_str().unwrap());
    let o = dustrun(&["examples/audit_log.json", "--ledger", l, "--trace-out", t]);
    assert_eq!(o.status.code(), Some(0));
    let first = text(&o.stdout);
    let o = dustrun(&["--replay", t, "--realize", "--ledger", l]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), first, "stdout holds only the effects");
    assert!(text(&o.stderr).contains("replay identical"));
    let o = dustrun(&["ledger", "verify", l]);
    assert!(
        text(&o.stdout).contains("2 record(s)"),
        "{}",
        text(&o.stdout)
    );

    let mut v = json(&trace);
    v["returned"] = serde_json::json!({"Int": 1});
    std::fs::write(&trace, v.to_string()).unwrap();
    let o = dustrun(&["--replay", t, "--realize", "--ledger", l]);
    assert_eq!(o.status.code(), Some(13));
    assert_eq!(text(&o.stdout), "", "a divergent run is never realized");
}

/// A program that observes, seals and then emits.
fn obs_emit(dir: &Path) -> PathBuf {
    let p = dir.join("obs_emit.dir");
    std::fs::write(
        &p,
        "dir 0.1;\nforge O {\n  proc K main() -> i64 {\n    let x = 7;\n    observe x;\n    seal x;\n    emit x;\n    return x;\n  }\n}\n",
    )
    .unwrap();
    p
}

#[test]
fn what_is_known_before_the_first_effect_stops_the_run_first() {
    let d = temp_dir("first");
    let prog = obs_emit(&d);
    let p = prog.to_str().unwrap();
    let ledger = d.join("l.jsonl");
    let l = ledger.to_str().unwrap();
    // stdout closed: not even the ledger effects before the emit happen.
    let trace = d.join("t.json");
    let o = sh(&format!(
        "exec \"$D\" '{p}' --ledger '{l}' --trace-out '{}' >&-",
        trace.display()
    ));
    assert_eq!(o.status.code(), Some(15), "{}", text(&o.stderr));
    assert!(!ledger.exists() || std::fs::read(&ledger).unwrap().is_empty());
    let t = json(&trace);
    assert_eq!(t["realization"]["realized"], 0);
    assert_eq!(t["realization"]["failed"]["effect"], 2, "the emit");

    // --trace-out naming a directory: refused before any effect.
    for bad in [
        d.to_str().unwrap().to_string(),
        format!("{}/new/", d.display()),
    ] {
        let o = dustrun(&[p, "--ledger", l, "--trace-out", &bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o.stderr));
        assert_eq!(text(&o.stdout), "", "{bad}");
        assert!(!ledger.exists(), "{bad}");
    }

    // --ledger and --trace-out naming one new file, spelled differently.
    let o = cmd(&[p, "--ledger", "same.l", "--trace-out", "./same.l"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(!d.join("same.l").exists());

    // --ledger with --simulate would be silently ignored: refused.
    assert_eq!(
        dustrun(&["--simulate", p, "--ledger", l]).status.code(),
        Some(2)
    );

    // OS wording never reaches a trace.
    let o = dustrun(&[
        p,
        "--ledger",
        &format!("{}/nodir/x.l", d.display()),
        "--trace-out",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let t = json(&trace);
    assert_eq!(t["outcome"], "not-run");
    let m = t["error"]["message"].as_str().unwrap();
    assert!(!m.contains("os error"), "{m}");
}

#[test]
fn a_usage_stop_replaces_an_earlier_trace() {
    let d = temp_dir("stale");
    let trace = d.join("t.json");
    for args in [
        vec!["examples/hello.dir", "--arg", "foo"],
        vec!["missing.dir"],
        vec!["examples/hello.dir", "--deny-resource", "1x"],
    ] {
        std::fs::write(&trace, "STALE").unwrap();
        let mut a = args.clone();
        a.extend(["--trace-out", trace.to_str().unwrap()]);
        let o = dustrun(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let t = json(&trace);
        assert_eq!(t["outcome"], "not-run", "{args:?}");
        assert!(t["error"]["code"].as_str().unwrap().starts_with("E002"));
    }
}

#[test]
fn the_temporary_trace_never_follows_a_planted_link() {
    let d = temp_dir("planted");
    let precious = d.join("precious.txt");
    std::fs::write(&precious, "precious").unwrap();
    let o = Command::new("sh")
        .current_dir(&d)
        .env("D", BIN)
        .env("P", repo().join("examples/hello.dir"))
        .args([
            "-c",
            "ln -s precious.txt .t.json.dustrun-$$-0.tmp; exec \"$D\" --simulate \"$P\" --trace-out t.json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "precious");
    assert!(json(&d.join("t.json"))["trace_version"].is_number());
}

#[test]
fn replay_guards_its_inputs_and_tells_what_it_did() {
    let d = temp_dir("replay-guard");
    let prog = d.join("hello.dir");
    std::fs::copy(repo().join("examples/hello.dir"), &prog).unwrap();
    let trace = d.join("h.json");
    let t = trace.to_str().unwrap();
    assert_eq!(
        dustrun(&[prog.to_str().unwrap(), "--trace-out", t])
            .status
            .code(),
        Some(0)
    );
    // The program found by its recorded name is an input too.
    let o = dustrun(&["--replay", t, "--trace-out", prog.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read(&prog).unwrap(),
        std::fs::read(repo().join("examples/hello.dir")).unwrap()
    );
    let o = dustrun(&["--replay", t, "--trace-out", t]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("the replayed trace"));
    // A simulated replay's own trace says it simulated.
    let again = d.join("again.json");
    let o = dustrun(&["--replay", t, "--trace-out", again.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v = json(&again);
    assert_eq!(v["config"]["mode"], "simulate");
    assert_eq!(v["run"], json(&trace)["run"], "the same run");
    // --ledger without --realize would be ignored: refused.
    assert_eq!(
        dustrun(&["--replay", t, "--ledger", "x.l"]).status.code(),
        Some(2)
    );
    // A run refused before realization has nothing to replay.
    let nr = d.join("nr.json");
    let o = dustrun(&[
        "examples/audit_log.json",
        "--trace-out",
        nr.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = dustrun(&[
        "--replay",
        nr.to_str().unwrap(),
        "--dir",
        "examples/audit_log.json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("nothing to replay"),
        "{}",
        text(&o.stderr)
    );
    // A hostile trace naming an absolute path is refused, never read.
    let mut v = json(&trace);
    v["artifact"]["name"] = "/etc/passwd".into();
    let abs = d.join("abs.json");
    std::fs::write(&abs, v.to_string()).unwrap();
    let o = dustrun(&["--replay", abs.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("absolute path"));
}
