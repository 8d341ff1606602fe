//! `dustrun conformance --backend CMD`: judge an execution backend against
//! the reference. Every case is decided by dustrun (realize-mode admission,
//! effects captured, not enacted) and run by the backend; what a foreign
//! backend makes observable is compared: its standard output against the
//! reference's `emit` payloads, in order, and whether it executed at all (a
//! run the reference does not execute must print nothing). Ticks, internal
//! ids, wording and the ledger effects (`observe`, `seal`) are not
//! observable from outside and are not compared.

use crate::CaseConfig;
use engine::{Engine, Mode, Outcome, Source};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) mod embedded {
    include!(concat!(env!("OUT_DIR"), "/corpus.rs"));
}

/// Version of the JSON report (docs/conformance-schema.md).
pub const REPORT_VERSION: u32 = 2;

/// A backend's standard output is read up to this many bytes.
const MAX_OUTPUT: usize = 64 * 1024 * 1024;

/// One case to judge.
#[derive(Clone, Debug)]
pub struct JudgeCase {
    /// `area/file` for corpus cases, the path as given otherwise.
    pub name: String,
    pub input: Input,
    pub config: CaseConfig,
}

#[derive(Clone, Debug)]
pub enum Input {
    /// DIR bytes (JSON or textual: `text` says which).
    Dir { bytes: Vec<u8>, text: bool },
    /// A source file for `--compiler`.
    Source(PathBuf),
}

/// The built-in corpus, embedded in the binary.
pub fn builtin() -> Result<Vec<JudgeCase>, String> {
    let mut out = Vec::new();
    for (name, bytes) in embedded::CORPUS {
        let text = name.ends_with(".dir");
        if !text && !name.ends_with(".json") {
            continue;
        }
        let sidecar = format!("{}.case", &name[..name.rfind('.').unwrap_or(name.len())]);
        let config = match embedded::CORPUS.iter().find(|(n, _)| *n == sidecar) {
            Some((_, b)) => {
                parse_config(&String::from_utf8_lossy(b)).map_err(|e| format!("{sidecar}: {e}"))?
            }
            None => CaseConfig::default(),
        };
        out.push(JudgeCase {
            name: name.to_string(),
            input: Input::Dir {
                bytes: bytes.to_vec(),
                text,
            },
            config,
        });
    }
    Ok(out)
}

pub(crate) fn parse_config(text: &str) -> Result<CaseConfig, String> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str(text)
        .map_err(|e| e.to_string())
}

/// Cases from the command line: DIR files, directories (recursively, in
/// name order) and source files of any other extension.
pub fn from_paths(paths: &[PathBuf]) -> Result<Vec<JudgeCase>, String> {
    let mut out = Vec::new();
    for p in paths {
        collect(p, &mut out, true)?;
    }
    Ok(out)
}

fn collect(p: &Path, out: &mut Vec<JudgeCase>, given: bool) -> Result<(), String> {
    let meta =
        std::fs::metadata(p).map_err(|e| format!("cannot read `{}`: {}", p.display(), e.kind()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| format!("cannot read `{}`: {}", p.display(), e.kind()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            collect(&e, out, false)?;
        }
        return Ok(());
    }
    let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
    // Inside a directory only programs count: sidecars, snapshots and
    // notes are not cases. A file named on the command line always is.
    if !given && !matches!(ext, "json" | "dir") {
        return Ok(());
    }
    let sidecar = p.with_extension("case");
    let config = if ext != "case" && sidecar.is_file() {
        let text = std::fs::read_to_string(&sidecar)
            .map_err(|e| format!("cannot read `{}`: {}", sidecar.display(), e.kind()))?;
        parse_config(&text).map_err(|e| format!("{}: {e}", sidecar.display()))?
    } else {
        CaseConfig::default()
    };
    let input = match ext {
        "json" | "dir" => Input::Dir {
            bytes: read_limited(p)?,
            text: ext == "dir",
        },
        _ => Input::Source(p.to_path_buf()),
    };
    out.push(JudgeCase {
        name: p.display().to_string(),
        input,
        config,
    });
    Ok(())
}

fn read_limited(p: &Path) -> Result<Vec<u8>, String> {
    let mut b = Vec::new();
    std::fs::File::open(p)
        .and_then(|f| {
            f.take(dir_grammar::limits::MAX_INPUT_BYTES as u64 + 1)
                .read_to_end(&mut b)
        })
        .map_err(|e| format!("cannot read `{}`: {}", p.display(), e.kind()))?;
    Ok(b)
}

/// How to run the backend.
pub struct Options {
    pub backend: String,
    pub compiler: Option<String>,
    pub timeout: Duration,
    pub exact_exit: bool,
    pub jobs: usize,
    /// `--resources`/`--deny-resource` for the reference (realize mode).
    pub provide: Vec<String>,
    pub deny: Vec<String>,
}

/// A case's verdict.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Verdict {
    Agree,
    Disagree { divergence: String },
    BackendError { reason: String },
    NotCompiled { reason: String },
    NotComparable { reason: String },
}

impl Verdict {
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Agree => "agree",
            Verdict::Disagree { .. } => "disagree",
            Verdict::BackendError { .. } => "backend-error",
            Verdict::NotCompiled { .. } => "not compiled",
            Verdict::NotComparable { .. } => "not comparable",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseReport {
    pub name: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The reference's outcome (`executed`, `inadmissible`, …).
    pub reference: String,
    /// What the reference expects on standard output: at most
    /// [`EXCERPT_LINES`] lines from `excerpt_start` (a few before the first
    /// difference, or the first lines), so that a report stays small
    /// whatever a backend prints (every line of 64 MiB of output was a
    /// `String`: 1.9 GB a case).
    pub expected: Vec<String>,
    /// What the backend printed, the same lines of it, when it ran.
    pub actual: Vec<String>,
    /// The 0-based line both excerpts start at.
    pub excerpt_start: usize,
    /// Lines the reference expects in all.
    pub expected_lines: usize,
    /// Lines the backend printed in all.
    pub actual_lines: usize,
    pub exit: Option<i32>,
}

/// Lines of each output a case report shows.
pub const EXCERPT_LINES: usize = 40;
/// Lines shown before the first difference.
const CONTEXT_LINES: usize = 10;

/// The first line where the reference's expected lines and the backend's
/// differ (one ending before the other included), compared as they are
/// read, and how many lines the backend printed.
fn compare_lines<'a, 'b>(
    expected: impl Iterator<Item = &'a str>,
    actual: impl Iterator<Item = &'b str>,
) -> (Option<usize>, usize) {
    let (mut e, mut a) = (expected.fuse(), actual.fuse());
    let (mut i, mut first) = (0, None);
    loop {
        match (e.next(), a.next()) {
            (None, None) => return (first, i),
            (Some(x), Some(y)) => {
                if x != y && first.is_none() {
                    first = Some(i);
                }
            }
            (Some(_), None) => return (first.or(Some(i)), i),
            (None, Some(_)) => return (first.or(Some(i)), i + 1 + a.count()),
        }
        i += 1;
    }
}

/// Quote a value for `sh`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Replace `{name}` placeholders with already-quoted values.
fn fill(cmd: &str, values: &[(&str, String)]) -> String {
    let mut out = String::new();
    let mut rest = cmd;
    'outer: while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        for (name, v) in values {
            let key = format!("{{{name}}}");
            if rest[i..].starts_with(&key) {
                out.push_str(v);
                rest = &rest[i + key.len()..];
                continue 'outer;
            }
        }
        out.push('{');
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
}

/// The case's own dustrun flags, each quoted.
fn case_flags(c: &CaseConfig) -> Vec<String> {
    let mut f = Vec::new();
    if let Some(e) = &c.entry {
        f.push(format!("--entry {}", shell_quote(e)));
    }
    for a in &c.args {
        f.push(format!("--arg {}", shell_quote(a)));
    }
    if let Some(n) = c.max_steps {
        f.push(format!("--max-steps {n}"));
    }
    if let Some(n) = c.solver_budget {
        f.push(format!("--solver-budget {n}"));
    }
    for d in &c.deny_resources {
        f.push(format!("--deny-resource {}", shell_quote(d)));
    }
    f
}

/// What a command did.
struct Ran {
    status: Result<i32, String>,
    stdout: Vec<u8>,
}

/// Run `sh -c cmd` in `dir` with a timeout; the whole process group is
/// killed when it runs out.
fn run_shell(cmd: &str, dir: &Path, timeout: Duration) -> Ran {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return Ran {
                status: Err(format!("cannot start: {}", e.kind())),
                stdout: Vec::new(),
            }
        }
    };
    let pid = child.id() as i32;
    let mut out = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.take(MAX_OUTPUT as u64).read_to_end(&mut buf);
        }
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Ok(s),
            Ok(None) if start.elapsed() >= timeout => {
                // SAFETY: signalling our own child's process group.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
                let _ = child.wait();
                break Err(format!("timed out after {} ms", timeout.as_millis()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => break Err(format!("cannot wait: {}", e.kind())),
        }
    };
    // The group may hold the pipe open (a background grandchild).
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let stdout = reader.join().unwrap_or_default();
    let status = status.and_then(|s| match (s.code(), s.signal()) {
        (Some(c), _) => Ok(c),
        (None, Some(sig)) => Err(format!("killed by signal {sig}")),
        _ => Err("ended without a status".into()),
    });
    Ran { status, stdout }
}

/// The exit code dustrun gives a run: 0 when executed, else its stop's
/// category's (the catalogue entry of its code).
fn reference_exit(engine: &Engine, o: Outcome, code: Option<&str>) -> i32 {
    match (o, code.and_then(|c| engine.tables().entry(c))) {
        (Outcome::Executed, _) => 0,
        (_, Some(e)) => i32::from(e.category.exit_code()),
        // A stop always carries a catalogued code (checked at start-up).
        (_, None) => i32::from(semantics::Category::Internal.exit_code()),
    }
}

/// The lines of an excerpt from `start`.
fn excerpt<'a>(lines: impl Iterator<Item = &'a str>, start: usize) -> Vec<String> {
    lines
        .skip(start)
        .take(EXCERPT_LINES)
        .map(str::to_string)
        .collect()
}

/// Judge one case.
pub fn judge(engine: &Engine, case: &JudgeCase, o: &Options, scratch: &Path) -> CaseReport {
    let mut report = CaseReport {
        name: case.name.clone(),
        verdict: Verdict::Agree,
        reference: String::new(),
        expected: Vec::new(),
        actual: Vec::new(),
        excerpt_start: 0,
        expected_lines: 0,
        actual_lines: 0,
        exit: None,
    };
    let tmp = scratch.join("work");
    let _ = std::fs::create_dir_all(&tmp);
    // The DIR: given, or what the compiler makes of the source.
    let (dir_bytes, text) = match &case.input {
        Input::Dir { bytes, text } => (bytes.clone(), *text),
        Input::Source(src) => {
            let Some(compiler) = &o.compiler else {
                report.verdict = Verdict::NotCompiled {
                    reason: "a source case needs `--compiler CMD`".into(),
                };
                return report;
            };
            let abs = std::fs::canonicalize(src).unwrap_or_else(|_| src.clone());
            let cmd = fill(compiler, &[("src", shell_quote(&abs.to_string_lossy()))]);
            let ran = run_shell(&cmd, &tmp, o.timeout);
            match ran.status {
                Ok(0) => {
                    let mut s = String::from_utf8_lossy(&ran.stdout).into_owned();
                    if s.trim_start().starts_with("//") {
                        s = s
                            .split_once('\n')
                            .map(|x| x.1.to_string())
                            .unwrap_or_default();
                    }
                    (s.into_bytes(), false)
                }
                Ok(c) => {
                    report.verdict = Verdict::NotCompiled {
                        reason: format!("the compiler exited with {c}"),
                    };
                    return report;
                }
                Err(e) => {
                    report.verdict = Verdict::NotCompiled {
                        reason: format!("the compiler {e}"),
                    };
                    return report;
                }
            }
        }
    };
    // The reference: realize-mode admission, effects captured.
    let mut cfg = case.config.run_config(Mode::Realize);
    cfg.deny_resources.extend(o.deny.iter().cloned());
    cfg.provide_resources.extend(o.provide.iter().cloned());
    let r = engine.run(
        &Source {
            name: &case.name,
            bytes: &dir_bytes,
        },
        &cfg,
    );
    let t = &r.trace;
    report.reference = t.outcome.name().to_string();
    let code = t.error.as_ref().map(|e| e.code.as_str());
    if t.outcome == Outcome::Undetermined {
        report.verdict = Verdict::NotComparable {
            reason: format!(
                "the reference is undetermined ({}): no decision to compare",
                code.unwrap_or("-")
            ),
        };
        return report;
    }
    if !case.config.provide_resources.is_empty() {
        report.verdict = Verdict::NotComparable {
            reason:
                "the case provides resources through a manifest, which a backend cannot receive"
                    .into(),
        };
        return report;
    }
    // The reference's stdout lines: each emit payload's lines.
    let expected = || {
        r.events()
            .iter()
            .filter(|e| &*e.kind == "emit")
            .flat_map(|e| e.payload.split('\n'))
    };
    report.expected_lines = expected().count();
    report.expected = excerpt(expected(), 0);
    // The backend, given the DIR as JSON (textual DIR converted first; a
    // text that does not load is given as it is).
    let dir_file = match (text, dir_grammar::load(&dir_bytes)) {
        (true, Ok(p)) => {
            let f = tmp.join("case.json");
            let _ = std::fs::write(&f, dir_grammar::print::to_json(&p));
            f
        }
        (true, Err(_)) => {
            let f = tmp.join("case.dir");
            let _ = std::fs::write(&f, &dir_bytes);
            f
        }
        (false, _) => {
            let f = tmp.join("case.json");
            let _ = std::fs::write(&f, &dir_bytes);
            f
        }
    };
    let src = match &case.input {
        Input::Source(p) => std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()),
        _ => PathBuf::new(),
    };
    let cmd = fill(
        &o.backend,
        &[
            ("dir", shell_quote(&dir_file.to_string_lossy())),
            ("src", shell_quote(&src.to_string_lossy())),
            (
                "entry",
                shell_quote(case.config.entry.as_deref().unwrap_or("main")),
            ),
            ("args", case_flags(&case.config).join(" ")),
            ("tmp", shell_quote(&tmp.to_string_lossy())),
        ],
    );
    let ran = run_shell(&cmd, &tmp, o.timeout);
    let stdout = String::from_utf8_lossy(&ran.stdout);
    let (first, actual_lines) = compare_lines(expected(), stdout.lines());
    report.actual_lines = actual_lines;
    report.excerpt_start = first.map_or(0, |f| f.saturating_sub(CONTEXT_LINES));
    report.expected = excerpt(expected(), report.excerpt_start);
    report.actual = excerpt(stdout.lines(), report.excerpt_start);
    let exit = match ran.status {
        Ok(c) => c,
        Err(reason) => {
            report.verdict = Verdict::BackendError { reason };
            return report;
        }
    };
    report.exit = Some(exit);
    if exit == 126 || exit == 127 {
        report.verdict = Verdict::BackendError {
            reason: format!("the backend could not be started (exit {exit})"),
        };
        return report;
    }
    let executed = t.outcome == Outcome::Executed;
    report.verdict = if executed && exit != 0 {
        Verdict::Disagree {
            divergence: format!("outcome: the reference executed, the backend exited with {exit}"),
        }
    } else if !executed && exit == 0 {
        Verdict::Disagree {
            divergence: format!(
                "outcome: the reference is {} ({}), the backend exited 0",
                report.reference,
                code.unwrap_or("-")
            ),
        }
    } else if !executed && !ran.stdout.is_empty() {
        Verdict::Disagree {
            divergence: format!(
                "partial execution: the reference is {}, but the backend printed {} line(s), first {:?}",
                report.reference,
                report.actual_lines,
                stdout.lines().next().unwrap_or_default()
            ),
        }
    } else if let Some(i) = first {
        let at = |lines: &[String]| lines.get(i - report.excerpt_start).cloned();
        Verdict::Disagree {
            divergence: line_divergence(i, at(&report.expected), at(&report.actual)),
        }
    } else if o.exact_exit && exit != reference_exit(engine, t.outcome, code) {
        Verdict::Disagree {
            divergence: format!(
                "exit code: the reference's is {}, the backend's {exit}",
                reference_exit(engine, t.outcome, code)
            ),
        }
    } else {
        Verdict::Agree
    };
    report
}

fn line_divergence(i: usize, expected: Option<String>, actual: Option<String>) -> String {
    format!(
        "stdout line {}: expected {}, actual {}",
        i + 1,
        expected.map_or("(nothing)".to_string(), |s| format!("{s:?}")),
        actual.map_or("(nothing)".to_string(), |s| format!("{s:?}"))
    )
}

/// Judge every case, `jobs` at a time; reports in case order. `progress`
/// is called after each case with (done, total).
pub fn judge_all(
    engine: &Engine,
    cases: &[JudgeCase],
    o: &Options,
    scratch: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<CaseReport> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<CaseReport>>> = Mutex::new(vec![None; cases.len()]);
    std::thread::scope(|s| {
        for _ in 0..o.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let dir = scratch.join(format!("case-{i}"));
                let r = dir_grammar::on_parse_stack(|| judge(engine, case, o, &dir));
                let _ = std::fs::remove_dir_all(&dir);
                if let Ok(mut v) = results.lock() {
                    v[i] = Some(r);
                }
                progress(done.fetch_add(1, Ordering::SeqCst) + 1, cases.len());
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Counts per verdict, in a fixed order.
pub fn totals(reports: &[CaseReport]) -> Vec<(&'static str, usize)> {
    [
        "agree",
        "disagree",
        "backend-error",
        "not compiled",
        "not comparable",
    ]
    .iter()
    .map(|w| {
        (
            *w,
            reports.iter().filter(|r| r.verdict.word() == *w).count(),
        )
    })
    .collect()
}

/// Whether the backend conforms: no disagreement, no backend error.
pub fn passed(reports: &[CaseReport]) -> bool {
    !reports.iter().any(|r| {
        matches!(
            r.verdict,
            Verdict::Disagree { .. } | Verdict::BackendError { .. }
        )
    })
}

pub fn human(reports: &[CaseReport]) -> String {
    let mut s = String::new();
    for r in reports {
        match &r.verdict {
            Verdict::Agree | Verdict::NotComparable { .. } => {}
            Verdict::Disagree { divergence } => {
                s.push_str(&format!("disagree       {}: {divergence}\n", r.name))
            }
            Verdict::BackendError { reason } => {
                s.push_str(&format!("backend-error  {}: {reason}\n", r.name))
            }
            Verdict::NotCompiled { reason } => {
                s.push_str(&format!("not compiled   {}: {reason}\n", r.name))
            }
        }
    }
    s.push('\n');
    for (w, n) in totals(reports) {
        s.push_str(&format!("{w:15} {n:>5}\n"));
    }
    s.push_str(&format!("{:15} {:>5}\n", "cases", reports.len()));
    s
}

pub fn json(backend: &str, reports: &[CaseReport]) -> String {
    let totals: serde_json::Map<String, serde_json::Value> = totals(reports)
        .into_iter()
        .map(|(w, n)| (w.to_string(), n.into()))
        .collect();
    let v = serde_json::json!({
        "report_version": REPORT_VERSION,
        "backend": backend,
        "passed": passed(reports),
        "totals": totals,
        "cases": reports,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained page: the summary, then each divergence side by side.
pub fn html(backend: &str, reports: &[CaseReport]) -> String {
    let mut s = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>dustrun conformance report</title>\n<style>\nbody{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .6em;vertical-align:top}pre{margin:0}.disagree{background:#fdd}.backend-error{background:#fec}\n</style>\n</head>\n<body>\n");
    s.push_str(&format!(
        "<h1>Conformance of <code>{}</code></h1>\n<p>{}</p>\n<table>\n<tr><th>verdict</th><th>cases</th></tr>\n",
        esc(backend),
        if passed(reports) {
            "The backend conforms on every comparable case."
        } else {
            "The backend does not conform."
        }
    ));
    for (w, n) in totals(reports) {
        s.push_str(&format!("<tr><td>{w}</td><td>{n}</td></tr>\n"));
    }
    s.push_str("</table>\n<h2>Divergences</h2>\n<table>\n<tr><th>case</th><th>divergence</th><th>expected (reference)</th><th>actual (backend)</th></tr>\n");
    for r in reports {
        let (class, what) = match &r.verdict {
            Verdict::Disagree { divergence } => ("disagree", divergence.clone()),
            Verdict::BackendError { reason } => ("backend-error", reason.clone()),
            _ => continue,
        };
        // Each excerpt with where it is in the whole output.
        let shown = |lines: &[String], total: usize| {
            let from = r.excerpt_start + 1;
            let range = match lines.len() {
                0 => format!("no lines of {total}"),
                n => format!("lines {from}–{} of {total}", from + n - 1),
            };
            format!("<i>{range}</i>\n<pre>{}</pre>", esc(&lines.join("\n")))
        };
        s.push_str(&format!(
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&r.name),
            esc(&what),
            shown(&r.expected, r.expected_lines),
            shown(&r.actual, r.actual_lines)
        ));
    }
    s.push_str("</table>\n</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_with_quoted_values() {
        let q = shell_quote("it's a \"file\" with spaces");
        assert_eq!(q, r#"'it'\''s a "file" with spaces'"#);
        let cmd = fill(
            "run {dir} {args} {unknown} {",
            &[("dir", q.clone()), ("args", String::new())],
        );
        assert_eq!(cmd, format!("run {q}  {{unknown}} {{"));
    }

    #[test]
    fn the_builtin_corpus_is_embedded() {
        let cases = builtin().unwrap();
        assert!(cases.len() > 200);
        assert!(cases.iter().any(|c| c.name == "k/hello.json"));
        let args = cases.iter().find(|c| c.name == "entry/args.dir").unwrap();
        assert!(!args.config.args.is_empty(), "sidecars are read");
    }
}
