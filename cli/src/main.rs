//! `dustrun`: the reference executor of DPL v0.1. The only crate that touches
//! files and terminals.

use clap::{Args, Parser, Subcommand, ValueEnum};
use engine::{
    render, Category, Diagnostic, Engine, Mode, Outcome, Report, RunConfig, Source, Tables,
};
use semantics::Realizer;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod fds;
mod ledger;

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (implements DPL v0.1, DIR 0.1)");

#[derive(Parser)]
#[command(
    name = "dustrun",
    version = VERSION,
    about = "The reference executor of the Dust Programming Language (DPL v0.1)",
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes: 0 executed, 1 conformance changes or a ledger that does not verify, 2 usage or I/O error, 3 load error, 4 rejected, 10 inadmissible, 11 failed, 12 undetermined, 13 replay diverged, 14 replay refused (artifact or tables changed), 15 realization failed, 70 internal error"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
    /// Load the rule tables from DIR instead of the embedded defaults.
    #[arg(long, global = true, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Diagnostic format on stderr (rustc's convention).
    #[arg(long = "error-format", global = true, value_enum, default_value_t = Format::Human)]
    error_format: Format,
    /// The old spelling of `--error-format`, for running a program
    /// (`dustrun --format json FILE`); a subcommand's `--format` is its own
    /// output's format.
    #[arg(long = "format", value_enum, value_name = "ERROR_FORMAT")]
    old_error_format: Option<Format>,
    /// Colour in human diagnostics: `auto` colours a terminal unless
    /// NO_COLOR is set (CLICOLOR_FORCE=1 colours any output).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether diagnostics on stderr are coloured: the flag, then the
    /// NO_COLOR and CLICOLOR_FORCE conventions, then whether stderr is a
    /// terminal.
    fn colour_stderr(self) -> bool {
        use std::io::IsTerminal;
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set("NO_COLOR") => false,
            ColorChoice::Auto if set("CLICOLOR_FORCE") => true,
            ColorChoice::Auto => std::io::stderr().is_terminal(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
}

/// `dustrun explain`'s own output format.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Human,
    Json,
    Dot,
}

#[derive(Args)]
struct RunArgs {
    /// DIR program to run (JSON DIR or textual DIR).
    file: Option<PathBuf>,
    /// Record and show effects without realizing them.
    #[arg(long)]
    simulate: bool,
    /// Re-run the run a trace (`--trace-out`) records and confirm the new
    /// trace is identical (exit 0), or name the first divergence (exit 13).
    #[arg(long, value_name = "TRACE", conflicts_with_all = [
        "file", "simulate", "emit_trace", "entry", "args", "max_steps",
        "solver_budget", "deny_resource", "resources", "embed_dir",
    ])]
    replay: Option<PathBuf>,
    /// With `--replay`: the DIR artifact (default: embedded in the trace,
    /// else the recorded name next to the trace).
    #[arg(long, value_name = "FILE", requires = "replay")]
    dir: Option<PathBuf>,
    /// With `--replay`: enact the effects again instead of simulating.
    #[arg(long, requires = "replay")]
    realize: bool,
    #[command(flatten)]
    common: CommonArgs,
    /// Print the trace JSON on stdout instead of the human output.
    #[arg(long)]
    emit_trace: bool,
    /// Append observe/seal effects to this ledger file (realize mode).
    #[arg(long, value_name = "FILE", conflicts_with = "simulate")]
    ledger: Option<PathBuf>,
}

#[derive(Args, Clone, Default)]
struct CommonArgs {
    /// Entry process: `main`, `K::main` or `Forge::K::main` (default `main`).
    #[arg(long, value_name = "NAME")]
    entry: Option<String>,
    /// Entry parameter value, e.g. `--arg c=Candidate{x: 7}` (repeatable).
    #[arg(long = "arg", value_name = "NAME=EXPR")]
    args: Vec<String>,
    /// Step budget (statements and calls evaluated); past it the run is undetermined.
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Φ solver work per query (conflicts); past it: undetermined.
    #[arg(long, value_name = "N")]
    solver_budget: Option<u64>,
    /// Also write the trace JSON to FILE (whatever the outcome; atomically).
    #[arg(long, value_name = "FILE")]
    trace_out: Option<PathBuf>,
    /// Store the DIR program in the trace, so it replays on its own.
    #[arg(long)]
    embed_dir: bool,
    /// Make resource NAME unavailable (repeatable; §8.6).
    #[arg(long = "deny-resource", value_name = "NAME")]
    deny_resource: Vec<String>,
    /// Resource manifest (RON): `(provide: ["Sensor"], deny: ["Console"])`.
    #[arg(long, value_name = "FILE")]
    resources: Option<PathBuf>,
}

/// Where a path leads once links and `..` are resolved; for a file that
/// does not exist yet, its resolved folder joined with its name.
fn resolved(p: &Path) -> Option<PathBuf> {
    if let Ok(r) = std::fs::canonicalize(p) {
        return Some(r);
    }
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
}

/// Whether two paths name one file, existing or about to be created.
fn same_file(a: &Path, b: &Path) -> bool {
    match (resolved(a), resolved(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// A resource manifest names a few resources; anything larger is not one.
const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

/// At most `cap` bytes of a file.
fn read_capped(path: &Path, cap: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    // Sized to the file when it has a size (a regular file), so the buffer
    // is not grown by doubling to twice the input; pipes and devices grow.
    let hint = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map_or(0, |m| m.len().min(cap as u64) as usize);
    let mut out = Vec::with_capacity(hint.saturating_add(1));
    file.take(cap as u64).read_to_end(&mut out)?;
    Ok(out)
}

/// `--resources FILE`.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    provide: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Load, validate and admit a program; realize nothing.
    Check {
        file: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Print a program canonically as textual DIR or JSON DIR.
    Fmt {
        #[arg(long, value_enum, default_value_t = To::Text)]
        to: To,
        file: PathBuf,
    },
    /// List every rule id with its spec cite, or export the default tables.
    Rules {
        /// Write the default tables into DIR for editing.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
    /// Explain a program's run (which rule admitted or rejected each process,
    /// binding, clause, resource and constraint), an error code (`E0201`) or
    /// a rule id (`ADM-GATE-PHI`).
    Explain {
        /// A DIR file, an error code, or a rule id.
        what: String,
        /// Output format (for a program: human, json or dot).
        #[arg(long, value_enum, default_value_t = ExplainFormat::Human)]
        format: ExplainFormat,
        /// Explain the simulate-mode run (every resource simulated) instead
        /// of the run `dustrun FILE` would make.
        #[arg(long)]
        simulate: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// The ledger of observe/seal effects.
    Ledger {
        #[command(subcommand)]
        cmd: LedgerCmd,
    },
    /// Run the conformance corpus and list cases whose outcome changed.
    ///
    /// With `--backend CMD`: judge an execution backend against dustrun on
    /// the built-in corpus (or CASES): its stdout against the reference's
    /// emit payloads, and whether it executes exactly the runs dustrun
    /// admits. CMD runs through `sh -c` with shell-quoted placeholders:
    /// {dir} the case as JSON DIR, {src} a source case, {entry}, {args} the
    /// case's own dustrun flags, {tmp} a fresh working folder.
    Conformance {
        /// The corpus to run: by default `conformance/cases` when run from
        /// the repository root, else the corpus built into dustrun (so it
        /// works from any directory).
        #[arg(long, value_name = "DIR")]
        corpus: Option<PathBuf>,
        /// The reviewed snapshots to compare with: by default the
        /// `snapshots` folder beside the corpus, or the built-in ones.
        #[arg(long, value_name = "DIR")]
        snapshots: Option<PathBuf>,
        /// The backend to judge (a shell command with placeholders).
        #[arg(long, value_name = "CMD")]
        backend: Option<String>,
        /// For source cases: prints the case's DIR JSON ({src}).
        #[arg(long, value_name = "CMD", requires = "backend")]
        compiler: Option<String>,
        /// Cases judged at once (default: the machine's cores).
        #[arg(long, value_name = "N", requires = "backend")]
        jobs: Option<usize>,
        /// Per backend run; past it the case is a backend error.
        #[arg(long, value_name = "N", default_value_t = 10_000, requires = "backend")]
        timeout_ms: u64,
        /// Also compare exit codes (for backends that use dustrun's).
        #[arg(long, requires = "backend")]
        exact_exit: bool,
        #[arg(long, value_enum, default_value_t = ReportFormat::Human, requires = "backend")]
        format: ReportFormat,
        /// Write the report to FILE instead of standard output.
        #[arg(long, value_name = "FILE", requires = "backend")]
        report: Option<PathBuf>,
        /// Resource manifest for the reference (as `dustrun FILE`).
        #[arg(long, value_name = "FILE", requires = "backend")]
        resources: Option<PathBuf>,
        /// Make resource NAME unavailable to the reference (repeatable).
        #[arg(long = "deny-resource", value_name = "NAME", requires = "backend")]
        deny_resource: Vec<String>,
        /// DIR files, directories, or source files (default: the corpus).
        #[arg(requires = "backend")]
        cases: Vec<PathBuf>,
    },
}

/// `dustrun conformance --backend`'s report format.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Human,
    Json,
    Html,
}

#[derive(Subcommand)]
enum LedgerCmd {
    /// Check a ledger's hash chain; name the first bad record (exit 1).
    Verify { file: PathBuf },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum To {
    Text,
    Json,
}

/// Standard output could not be written (closed, full): the command stops
/// with exit 2 instead of a panic.
struct StdoutFailed(String);

/// `--error-format json` as parsed, for the stops reported after the main
/// thread ended (a closed stdout, an internal error).
static JSON_ERRORS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `print!` that reports a failed write instead of panicking.
macro_rules! say {
    ($($t:tt)*) => {{
        say_streamed(|out| write!(out, $($t)*))
    }};
}

/// Stdout effects waiting to be written, and where each ends.
struct StdoutEffects {
    buf: Vec<u8>,
    /// (effect index, end of its line in `buf`).
    ends: Vec<(usize, usize)>,
}

/// A failed effect: (the effect, effects realized, realizer, error).
type Failed = (usize, usize, &'static str, std::io::Error);

impl StdoutEffects {
    /// Bytes gathered before a write.
    const BATCH: usize = 1 << 16;

    fn new() -> StdoutEffects {
        StdoutEffects {
            buf: Vec::with_capacity(Self::BATCH),
            ends: Vec::new(),
        }
    }

    /// Effect `n`'s line, written when the batch is full.
    fn push(&mut self, n: usize, payload: &[u8]) -> Result<(), Failed> {
        self.buf.extend_from_slice(payload);
        self.buf.push(b'\n');
        self.ends.push((n, self.buf.len()));
        if self.buf.len() >= Self::BATCH {
            return self.write();
        }
        Ok(())
    }

    /// Write the batch straight to descriptor 1 (no buffer of Rust's in
    /// between, which could take bytes and lose them later). On a failure,
    /// the effects whose lines were taken whole are the realized ones; the
    /// first other one failed.
    fn write(&mut self) -> Result<(), Failed> {
        let mut done = 0;
        while done < self.buf.len() {
            let rest = &self.buf[done..];
            // SAFETY: `rest` is a live, initialised slice for the call.
            let n = unsafe { libc::write(libc::STDOUT_FILENO, rest.as_ptr().cast(), rest.len()) };
            let err = match n {
                n if n > 0 => {
                    done += n as usize;
                    continue;
                }
                0 => std::io::Error::from(std::io::ErrorKind::WriteZero),
                _ => std::io::Error::last_os_error(),
            };
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            // The first effect whose line was not taken whole (there is
            // one: `done` is short of the batch's end).
            let effect = self
                .ends
                .iter()
                .find(|(_, end)| *end > done)
                .map_or(0, |(n, _)| *n);
            return Err((effect, effect, "stdout", err));
        }
        self.buf.clear();
        self.ends.clear();
        Ok(())
    }
}

/// Output to stdout, written as it is made through a buffer (`say!` for a
/// formatted line): a failed write is a `StdoutFailed` stop (exit 2).
fn say_streamed(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) {
    use std::io::Write as _;
    if fds::stdout_was_closed() {
        std::panic::panic_any(StdoutFailed("it is closed".into()));
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if let Err(e) = write(&mut out).and_then(|_| out.flush()) {
        std::panic::panic_any(StdoutFailed(e.kind().to_string()));
    }
}

/// `eprintln!` that never panics: when stderr itself fails there is nobody
/// left to tell, and the exit code still says what happened.
macro_rules! warn {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($t)*);
    }};
}

/// `println!` that reports a failed write instead of panicking.
macro_rules! sayln {
    () => { say!("\n") };
    ($($t:tt)*) => {{ say!($($t)*); say!("\n"); }};
}

/// A stop reported after the main thread ended (no engine is left): the
/// same diagnostic, from the embedded catalogue, rendered as every other.
fn late_stop(code: &str, message: &str) {
    let Ok(tables) = Tables::defaults() else {
        warn!("error[{code}]: {message}");
        return;
    };
    let d = Diagnostic::new(&tables, code, None, message);
    let src = Source {
        name: "",
        bytes: b"",
    };
    if JSON_ERRORS.load(std::sync::atomic::Ordering::Relaxed) {
        let v = serde_json::json!({ "diagnostics": [render::json(&src, &d)] });
        warn!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr().lock(),
            render::human(&src, &d).as_bytes(),
        );
    }
}

fn main() -> ExitCode {
    // A failed write to stdout unwinds to here as `StdoutFailed`; keep the
    // default report for every other panic.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<StdoutFailed>().is_none() {
            default_hook(info);
        }
    }));
    // Parse and evaluate on a thread with a large stack: every recursion is
    // bounded by documented limits, this is only a safety margin.
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(real_main);
    match handle.map(|h| h.join()) {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(payload)) if payload.downcast_ref::<StdoutFailed>().is_some() => {
            let why = payload
                .downcast_ref::<StdoutFailed>()
                .map(|f| f.0.clone())
                .unwrap_or_default();
            late_stop(
                engine::codes::IO,
                &format!("cannot write to standard output: {why}"),
            );
            ExitCode::from(2)
        }
        _ => {
            late_stop(
                engine::codes::INTERNAL,
                "dustrun stopped unexpectedly (please report it with the input that caused it)",
            );
            ExitCode::from(70)
        }
    }
}

fn real_main() -> u8 {
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout (exit 0), usage errors to stderr
            // (exit 2); help that cannot be written is output that cannot
            // be written (exit 2), not success.
            let printed = e.print().and_then(|()| std::io::stdout().flush());
            return match (printed, e.exit_code()) {
                (Ok(()), code) => u8::try_from(code).unwrap_or(2),
                (Err(_), _) => 2,
            };
        }
    };
    if let Some(f) = cli.old_error_format {
        cli.error_format = f;
    }
    JSON_ERRORS.store(
        cli.error_format == Format::Json,
        std::sync::atomic::Ordering::Relaxed,
    );
    let tables = match &cli.rules {
        None => Tables::defaults(),
        Some(d) => Tables::from_dir(d),
    };
    let engine = match tables.map_err(|e| e.to_string()).and_then(Engine::new) {
        Ok(e) => e,
        Err(e) => {
            // Reported in the one diagnostic voice, with the embedded
            // tables' catalogue (the given ones are what is broken).
            return match Tables::defaults()
                .map_err(|e| e.to_string())
                .and_then(Engine::new)
            {
                Ok(fallback) => Out {
                    engine: &fallback,
                    format: cli.error_format,
                    rules: None,
                    given: Default::default(),
                    colour: cli.color.colour_stderr(),
                }
                .usage(engine::codes::TABLES, format!("invalid rule tables: {e}")),
                Err(_) => {
                    warn!("error[E0023]: usage error: invalid rule tables: {e}");
                    2
                }
            };
        }
    };
    let out = Out {
        engine: &engine,
        format: cli.error_format,
        rules: cli.rules.clone(),
        given: Default::default(),
        colour: cli.color.colour_stderr(),
    };
    match cli.cmd {
        Some(Cmd::Check { file, common }) => {
            if let Err(code) = out.guard(&[("the program", &file)], &common, None) {
                return code;
            }
            out.run_file(&file, Mode::Check, &common, false, None)
        }
        Some(Cmd::Ledger {
            cmd: LedgerCmd::Verify { file },
        }) => out.verify_ledger(&file),
        Some(Cmd::Fmt { to, file }) => out.fmt(&file, to),
        Some(Cmd::Rules { export }) => rules(&out, export.as_deref()),
        Some(Cmd::Explain {
            what,
            format,
            simulate,
            common,
        }) => {
            if Path::new(&what).is_file() {
                if let Err(code) = out.guard(&[("the program", Path::new(&what))], &common, None) {
                    return code;
                }
                let mode = if simulate {
                    Mode::Simulate
                } else {
                    Mode::Check
                };
                out.explain_file(Path::new(&what), mode, &common, format)
            } else {
                explain(&out, &what, format)
            }
        }
        Some(Cmd::Conformance {
            corpus,
            snapshots,
            backend: None,
            ..
        }) => conformance(&out, corpus.as_deref(), snapshots.as_deref()),
        Some(Cmd::Conformance {
            backend: Some(backend),
            compiler,
            jobs,
            timeout_ms,
            exact_exit,
            format,
            report,
            resources,
            deny_resource,
            cases,
            ..
        }) => {
            let common = CommonArgs {
                resources,
                deny_resource,
                ..CommonArgs::default()
            };
            let cfg = match out.config(&common, Mode::Realize, Vec::new(), false) {
                Ok(c) => c,
                Err(d) => return out.report_usage(d),
            };
            let o = conformance::judge::Options {
                backend,
                compiler,
                timeout: std::time::Duration::from_millis(timeout_ms),
                exact_exit,
                jobs: jobs
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                provide: cfg.provide_resources,
                deny: cfg.deny_resources,
            };
            judge_backend(&out, &o, &cases, format, report.as_deref())
        }
        None => {
            if let Some(trace) = &cli.run.replay {
                return out.replay(trace, &cli.run);
            }
            let Some(file) = cli.run.file else {
                return out.usage(
                    engine::codes::USAGE,
                    "no program given: `dustrun FILE` runs a DIR program (`dustrun --help` lists the commands)".into(),
                );
            };
            let mode = if cli.run.simulate {
                Mode::Simulate
            } else {
                Mode::Realize
            };
            if mode == Mode::Realize && cli.run.emit_trace {
                return out.usage(
                    engine::codes::USAGE,
                    "--emit-trace would mix the trace with realized output on stdout; use --trace-out FILE, or --simulate".into(),
                );
            }
            if let Err(code) = out.guard(
                &[("the program", &file)],
                &cli.run.common,
                cli.run.ledger.as_deref(),
            ) {
                return code;
            }
            out.run_file(
                &file,
                mode,
                &cli.run.common,
                cli.run.emit_trace,
                cli.run.ledger.as_deref(),
            )
        }
    }
}

struct Out<'e> {
    engine: &'e Engine,
    format: Format,
    /// `--rules DIR`, which no output may write into.
    rules: Option<PathBuf>,
    /// Each input's stable display name (what traces record) and the path
    /// as the user gave it (what diagnostics on stderr show, brief 11).
    given: std::cell::RefCell<Vec<(String, String)>>,
    /// Human diagnostics in colour.
    colour: bool,
}

/// Whether `out` would be written inside directory `dir`.
fn inside(out: &Path, dir: &Path) -> bool {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (
        std::fs::canonicalize(parent),
        std::fs::canonicalize(dir),
        out.file_name(),
    ) {
        (Ok(p), Ok(d), Some(_)) => p.starts_with(d),
        _ => false,
    }
}

/// `--trace-out FILE`, written atomically: a temporary file next to FILE is
/// created before the run (so an unwritable place stops the run before any
/// effect) and renamed over FILE once the trace is complete. A FILE that
/// exists and is not a regular file (`/dev/stdout`, a FIFO, `/dev/null`) is
/// written in place: renaming over it would replace the device itself.
struct TraceOut {
    dest: PathBuf,
    /// None when writing in place.
    tmp: Option<PathBuf>,
    file: Option<std::fs::File>,
}

impl TraceOut {
    fn prepare(dest: &Path) -> std::io::Result<TraceOut> {
        let meta = std::fs::metadata(dest);
        if meta.as_ref().is_ok_and(|m| m.is_dir())
            || dest.as_os_str().to_string_lossy().ends_with('/')
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "it names a directory, not a file",
            ));
        }
        if meta.is_ok_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new().write(true).open(dest)?;
            return Ok(TraceOut {
                dest: dest.to_path_buf(),
                tmp: None,
                file: Some(file),
            });
        }
        let Some(name) = dest.file_name() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a file name",
            ));
        };
        // A fresh file, never one that exists (a planted symlink would
        // redirect the trace): try a few names.
        let mut last = None;
        for n in 0..16 {
            let tmp = dest.with_file_name(format!(
                ".{}.dustrun-{}-{n}.tmp",
                name.to_string_lossy(),
                std::process::id()
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(file) => {
                    return Ok(TraceOut {
                        dest: dest.to_path_buf(),
                        tmp: Some(tmp),
                        file: Some(file),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no temporary name is free")))
    }

    fn commit(mut self, json: &str) -> std::io::Result<()> {
        let Some(mut f) = self.file.take() else {
            return Ok(());
        };
        f.write_all(json.as_bytes())?;
        f.flush()?;
        let Some(tmp) = &self.tmp else {
            return Ok(());
        };
        f.sync_all()?;
        drop(f);
        std::fs::rename(tmp, &self.dest)
    }
}

impl Drop for TraceOut {
    fn drop(&mut self) {
        // Not committed (or the commit failed): leave no temporary behind.
        if let Some(tmp) = &self.tmp {
            if tmp.exists() {
                let _ = std::fs::remove_file(tmp);
            }
        }
    }
}

/// A path as the user gave it, for diagnostics on stderr (brief 11).
fn shown(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A message about a file in both forms: for the trace (its stable display
/// name, Rust's platform-independent words for an I/O error) and for
/// stderr (the path as given, the operating system's words).
fn about_file(
    path: &Path,
    err: Option<&std::io::Error>,
    text: impl Fn(&str, &str) -> String,
) -> (String, String) {
    (
        text(
            &display_name(path),
            &err.map(|e| e.kind().to_string()).unwrap_or_default(),
        ),
        text(&shown(path), &err.map(io_words).unwrap_or_default()),
    )
}

/// The stable name a file is recorded under in traces and other
/// deterministic output: as given, or its file name when absolute (no
/// absolute path ever reaches such output).
fn display_name(p: &Path) -> String {
    if p.is_absolute() {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "input".into())
    } else {
        p.to_string_lossy().into_owned()
    }
}

impl Out<'_> {
    fn diagnostics(&self, src: &Source<'_>, diags: &[Diagnostic]) {
        // Shown under the path the user gave, not the trace's stable name.
        let given = self.given.borrow();
        let name = given
            .iter()
            .find(|(stable, _)| stable == src.name)
            .map_or(src.name, |(_, g)| g.as_str());
        let src = &Source {
            name,
            bytes: src.bytes,
        };
        let mut err = std::io::stderr().lock();
        match self.format {
            Format::Human => {
                render::human_each(src, diags, self.colour, |d| {
                    let _ = err.write_all(d.as_bytes());
                });
            }
            Format::Json => {
                let _ = render::json_write(src, diags, &mut err);
                let _ = writeln!(err);
            }
        }
    }

    fn usage_diag(&self, code: &str, message: String) -> Box<Diagnostic> {
        Box::new(Diagnostic::new(self.engine.tables(), code, None, message))
    }

    /// A usage stop about a file: see [`about_file`].
    fn file_diag(&self, code: &str, (stable, local): (String, String)) -> Box<Diagnostic> {
        Box::new(Diagnostic::new(self.engine.tables(), code, None, stable).shown_as(local))
    }

    /// Report a usage stop that has no source location; exit 2.
    fn report_usage(&self, d: Box<Diagnostic>) -> u8 {
        self.diagnostics(
            &Source {
                name: "",
                bytes: b"",
            },
            &[*d],
        );
        2
    }

    fn usage(&self, code: &str, message: String) -> u8 {
        self.report_usage(self.usage_diag(code, message))
    }

    /// The file's display name and bytes.
    fn read_src(&self, file: &Path) -> Result<(String, Vec<u8>), Box<Diagnostic>> {
        let name = display_name(file);
        self.given.borrow_mut().push((name.clone(), shown(file)));
        // One byte past the limit is enough for the loader to refuse the
        // input (E0002); reading further could exhaust memory (/dev/zero).
        read_capped(file, dir_grammar::limits::MAX_INPUT_BYTES + 1)
            .map(|b| (name.clone(), b))
            .map_err(|e| {
                self.file_diag(
                    engine::codes::IO,
                    about_file(file, Some(&e), |p, w| format!("cannot read `{p}`: {w}")),
                )
            })
    }

    /// [`Self::read_src`], reporting a failure; the exit code.
    fn read(&self, file: &Path) -> Result<(String, Vec<u8>), u8> {
        self.read_src(file).map_err(|d| self.report_usage(d))
    }

    /// Refuse, before anything runs, an output (`--trace-out`, `--ledger`)
    /// that would overwrite an input: the program, the resource manifest,
    /// the rule tables, or the other output.
    fn guard(
        &self,
        inputs: &[(&str, &Path)],
        common: &CommonArgs,
        ledger: Option<&Path>,
    ) -> Result<(), u8> {
        let mut ins: Vec<(&str, &Path)> = inputs.to_vec();
        if let Some(m) = &common.resources {
            ins.push(("the resource manifest", m));
        }
        let outs = [
            ("--trace-out", common.trace_out.as_deref()),
            ("--ledger", ledger),
        ];
        for (flag, out) in outs {
            let Some(out) = out else { continue };
            let hit = ins
                .iter()
                .find(|(_, i)| same_file(out, i))
                .map(|(what, _)| what.to_string())
                .or_else(|| {
                    self.rules
                        .as_deref()
                        .filter(|d| inside(out, d))
                        .map(|_| "inside the rule tables (`--rules`)".to_string())
                });
            if let Some(what) = hit {
                return Err(self.usage(
                    engine::codes::IO,
                    format!(
                        "`{flag} {}` names {what}, which it would overwrite; nothing was run",
                        shown(out)
                    ),
                ));
            }
        }
        if let (Some(t), Some(l)) = (&common.trace_out, ledger) {
            if same_file(t, l) {
                return Err(self.usage(
                    engine::codes::IO,
                    "`--trace-out` and `--ledger` name the same file; nothing was run".into(),
                ));
            }
        }
        Ok(())
    }

    fn run_file(
        &self,
        file: &Path,
        mode: Mode,
        common: &CommonArgs,
        emit_trace: bool,
        ledger: Option<&Path>,
    ) -> u8 {
        let mut trace_out = match self.prepare_trace(common) {
            Ok(t) => t,
            Err(code) => return code,
        };
        let (name, bytes, mut report) = match self.execute(
            file,
            mode,
            common,
            false,
            emit_trace || mode == Mode::Realize,
            &mut trace_out,
        ) {
            Ok(r) => r,
            Err(code) => return code,
        };
        let src = Source {
            name: &name,
            bytes: &bytes,
        };
        if report.trace.outcome == Outcome::Executed && mode == Mode::Realize {
            return self.realize(&src, &mut report, ledger, trace_out);
        }
        if let Err(code) = self.commit_trace(trace_out, &report) {
            return code;
        }
        if report.trace.outcome == Outcome::Validated {
            if emit_trace {
                say!("{}", trace_json(&report));
                return 0;
            }
            let needs: Vec<String> = report
                .needs
                .iter()
                .map(|(n, t)| format!("{n}: {t}"))
                .collect();
            say!(
                "outcome: validated\nentry: {}\nadmission needs: {}   (give them with --arg NAME=EXPR to admit and evaluate)\n",
                report.trace.config.entry_resolved.as_deref().unwrap_or("main"),
                needs.join(", ")
            );
            return 0;
        }
        if report.trace.outcome != Outcome::Executed {
            if emit_trace {
                say!("{}", trace_json(&report));
            }
            self.diagnostics(&src, &report.diagnostics);
            return report
                .diagnostics
                .first()
                .map(|d| Category::exit_code(d.category))
                .unwrap_or(4);
        }
        if emit_trace {
            say!("{}", trace_json(&report));
            return 0;
        }
        match mode {
            Mode::Simulate => say!("{}", summary(&report, "simulated, not realized")),
            _ => say!("{}", summary(&report, "would occur when run")),
        }
        0
    }

    /// Read the file and run it with the common options: the display name,
    /// the bytes and the report. A usage stop before the run (unreadable
    /// program, malformed option) is reported here, and `--trace-out` gets
    /// a `not-run` trace for it instead of keeping an earlier run's.
    /// `traced`: the trace is shown, or the run may realize (a ledger
    /// names the run by its digest); a trace that is neither shown nor
    /// written (`--trace-out`) goes without its digests.
    fn execute(
        &self,
        file: &Path,
        mode: Mode,
        common: &CommonArgs,
        explain: bool,
        traced: bool,
        trace_out: &mut Option<TraceOut>,
    ) -> Result<(String, Vec<u8>, Report), u8> {
        let (name, bytes) = match self.read_src(file) {
            Ok(nb) => nb,
            Err(d) => {
                return Err(self.stop_before_run(
                    display_name(file),
                    &[],
                    common,
                    mode,
                    d,
                    trace_out,
                ))
            }
        };
        let cfg = match self
            .entry_args(common)
            .and_then(|args| self.config(common, mode, args, explain))
        {
            Ok(c) => RunConfig {
                digests: traced || trace_out.is_some(),
                ..c
            },
            Err(d) => return Err(self.stop_before_run(name, &bytes, common, mode, d, trace_out)),
        };
        let report = self.engine.run(
            &Source {
                name: &name,
                bytes: &bytes,
            },
            &cfg,
        );
        Ok((name, bytes, report))
    }

    /// A usage stop before the engine ran: report it, and write the
    /// `not-run` trace (with the configuration as far as it was given).
    fn stop_before_run(
        &self,
        name: String,
        bytes: &[u8],
        common: &CommonArgs,
        mode: Mode,
        d: Box<Diagnostic>,
        trace_out: &mut Option<TraceOut>,
    ) -> u8 {
        let src = Source { name: &name, bytes };
        let mut cfg = RunConfig::new(mode);
        cfg.entry = common.entry.clone();
        cfg.args = common.args.iter().map(|a| RunConfig::arg(a)).collect();
        cfg.max_steps = common.max_steps;
        cfg.solver_budget = common.solver_budget;
        cfg.deny_resources = common.deny_resource.clone();
        let report = self.engine.refused(&src, &cfg, *d);
        let written = self.commit_trace(trace_out.take(), &report);
        self.diagnostics(&src, &report.diagnostics);
        written.err().unwrap_or(2)
    }

    /// `--arg NAME=EXPR` pairs, in the order given.
    fn entry_args(&self, common: &CommonArgs) -> Result<Vec<(String, String)>, Box<Diagnostic>> {
        let mut args = Vec::new();
        for a in &common.args {
            match a.split_once('=') {
                Some((n, v)) if !n.trim().is_empty() => {
                    args.push((n.trim().to_string(), v.to_string()))
                }
                _ => {
                    return Err(self.usage_diag(
                        engine::codes::ARG,
                        format!("`--arg {a}`: expected NAME=EXPR"),
                    ))
                }
            }
        }
        Ok(args)
    }

    /// `--trace-out FILE`: its temporary file, made before anything is
    /// realized.
    fn prepare_trace(&self, common: &CommonArgs) -> Result<Option<TraceOut>, u8> {
        let Some(path) = &common.trace_out else {
            return Ok(None);
        };
        TraceOut::prepare(path).map(Some).map_err(|e| {
            self.usage(
                engine::codes::IO,
                format!(
                    "cannot write trace to `{}`: {}; nothing was run",
                    shown(path),
                    io_words(&e)
                ),
            )
        })
    }

    /// Complete `--trace-out` with the run's trace.
    fn commit_trace(&self, out: Option<TraceOut>, report: &Report) -> Result<(), u8> {
        let Some(out) = out else { return Ok(()) };
        let name = shown(&out.dest);
        out.commit(&trace_json(report)).map_err(|e| {
            self.usage(
                engine::codes::IO,
                format!("cannot write trace to `{name}`: {}", io_words(&e)),
            )
        })
    }

    /// The run configuration from the common options (reads `--resources`).
    fn config(
        &self,
        common: &CommonArgs,
        mode: Mode,
        args: Vec<(String, String)>,
        explain: bool,
    ) -> Result<RunConfig, Box<Diagnostic>> {
        if let Some(bad) = common.deny_resource.iter().find(|n| {
            !n.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }) {
            return Err(self.usage_diag(
                engine::codes::ARG,
                format!("`--deny-resource {bad}`: give the resource's name, e.g. `--deny-resource Console`"),
            ));
        }
        let mut deny = common.deny_resource.clone();
        let mut provide = Vec::new();
        if let Some(path) = &common.resources {
            let bytes = read_capped(path, MAX_MANIFEST_BYTES + 1).map_err(|e| {
                self.file_diag(
                    engine::codes::IO,
                    about_file(path, Some(&e), |p, w| {
                        format!("cannot read resource manifest `{p}`: {w}")
                    }),
                )
            })?;
            if bytes.len() > MAX_MANIFEST_BYTES {
                return Err(self.file_diag(
                    engine::codes::IO,
                    about_file(path, None, |p, _| {
                        format!("resource manifest `{p}` is larger than {MAX_MANIFEST_BYTES} bytes")
                    }),
                ));
            }
            let text = String::from_utf8_lossy(&bytes);
            let m: Manifest = ron::from_str(&text).map_err(|e| {
                self.file_diag(
                    engine::codes::IO,
                    about_file(path, None, |p, _| {
                        format!("resource manifest `{p}` is not `(provide: [..], deny: [..])`: {e}")
                    }),
                )
            })?;
            provide = m.provide;
            deny.extend(m.deny);
        }
        deny.sort();
        deny.dedup();
        provide.sort();
        provide.dedup();
        Ok(RunConfig {
            entry: common.entry.clone(),
            mode,
            args,
            max_steps: common.max_steps,
            solver_budget: common.solver_budget,
            deny_resources: deny,
            provide_resources: provide,
            explain,
            embed_dir: common.embed_dir,
            overlap: engine::Overlap::default(),
            names: engine::NameHashing::default(),
            digests: true,
        })
    }

    fn explain_file(
        &self,
        file: &Path,
        mode: Mode,
        common: &CommonArgs,
        format: ExplainFormat,
    ) -> u8 {
        let mut trace_out = match self.prepare_trace(common) {
            Ok(t) => t,
            Err(code) => return code,
        };
        let (name, bytes, report) =
            match self.execute(file, mode, common, true, true, &mut trace_out) {
                Ok(r) => r,
                Err(code) => return code,
            };
        if let Err(code) = self.commit_trace(trace_out, &report) {
            return code;
        }
        let src = Source {
            name: &name,
            bytes: &bytes,
        };
        // A usage stop (bad `--arg`, say) is not a run to explain.
        if report
            .diagnostics
            .first()
            .is_some_and(|d| d.category == Category::Usage)
        {
            self.diagnostics(&src, &report.diagnostics);
            return 2;
        }
        let t = &report.trace;
        let outcome = serde_json::to_value(t.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let text = match format {
            ExplainFormat::Json => {
                // The document's fields in order; its diagnostics are
                // written one at a time (a tree of 200 000 took gigabytes).
                #[derive(serde::Serialize)]
                struct Doc<'a, E, P, X> {
                    explain_version: u32,
                    file: &'a str,
                    mode: &'a str,
                    outcome: &'a str,
                    error: &'a E,
                    phi: &'a P,
                    rules: &'a [String],
                    diagnostics: render::JsonList<'a>,
                    program: &'a X,
                }
                let doc = Doc {
                    explain_version: engine::explain::EXPLAIN_VERSION,
                    file: &name,
                    mode: mode.name(),
                    outcome: &outcome,
                    error: &t.error,
                    phi: &t.phi,
                    rules: &t.rules,
                    diagnostics: render::json_list(&src, &report.diagnostics),
                    program: &report.explanation,
                };
                let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
                s.push('\n');
                s
            }
            ExplainFormat::Dot => match &report.explanation {
                Some(x) => engine::explain::dot(x, &outcome),
                None => {
                    // Stopped before admission: nothing to draw but the stop.
                    format!("digraph admissibility {{\n  label=\"{}\";\n}}\n", outcome)
                }
            },
            ExplainFormat::Human => {
                let mut s = format!("outcome: {outcome} ({} mode)\n", mode.name());
                if let Some(e) = &t.error {
                    s.push_str(&format!(
                        "decided by: {} ({}), {}: {}\n",
                        e.rule.as_deref().unwrap_or("-"),
                        e.spec,
                        e.code,
                        e.message
                    ));
                    if let Some(sp) = &e.span {
                        s.push_str(&format!("at: {}:{}:{}\n", sp.file, sp.line, sp.column));
                    }
                    if let Some(mus) = &e.mus {
                        let m: Vec<String> =
                            mus.iter().map(|x| format!("`{}`", x.predicate)).collect();
                        s.push_str(&format!("minimal inadmissible set: {}\n", m.join(", ")));
                    }
                }
                if let Some(phi) = &t.phi {
                    s.push_str(&format!(
                        "Φ witness ({}): {}\n",
                        phi.scope,
                        engine::value::human_witness(&phi.witness)
                    ));
                }
                if let Some(x) = &report.explanation {
                    s.push('\n');
                    s.push_str(&engine::explain::human(x));
                }
                render::human_each(&src, &report.diagnostics, false, |d| {
                    s.push('\n');
                    s.push_str(&d);
                });
                s.push_str(&format!("\nrules applied: {}\n", t.rules.join(", ")));
                s
            }
        };
        say!("{text}");
        0
    }

    /// A usage stop after the run was decided but before any effect: the
    /// trace says `not-run`, and nothing is realized.
    fn refuse(
        &self,
        src: &Source<'_>,
        report: &mut Report,
        trace_out: Option<TraceOut>,
        code: &str,
        (stable, local): (String, String),
    ) -> u8 {
        let d = Diagnostic::new(self.engine.tables(), code, None, stable).shown_as(local);
        report.not_run(src, d);
        let written = self.commit_trace(trace_out, report);
        self.diagnostics(src, &report.diagnostics);
        written.err().unwrap_or(2)
    }

    /// Hand each recorded effect to its realizer (effects table), in program
    /// order, and complete `--trace-out` with what was realized. Everything
    /// that can be known before the first effect (a realizer missing, a
    /// ledger that does not verify, stdout closed) stops the run first.
    fn realize(
        &self,
        src: &Source<'_>,
        report: &mut Report,
        ledger: Option<&Path>,
        trace_out: Option<TraceOut>,
    ) -> u8 {
        // A ledger names the run by its digest (`execute`'s `traced`).
        debug_assert!(
            !report.trace.run.is_empty(),
            "a realized run without its digest"
        );
        let tables = self.engine.tables();
        let realizer = |kind: &str| {
            tables
                .effects
                .kinds
                .iter()
                .find(|k| k.kind == kind)
                .map(|k| k.realizer)
        };
        let Some(kinds) = report
            .events()
            .iter()
            .map(|e| realizer(&e.kind))
            .collect::<Option<Vec<Realizer>>>()
        else {
            // The tables' loader requires a realizer for every kind.
            self.usage(
                engine::codes::INTERNAL,
                "an effect kind has no realizer (please report it)".into(),
            );
            return 70;
        };
        let total = report.events().len();
        // Standard output closed before dustrun started: no effect is
        // tried, and the run is a realization failure (brief §1).
        if let Some(first) = kinds.iter().position(|k| *k == Realizer::Stdout) {
            if fds::stdout_was_closed() {
                let err = std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "standard output is closed",
                );
                return self.realization_failed(src, report, trace_out, 0, first, "stdout", &err);
            }
        }
        let mut book = None;
        if kinds.contains(&Realizer::Ledger) || ledger.is_some_and(Path::exists) {
            let Some(path) = ledger else {
                let why = "this run performs observe/seal effects, which realize mode appends to a ledger: give `--ledger FILE`, or use `--simulate`; nothing was realized";
                return self.refuse(
                    src,
                    report,
                    trace_out,
                    engine::codes::NO_REALIZER,
                    (why.into(), why.into()),
                );
            };
            match ledger::Ledger::open(path) {
                Ok(l) => book = Some(l),
                Err(ledger::LedgerError::Io(e)) => {
                    return self.refuse(
                        src,
                        report,
                        trace_out,
                        engine::codes::IO,
                        about_file(path, Some(&e), |p, w| {
                            format!("cannot use ledger `{p}`: {w}; nothing was realized")
                        }),
                    )
                }
                Err(ledger::LedgerError::Bad(b)) => {
                    return self.refuse(
                        src,
                        report,
                        trace_out,
                        engine::codes::LEDGER,
                        about_file(path, None, |p, _| {
                            format!(
                                "ledger `{p}` does not verify: record {} {}; nothing was realized",
                                b.record, b.why
                            )
                        }),
                    )
                }
            }
        }
        // Effects are enacted in order; the first that cannot be enacted
        // stops the run (exit 15). Those before it happened and cannot be
        // taken back (§6.6): the trace and the message say how many.
        // Stdout effects go out in batches (a write per effect made 6 M
        // effects take 17 s), each counted as enacted only once the system
        // has taken all of its bytes; a batch is written before any ledger
        // effect after it, so the order across realizers holds.
        let mut out = StdoutEffects::new();
        for (n, (e, kind)) in report.events().iter().zip(&kinds).enumerate() {
            let failed = match kind {
                Realizer::Stdout => out.push(n, e.payload.as_bytes()).err(),
                Realizer::Ledger => match out.write() {
                    Err(f) => Some(f),
                    Ok(()) => match book.as_mut() {
                        Some(l) => l
                            .append(&report.trace.run, e.tick, &e.proc, &e.kind, &e.payload)
                            .err()
                            // A record written but not synced happened.
                            .map(|a| (n, n + usize::from(a.written), "ledger", a.error)),
                        None => None,
                    },
                },
            };
            if let Some((effect, realized, name, err)) = failed {
                return self
                    .realization_failed(src, report, trace_out, realized, effect, name, &err);
            }
        }
        if let Err((effect, realized, name, err)) = out.write() {
            return self.realization_failed(src, report, trace_out, realized, effect, name, &err);
        }
        report.trace.realization = Some(engine::trace::Realization {
            realized: total,
            failed: None,
        });
        self.commit_trace(trace_out, report)
            .err()
            .map(|_| {
                warn!("note: the run itself completed: its {total} effect(s) were realized");
                2
            })
            .unwrap_or(0)
    }

    /// Effect `effect` could not be enacted; `realized` effects were (from
    /// the first, in order). Exit 15, the trace recording both.
    #[allow(clippy::too_many_arguments)]
    fn realization_failed(
        &self,
        src: &Source<'_>,
        report: &mut Report,
        trace_out: Option<TraceOut>,
        realized: usize,
        effect: usize,
        realizer: &str,
        err: &std::io::Error,
    ) -> u8 {
        let total = report.events().len();
        report.trace.realization = Some(engine::trace::Realization {
            realized,
            failed: Some(engine::trace::RealizationFailure {
                effect,
                realizer: realizer.to_string(),
                // The trace keeps Rust's platform-independent wording (it is
                // deterministic output); stderr has the OS's words.
                error: err.kind().to_string(),
            }),
        });
        let _ = self.commit_trace(trace_out, report);
        let e = &report.events()[effect];
        let what = if realized > effect {
            format!(
                "effect {} of {total} (`{}` at tick {}) was written to the {realizer} but could not be completed: {}; {realized} effect(s) were realized and cannot be taken back",
                effect + 1,
                e.kind,
                e.tick,
                io_words(err)
            )
        } else {
            format!(
                "effect {} of {total} (`{}` at tick {}) could not be enacted on {realizer}: {}; {realized} effect(s) before it were realized and cannot be taken back",
                effect + 1,
                e.kind,
                e.tick,
                io_words(err)
            )
        };
        let d = Diagnostic::new(self.engine.tables(), engine::codes::REALIZATION, None, what);
        self.diagnostics(src, &[d]);
        15
    }

    /// `dustrun ledger verify FILE`.
    fn verify_ledger(&self, file: &Path) -> u8 {
        // Stdout is deterministic output (its display name); stderr shows
        // the path as given.
        let name = display_name(file);
        let given = shown(file);
        match ledger::verify(file) {
            Ok(n) => {
                sayln!("ledger `{name}`: {n} record(s), the hash chain verifies");
                0
            }
            Err(ledger::LedgerError::Io(e)) => self.usage(
                engine::codes::IO,
                format!("cannot read ledger `{given}`: {}", io_words(&e)),
            ),
            Err(ledger::LedgerError::Bad(b)) => {
                self.usage(
                    engine::codes::LEDGER,
                    format!(
                        "ledger `{given}` does not verify: record {} {}",
                        b.record, b.why
                    ),
                );
                1
            }
        }
    }

    /// `dustrun --replay TRACE [--dir FILE] [--realize]` (brief §12).
    fn replay(&self, trace: &Path, run: &RunArgs) -> u8 {
        let tname = shown(trace);
        let tstable = display_name(trace);
        // A regular file is opened once and read from its start for each
        // pass, never held whole (a trace can be gigabytes); anything else
        // (a pipe) is read once, into memory.
        let cannot = |e: std::io::Error| {
            self.usage(
                engine::codes::IO,
                format!("cannot read trace `{tname}`: {}", io_words(&e)),
            )
        };
        let regular = std::fs::metadata(trace).is_ok_and(|m| m.is_file());
        let (file, bytes) = if regular {
            match std::fs::File::open(trace) {
                Ok(f) => (Some(f), Vec::new()),
                Err(e) => return cannot(e),
            }
        } else {
            match read_capped(trace, MAX_PIPED_TRACE_BYTES + 1) {
                Ok(b) if b.len() > MAX_PIPED_TRACE_BYTES => {
                    return self.usage(
                        engine::codes::IO,
                        format!("trace `{tname}` is larger than {MAX_PIPED_TRACE_BYTES} bytes; a trace that is not a regular file is read into memory, so give a larger one as a file"),
                    )
                }
                Ok(b) => (None, b),
                Err(e) => return cannot(e),
            }
        };
        let from_file = |f: &std::fs::File| -> std::io::Result<Box<dyn std::io::Read>> {
            use std::io::Seek;
            let mut f = f.try_clone()?;
            f.seek(std::io::SeekFrom::Start(0))?;
            Ok(Box::new(f))
        };
        let reopen = || match &file {
            Some(f) => from_file(f),
            None => engine::replay::in_memory(&bytes)(),
        };
        let open: engine::replay::Open<'_, '_> = &reopen;
        let rec = match engine::replay::parse(open) {
            Ok(r) => r,
            Err(why) => {
                return self.usage(engine::codes::IO, format!("cannot replay `{tname}`: {why}"))
            }
        };
        // The artifact: --dir, else embedded, else the recorded name beside
        // the trace (then in the current directory).
        if run.ledger.is_some() && !run.realize {
            return self.usage(
                engine::codes::ARG,
                "`--ledger` is where a realized replay appends: give `--realize` too, or leave `--ledger` out".into(),
            );
        }
        let (dir_bytes, from, artifact) = if let Some(d) = &run.dir {
            match self.read(d) {
                Ok((_, b)) => (b, format!("`{}`", shown(d)), Some(d.clone())),
                Err(code) => return code,
            }
        } else if let Some(b) = &rec.embedded {
            (b.clone(), "the trace".to_string(), None)
        } else {
            let recorded = Path::new(&rec.name);
            let beside = trace.parent().map(|p| p.join(recorded));
            let found = beside
                .iter()
                .map(PathBuf::as_path)
                .chain([recorded])
                .find(|p| p.is_file());
            match found {
                Some(p) => match self.read(p) {
                    Ok((_, b)) => (b, format!("`{}`", shown(p)), Some(p.to_path_buf())),
                    Err(code) => return code,
                },
                None => {
                    return self.usage(
                        engine::codes::IO,
                        format!(
                            "the trace's artifact `{}` is neither embedded nor found beside the trace or here; give it with `--dir FILE`",
                            rec.name
                        ),
                    )
                }
            }
        };
        let refused = |what: String| {
            let d = Diagnostic::new(
                self.engine.tables(),
                engine::codes::REPLAY_REFUSED,
                None,
                format!("{what}; nothing was run"),
            );
            self.diagnostics(
                &Source {
                    name: "",
                    bytes: b"",
                },
                &[d],
            );
            14
        };
        if let Some(why) = rec.changed(&dir_bytes, &self.engine.tables().digest) {
            return refused(format!("{why} (artifact read from {from})"));
        }
        if run.realize && rec.config.mode != Mode::Realize {
            return self.usage(
                engine::codes::ARG,
                format!(
                    "`--realize` enacts a realized run again, but `{tname}` records a {} run (which provides different resources); replay it without `--realize`",
                    rec.config.mode.name()
                ),
            );
        }
        let mut inputs: Vec<(&str, &Path)> = vec![("the replayed trace", trace)];
        inputs.extend(artifact.as_deref().map(|a| ("the program", a)));
        if let Err(code) = self.guard(&inputs, &run.common, run.ledger.as_deref()) {
            return code;
        }
        let trace_out = match self.prepare_trace(&run.common) {
            Ok(t) => t,
            Err(code) => return code,
        };
        let src = Source {
            name: &rec.name,
            bytes: &dir_bytes,
        };
        let mut report = self.engine.run(&src, &rec.config);
        // The events and arguments are compared one by one (see
        // `replay::Apart`): the tree of the rest is made without them.
        let Ok(now) = engine::replay::Apart::tree_without(&mut report.trace) else {
            self.usage(
                engine::codes::INTERNAL,
                "a trace did not serialize (please report it)".into(),
            );
            return 70;
        };
        if rec.outcome.as_deref() == Some("not-run") && report.trace.outcome != Outcome::NotRun {
            // Refused by the realizer checks (no ledger, say) after the
            // engine admitted it: the recorded run never happened.
            return self.usage(
                engine::codes::ARG,
                format!(
                    "`{tname}` records a run refused before anything ran ({}); there is nothing to replay",
                    rec.error_code.as_deref().unwrap_or("not-run")
                ),
            );
        }
        let apart = engine::replay::Apart::of(&report.trace);
        let divergence = match engine::replay::first_divergence(open, &now, Some(apart)) {
            Ok(d) => d,
            // Read whole only now: checked strings, keys written twice.
            Err(why) => {
                return self.usage(engine::codes::IO, format!("cannot replay `{tname}`: {why}"))
            }
        };
        if let Some(d) = divergence {
            // A run that differs from its record is never realized.
            let written = self.commit_trace(trace_out, &report);
            let diag = Diagnostic::new(
                self.engine.tables(),
                engine::codes::REPLAY_DIVERGED,
                None,
                format!(
                    "replay of `{tname}` diverged at `{}`: recorded {}, now {}",
                    if d.path.is_empty() {
                        "(the whole trace)"
                    } else {
                        &d.path
                    },
                    clip(&d.recorded),
                    clip(&d.now)
                ),
            );
            self.diagnostics(&src, &[diag]);
            return written.err().unwrap_or(13);
        }
        let t = &report.trace;
        let line = format!(
            "replay identical: `{}` ({}) {}, {} effect(s); the trace matches `{tstable}`",
            rec.name,
            short(&rec.digest),
            t.outcome.name(),
            t.effects.events.len()
        );
        if run.realize && t.outcome == Outcome::Executed && rec.config.mode == Mode::Realize {
            // stdout belongs to the realized effects: confirm on stderr.
            let code = self.realize(&src, &mut report, run.ledger.as_deref(), trace_out);
            if code == 0 {
                warn!("{line}");
            }
            return code;
        }
        // Nothing was enacted: the replay's own trace says so.
        report.trace.config.mode = Mode::Simulate.name().into();
        if let Err(code) = self.commit_trace(trace_out, &report) {
            return code;
        }
        sayln!("{line}");
        0
    }

    fn fmt(&self, file: &Path, to: To) -> u8 {
        let (name, bytes) = match self.read(file) {
            Ok(nb) => nb,
            Err(c) => return c,
        };
        let src = Source {
            name: &name,
            bytes: &bytes,
        };
        match dir_grammar::load(&bytes) {
            Ok(p) => {
                match to {
                    To::Text => say!("{}", dir_grammar::print::to_text(&p)),
                    To::Json => say_streamed(|w| dir_grammar::print::write_json(&p, w)),
                }
                0
            }
            Err(e) => {
                self.diagnostics(&src, &[self.engine.load_diagnostic(&e)]);
                3
            }
        }
    }
}

/// A trace read from a pipe is held in memory, up to this size; a trace
/// in a regular file is read as it is compared, whatever its size (a run
/// emitting long escaped payloads, `--embed-dir`, writes gigabytes).
const MAX_PIPED_TRACE_BYTES: usize = 8 * dir_grammar::limits::MAX_INPUT_BYTES;

/// An I/O error in stable words: the kind for an OS error (no error
/// numbers or platform wording in traces), the message for our own.
/// An I/O error in the operating system's words ("No such file or
/// directory"), without Rust's "(os error 2)" suffix.
fn io_words(e: &std::io::Error) -> String {
    let s = e.to_string();
    match (e.raw_os_error(), s.rfind(" (os error ")) {
        (Some(_), Some(i)) => s[..i].to_string(),
        _ => s,
    }
}

/// `sha256:0123456789ab…` for one-line messages.
fn short(digest: &str) -> String {
    match digest.get(..19) {
        Some(s) if digest.len() > 19 => format!("{s}…"),
        _ => digest.to_string(),
    }
}

/// A JSON value in a one-line message.
fn clip(v: &str) -> String {
    if v.chars().count() > 120 {
        format!("{}…", v.chars().take(120).collect::<String>())
    } else {
        v.to_string()
    }
}

/// A trace as it is shown or written: always with its digests (the run
/// asked for them, `execute`'s `traced`).
fn trace_json(r: &Report) -> String {
    debug_assert!(
        !r.trace.run.is_empty() && !r.trace.artifact.digest.is_empty(),
        "a trace shown or written without its digests"
    );
    r.trace.to_json()
}

fn summary(r: &Report, effect_word: &str) -> String {
    let t = &r.trace;
    let mut s = String::new();
    s.push_str(&format!(
        "outcome: {}\n",
        serde_json::to_value(t.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    ));
    s.push_str(&format!(
        "entry: {}\n",
        t.config
            .entry_resolved
            .as_deref()
            .or(t.config.entry.as_deref())
            .unwrap_or("main")
    ));
    if t.effects.events.is_empty() {
        s.push_str(&format!("effects: none ({effect_word})\n"));
    } else {
        s.push_str(&format!("effects ({effect_word}):\n"));
        for e in &t.effects.events {
            use std::fmt::Write;
            let _ = write!(s, "  [tick {}] {} ", e.tick, e.kind);
            // The payload as it is realized (its canonical form), with
            // control characters escaped so that one event is one line.
            for c in e.payload.chars() {
                if c.is_control() {
                    s.extend(c.escape_default());
                } else {
                    s.push(c);
                }
            }
            let _ = writeln!(s, "  ({})", e.proc);
        }
    }
    if let Some(phi) = &t.phi {
        s.push_str(&format!(
            "Φ witness ({}): {}\n",
            phi.scope,
            engine::value::human_witness(&phi.witness)
        ));
    }
    let ret = t
        .returned
        .as_ref()
        .map(engine::value::human)
        .unwrap_or_else(|| "none".into());
    s.push_str(&format!("returned: {ret}\n"));
    s.push_str(&format!(
        "time: tick {}, declared cost {} us\n",
        t.time.tick, t.time.cost_us
    ));
    s
}

fn rules(out: &Out<'_>, export: Option<&Path>) -> u8 {
    let engine = out.engine;
    if let Some(dir) = export {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return out.usage(
                engine::codes::IO,
                format!("cannot create `{}`: {}", shown(dir), io_words(&e)),
            );
        }
        for (name, text) in Tables::default_files() {
            let p = dir.join(name);
            if p.exists() {
                return out.usage(
                    engine::codes::IO,
                    format!("`{}` exists; export into an empty directory", shown(&p)),
                );
            }
            if let Err(e) = std::fs::write(&p, text) {
                return out.usage(
                    engine::codes::IO,
                    format!("cannot write `{}`: {}", shown(&p), io_words(&e)),
                );
            }
        }
        sayln!(
            "wrote {} table files to {}; run with `--rules {}`",
            Tables::default_files().len(),
            display_name(dir),
            display_name(dir)
        );
        return 0;
    }
    let rules = engine.tables().rules();
    let w = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    sayln!("{:w$}  {:8}  {:11}  summary", "rule", "spec", "table");
    for r in rules {
        sayln!("{:w$}  {:8}  {:11}  {}", r.id, r.cite, r.table, r.summary);
    }
    sayln!("rules digest: {}", engine.tables().digest);
    0
}

fn explain(out: &Out<'_>, code: &str, format: ExplainFormat) -> u8 {
    let engine = out.engine;
    let raw = code.trim();
    if format == ExplainFormat::Dot {
        return out.usage(
            engine::codes::USAGE,
            "`--format dot` draws a program's admissibility graph; give a DIR file".into(),
        );
    }
    let json = format == ExplainFormat::Json;
    // Rule ids are upper case; `adm-constraint` means ADM-CONSTRAINT.
    if let Some(r) = engine
        .tables()
        .rules()
        .into_iter()
        .find(|r| r.id.eq_ignore_ascii_case(raw))
    {
        let code = r.code.clone();
        if json {
            let v = serde_json::json!({
                "rule": r.id, "table": format!("{}.ron", r.table), "spec": r.cite,
                "summary": r.summary, "code": code,
            });
            sayln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            return 0;
        }
        sayln!("{}: {}", r.id, r.summary);
        sayln!("table: {}.ron, spec: {}", r.table, r.cite);
        if let Some(c) = code {
            sayln!("reports: {c} (`dustrun explain {c}`)");
        }
        return 0;
    }
    let looks_like_code = raw.len() == 5
        && raw.to_ascii_uppercase().starts_with('E')
        && raw[1..].chars().all(|c| c.is_ascii_digit());
    if !looks_like_code {
        return out.usage(
            engine::codes::USAGE,
            format!("`{raw}` is neither a file, an error code (E0201) nor a rule id (`dustrun rules` lists them)"),
        );
    }
    let code = raw.to_ascii_uppercase();
    match engine.tables().entry(&code) {
        Some(e) if json => {
            let rules: Vec<String> = rules_reporting(engine, &code);
            let v = serde_json::json!({
                "code": e.code, "title": e.title,
                "category": render::category_word(e.category),
                "exit": Category::exit_code(e.category), "kind": e.kind, "spec": e.cite,
                "explanation": e.explanation, "rules": rules,
            });
            sayln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            0
        }
        Some(e) => {
            sayln!("{}: {}", e.code, e.title);
            sayln!(
                "category: {} (exit {}), trace kind: {}, spec: {}",
                render::category_word(e.category),
                Category::exit_code(e.category),
                e.kind,
                e.cite
            );
            sayln!();
            sayln!("{}", e.explanation);
            let rules = rules_reporting(engine, &code);
            if !rules.is_empty() {
                sayln!();
                sayln!("rules reporting it: {}", rules.join(", "));
            }
            0
        }
        None => out.usage(
            engine::codes::USAGE,
            format!("`{code}` is not an error code of this executor (codes look like E0201; `dustrun rules` lists the rules)"),
        ),
    }
}

/// `dustrun conformance --backend CMD`: 0 when the backend conforms, 1
/// when it disagrees or fails, 2 for usage errors.
fn judge_backend(
    out: &Out<'_>,
    o: &conformance::judge::Options,
    paths: &[PathBuf],
    format: ReportFormat,
    report: Option<&Path>,
) -> u8 {
    use conformance::judge;
    use std::io::IsTerminal;
    let cases = if paths.is_empty() {
        judge::builtin()
    } else {
        judge::from_paths(paths)
    };
    let cases = match cases {
        Ok(c) => c,
        Err(e) => return out.usage(engine::codes::IO, e),
    };
    if cases.is_empty() {
        return out.usage(engine::codes::IO, "no cases to judge".into());
    }
    let scratch = std::env::temp_dir().join(format!("dustrun-conformance-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&scratch) {
        return out.usage(
            engine::codes::IO,
            format!("cannot make a scratch folder: {}", io_words(&e)),
        );
    }
    let terminal = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if terminal {
            let width = 30;
            let filled = done * width / total.max(1);
            let _ = write!(
                std::io::stderr(),
                "\r[{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
        }
    };
    let reports = judge::judge_all(out.engine, &cases, o, &scratch, &progress);
    if terminal {
        warn!();
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let text = match format {
        ReportFormat::Human => judge::human(&reports),
        ReportFormat::Json => judge::json(&o.backend, &reports),
        ReportFormat::Html => judge::html(&o.backend, &reports),
    };
    match report {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                return out.usage(
                    engine::codes::IO,
                    format!(
                        "cannot write the report to `{}`: {}",
                        shown(path),
                        io_words(&e)
                    ),
                );
            }
            if format != ReportFormat::Human {
                say!("{}", judge::human(&reports));
            }
        }
        None => say!("{text}"),
    }
    if judge::passed(&reports) {
        0
    } else {
        1
    }
}

fn conformance(out: &Out<'_>, corpus: Option<&Path>, snapshots: Option<&Path>) -> u8 {
    let engine = out.engine;
    let in_repo = Path::new("conformance/cases");
    // A corpus on disk (given, or the repository's when run from its root),
    // else the one built into the binary.
    let corpus = corpus.or_else(|| in_repo.is_dir().then_some(in_repo));
    let (cases, snapshots) = match corpus {
        Some(dir) => {
            let snaps = snapshots
                .map(Path::to_path_buf)
                .unwrap_or_else(|| dir.parent().unwrap_or(Path::new(".")).join("snapshots"));
            sayln!(
                "corpus: {} (snapshots: {})",
                display_name(dir),
                display_name(&snaps)
            );
            (conformance::discover(dir), Some(snaps))
        }
        None => {
            sayln!("corpus: built into dustrun (snapshots likewise)");
            (
                conformance::embedded_cases(),
                snapshots.map(Path::to_path_buf),
            )
        }
    };
    let cases = match cases {
        Ok(c) => c,
        Err(e) => return out.usage(engine::codes::IO, e.to_string()),
    };
    let mut changed = 0;
    for case in &cases {
        let result = match conformance::run_case(engine, case) {
            Ok(r) => r,
            Err(e) => return out.usage(engine::codes::IO, e.to_string()),
        };
        let t = &result.report.trace;
        let got_outcome = serde_json::to_value(t.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let got = (got_outcome, t.error.as_ref().map(|e| e.code.clone()));
        let fmt = |(o, c): &(String, Option<String>)| match c {
            Some(c) => format!("{o} {c}"),
            None => o.clone(),
        };
        let recorded = match &snapshots {
            Some(dir) => std::fs::read_to_string(conformance::snapshot_path(dir, case)).ok(),
            None => conformance::embedded_snapshot(case).map(str::to_string),
        };
        match recorded.as_deref().and_then(conformance::recorded_outcome) {
            Some(expected) if expected == got => {}
            Some(expected) => {
                changed += 1;
                sayln!("changed  {}: {} -> {}", case.id, fmt(&expected), fmt(&got));
            }
            None => {
                changed += 1;
                sayln!("new      {}: {} (no snapshot)", case.id, fmt(&got));
            }
        }
    }
    sayln!("{} cases, {} changed", cases.len(), changed);
    if changed == 0 {
        0
    } else {
        1
    }
}

/// The ids of the rule rows, of any table, that report error `code`.
fn rules_reporting(engine: &Engine, code: &str) -> Vec<String> {
    engine
        .tables()
        .rules()
        .into_iter()
        .filter(|r| r.code.as_deref() == Some(code))
        .map(|r| r.id)
        .collect()
}
