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

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (implements DPL v0.1, DIR 0.1)");

#[derive(Parser)]
#[command(
    name = "dustrun",
    version = VERSION,
    about = "The reference executor of the Dust Programming Language (DPL v0.1)",
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes: 0 executed, 1 conformance changes, 2 usage or I/O error, 3 load error, 4 rejected, 10 inadmissible, 11 failed, 12 undetermined, 15 realization failed"
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
    #[command(flatten)]
    common: CommonArgs,
    /// Print the trace JSON on stdout instead of the human output.
    #[arg(long)]
    emit_trace: bool,
    /// Append observe/seal effects to this ledger file (realize mode).
    #[arg(long, value_name = "FILE")]
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
    /// Φ solver work per query (search-loop polls); past it: undetermined.
    #[arg(long, value_name = "N")]
    solver_budget: Option<u64>,
    /// Also write the trace JSON to FILE (whatever the outcome).
    #[arg(long, value_name = "FILE")]
    trace_out: Option<PathBuf>,
    /// Make resource NAME unavailable (repeatable; §8.6).
    #[arg(long = "deny-resource", value_name = "NAME")]
    deny_resource: Vec<String>,
    /// Resource manifest (RON): `(provide: ["Sensor"], deny: ["Console"])`.
    #[arg(long, value_name = "FILE")]
    resources: Option<PathBuf>,
}

/// Whether two paths name one existing file (after links and `..`).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// A resource manifest names a few resources; anything larger is not one.
const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

/// At most `cap` bytes of a file.
fn read_capped(path: &Path, cap: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    std::fs::File::open(path)?
        .take(cap as u64)
        .read_to_end(&mut out)?;
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
    /// Run the conformance corpus and list cases whose outcome changed.
    Conformance {
        #[arg(long, value_name = "DIR", default_value = "conformance/cases")]
        corpus: PathBuf,
        #[arg(long, value_name = "DIR", default_value = "conformance/snapshots")]
        snapshots: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum To {
    Text,
    Json,
}

/// Standard output could not be written (closed, full): the command stops
/// with exit 2 instead of a panic.
struct StdoutFailed(std::io::ErrorKind);

/// `print!` that reports a failed write instead of panicking.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if let Err(e) = write!(out, $($t)*).and_then(|_| out.flush()) {
            std::panic::panic_any(StdoutFailed(e.kind()));
        }
    }};
}

/// `println!` that reports a failed write instead of panicking.
macro_rules! sayln {
    () => { say!("\n") };
    ($($t:tt)*) => {{ say!($($t)*); say!("\n"); }};
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
            let kind = payload
                .downcast_ref::<StdoutFailed>()
                .map(|f| f.0)
                .unwrap_or(std::io::ErrorKind::Other);
            eprintln!("error: cannot write to standard output: {kind}");
            ExitCode::from(2)
        }
        _ => {
            eprintln!("dustrun: internal error (please report it with the input that caused it)");
            ExitCode::from(101)
        }
    }
}

fn exit_code(c: Category) -> u8 {
    match c {
        Category::Usage => 2,
        Category::Load => 3,
        Category::Error => 4,
        Category::Inadmissible => 10,
        Category::Failure => 11,
        Category::Undetermined => 12,
    }
}

fn real_main() -> u8 {
    let cli = Cli::parse();
    let tables = match &cli.rules {
        None => Tables::defaults(),
        Some(d) => Tables::from_dir(d),
    };
    let engine = match tables.map_err(|e| e.to_string()).and_then(Engine::new) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("usage error[E0023]: invalid rule tables: {e}");
            return 2;
        }
    };
    let out = Out {
        engine: &engine,
        format: cli.error_format,
    };
    match cli.cmd {
        Some(Cmd::Check { file, common }) => out.run_file(&file, Mode::Check, &common, false, None),
        Some(Cmd::Fmt { to, file }) => out.fmt(&file, to),
        Some(Cmd::Rules { export }) => rules(&engine, export.as_deref()),
        Some(Cmd::Explain {
            what,
            format,
            simulate,
            common,
        }) => {
            if Path::new(&what).is_file() {
                let mode = if simulate {
                    Mode::Simulate
                } else {
                    Mode::Check
                };
                out.explain_file(Path::new(&what), mode, &common, format)
            } else {
                explain(&engine, &what, format)
            }
        }
        Some(Cmd::Conformance { corpus, snapshots }) => conformance(&engine, &corpus, &snapshots),
        None => {
            let Some(file) = cli.run.file else {
                eprintln!("usage: dustrun [OPTIONS] FILE   (see `dustrun --help`)");
                return 2;
            };
            let mode = if cli.run.simulate {
                Mode::Simulate
            } else {
                Mode::Realize
            };
            if mode == Mode::Realize && cli.run.emit_trace {
                eprintln!("usage error: --emit-trace would mix the trace with realized output on stdout; use --trace-out FILE, or --simulate");
                return 2;
            }
            // Writing the trace or the ledger over the program would destroy it.
            if cli
                .run
                .ledger
                .as_deref()
                .is_some_and(|t| same_file(t, &file))
            {
                return out.usage(
                    engine::codes::IO,
                    format!(
                        "`--ledger {}` names the program itself; nothing was run",
                        display_name(&file)
                    ),
                );
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
}

/// The name a file is shown under: as given, or its file name when absolute
/// (no absolute path ever reaches output).
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
        let mut err = std::io::stderr().lock();
        match self.format {
            Format::Human => {
                for d in diags {
                    let _ = err.write_all(render::human(src, d).as_bytes());
                }
            }
            Format::Json => {
                let v: Vec<serde_json::Value> =
                    diags.iter().map(|d| render::json(src, d)).collect();
                let _ = writeln!(
                    err,
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "diagnostics": v }))
                        .unwrap_or_default()
                );
            }
        }
    }

    fn usage(&self, code: &str, message: String) -> u8 {
        let d = Diagnostic::new(self.engine.tables(), code, None, message);
        self.diagnostics(
            &Source {
                name: "",
                bytes: b"",
            },
            &[d],
        );
        2
    }

    /// The file's display name and bytes, or the exit code of the diagnostic.
    fn read(&self, file: &Path) -> Result<(String, Vec<u8>), u8> {
        let name = display_name(file);
        // One byte past the limit is enough for the loader to refuse the
        // input (E0002); reading further could exhaust memory (/dev/zero).
        read_capped(file, dir_grammar::limits::MAX_INPUT_BYTES + 1)
            .map(|b| (name.clone(), b))
            .map_err(|e| {
                self.usage(
                    engine::codes::IO,
                    format!("cannot read `{name}`: {}", e.kind()),
                )
            })
    }

    fn run_file(
        &self,
        file: &Path,
        mode: Mode,
        common: &CommonArgs,
        emit_trace: bool,
        ledger: Option<&Path>,
    ) -> u8 {
        let (name, bytes, report) = match self.execute(file, mode, common, false) {
            Ok(r) => r,
            Err(code) => return code,
        };
        let src = Source {
            name: &name,
            bytes: &bytes,
        };
        if report.trace.outcome != Outcome::Executed {
            if emit_trace {
                say!("{}", report.trace.to_json());
            }
            self.diagnostics(&src, &report.diagnostics);
            return report
                .diagnostics
                .first()
                .map(|d| exit_code(d.category))
                .unwrap_or(4);
        }
        if emit_trace {
            say!("{}", report.trace.to_json());
            return 0;
        }
        match mode {
            Mode::Realize => self.realize(&report, ledger),
            Mode::Simulate => {
                say!("{}", summary(&report, "simulated, not realized"));
                0
            }
            Mode::Check => {
                say!("{}", summary(&report, "would occur when run"));
                0
            }
        }
    }

    /// Read the file, run it with the common options, write `--trace-out`:
    /// the display name, the bytes and the report.
    fn execute(
        &self,
        file: &Path,
        mode: Mode,
        common: &CommonArgs,
        explain: bool,
    ) -> Result<(String, Vec<u8>, Report), u8> {
        if common
            .trace_out
            .as_deref()
            .is_some_and(|t| same_file(t, file))
        {
            return Err(self.usage(
                engine::codes::IO,
                format!(
                    "`--trace-out {}` names the program itself; nothing was run",
                    display_name(file)
                ),
            ));
        }
        let (name, bytes) = self.read(file)?;
        let args = self.entry_args(common)?;
        let cfg = self.config(common, mode, args, explain)?;
        let report = self.engine.run(
            &Source {
                name: &name,
                bytes: &bytes,
            },
            &cfg,
        );
        self.write_trace(common, &report)?;
        Ok((name, bytes, report))
    }

    /// `--arg NAME=EXPR` pairs, in the order given.
    fn entry_args(&self, common: &CommonArgs) -> Result<Vec<(String, String)>, u8> {
        let mut args = Vec::new();
        for a in &common.args {
            match a.split_once('=') {
                Some((n, v)) if !n.trim().is_empty() => {
                    args.push((n.trim().to_string(), v.to_string()))
                }
                _ => {
                    return Err(self.usage(
                        engine::codes::ARG,
                        format!("`--arg {a}`: expected NAME=EXPR"),
                    ))
                }
            }
        }
        Ok(args)
    }

    /// `--trace-out FILE`, whatever the outcome.
    fn write_trace(&self, common: &CommonArgs, report: &Report) -> Result<(), u8> {
        let Some(path) = &common.trace_out else {
            return Ok(());
        };
        std::fs::write(path, report.trace.to_json()).map_err(|e| {
            self.usage(
                engine::codes::IO,
                format!(
                    "cannot write trace to `{}`: {}",
                    display_name(path),
                    e.kind()
                ),
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
    ) -> Result<RunConfig, u8> {
        if let Some(bad) = common.deny_resource.iter().find(|n| {
            !n.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }) {
            return Err(self.usage(
                engine::codes::ARG,
                format!("`--deny-resource {bad}`: give the resource's name, e.g. `--deny-resource Console`"),
            ));
        }
        let mut deny = common.deny_resource.clone();
        let mut provide = Vec::new();
        if let Some(path) = &common.resources {
            let bytes = read_capped(path, MAX_MANIFEST_BYTES + 1).map_err(|e| {
                self.usage(
                    engine::codes::IO,
                    format!(
                        "cannot read resource manifest `{}`: {}",
                        display_name(path),
                        e.kind()
                    ),
                )
            })?;
            if bytes.len() > MAX_MANIFEST_BYTES {
                return Err(self.usage(
                    engine::codes::IO,
                    format!(
                        "resource manifest `{}` is larger than {MAX_MANIFEST_BYTES} bytes",
                        display_name(path)
                    ),
                ));
            }
            let text = String::from_utf8_lossy(&bytes);
            let m: Manifest = ron::from_str(&text).map_err(|e| {
                self.usage(
                    engine::codes::IO,
                    format!(
                        "resource manifest `{}` is not `(provide: [..], deny: [..])`: {e}",
                        display_name(path)
                    ),
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
        })
    }

    fn explain_file(
        &self,
        file: &Path,
        mode: Mode,
        common: &CommonArgs,
        format: ExplainFormat,
    ) -> u8 {
        let (name, bytes, report) = match self.execute(file, mode, common, true) {
            Ok(r) => r,
            Err(code) => return code,
        };
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
                let v = serde_json::json!({
                    "explain_version": engine::explain::EXPLAIN_VERSION,
                    "file": name,
                    "mode": mode.name(),
                    "outcome": outcome,
                    "error": t.error,
                    "phi": t.phi,
                    "rules": t.rules,
                    "diagnostics": report.diagnostics.iter().map(|d| render::json(&src, d)).collect::<Vec<_>>(),
                    "program": report.explanation,
                });
                let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
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
                    s.push_str(&format!("Φ witness ({}): {}\n", phi.scope, phi.witness));
                }
                if let Some(x) = &report.explanation {
                    s.push('\n');
                    s.push_str(&engine::explain::human(x));
                }
                for d in &report.diagnostics {
                    s.push('\n');
                    s.push_str(&render::human(&src, d));
                }
                s.push_str(&format!("\nrules applied: {}\n", t.rules.join(", ")));
                s
            }
        };
        say!("{text}");
        0
    }

    /// Hand each recorded effect to its realizer, in program order. Checked
    /// first: a missing realizer stops the run before any effect occurs.
    fn realize(&self, report: &Report, ledger: Option<&Path>) -> u8 {
        let tables = self.engine.tables();
        let realizer = |kind: &str| {
            tables
                .effects
                .kinds
                .iter()
                .find(|k| k.kind == kind)
                .map(|k| k.realizer)
        };
        let needs_ledger = report
            .events
            .iter()
            .any(|e| realizer(&e.kind) == Some(Realizer::Ledger));
        let mut ledger_file = None;
        if needs_ledger {
            let Some(path) = ledger else {
                return self.usage(
                    engine::codes::NO_REALIZER,
                    "this run performs observe/seal effects, which realize mode appends to a ledger: give `--ledger FILE`, or use `--simulate`; nothing was realized".into(),
                );
            };
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                Ok(f) => ledger_file = Some(f),
                Err(e) => {
                    return self.usage(
                        engine::codes::IO,
                        format!(
                            "cannot open ledger `{}`: {}; nothing was realized",
                            display_name(path),
                            e.kind()
                        ),
                    )
                }
            }
        }
        // Effects are enacted in order; the first that cannot be enacted
        // stops the run (exit 15). Those before it happened and cannot be
        // taken back (§6.6): the message says how many.
        let total = report.events.len();
        let mut stdout = std::io::stdout().lock();
        for (n, e) in report.events.iter().enumerate() {
            let done = match realizer(&e.kind) {
                Some(Realizer::Stdout) => stdout
                    .write_all(e.payload.as_bytes())
                    .and_then(|_| stdout.write_all(b"\n"))
                    .and_then(|_| stdout.flush()),
                Some(Realizer::Ledger) => {
                    let rec = serde_json::json!({
                        "kind": e.kind, "payload": e.payload, "tick": e.tick, "proc": e.proc,
                        "dir_digest": report.trace.dir_digest,
                    });
                    match ledger_file.as_mut() {
                        Some(f) => writeln!(f, "{rec}").and_then(|_| f.flush()),
                        None => Ok(()),
                    }
                }
                None => Ok(()),
            };
            if let Err(err) = done {
                eprintln!(
                    "error: realization failed: effect {} of {total} (`{}` at tick {}) could not be enacted: {}; {n} effect(s) before it were realized",
                    n + 1,
                    e.kind,
                    e.tick,
                    err.kind()
                );
                return 15;
            }
        }
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
                let s = match to {
                    To::Text => dir_grammar::print::to_text(&p),
                    To::Json => dir_grammar::print::to_json(&p),
                };
                say!("{s}");
                0
            }
            Err(e) => {
                self.diagnostics(&src, &[self.engine.load_diagnostic(&e)]);
                3
            }
        }
    }
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
            .unwrap_or(&t.config.entry)
    ));
    if t.effects.events.is_empty() {
        s.push_str(&format!("effects: none ({effect_word})\n"));
    } else {
        s.push_str(&format!("effects ({effect_word}):\n"));
        for e in &t.effects.events {
            s.push_str(&format!(
                "  [tick {}] {} {}  ({})\n",
                e.tick,
                e.kind,
                serde_json::Value::String(e.payload.clone()),
                e.proc
            ));
        }
    }
    if let Some(phi) = &t.phi {
        s.push_str(&format!("Φ witness ({}): {}\n", phi.scope, phi.witness));
    }
    let ret = t
        .returned
        .as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "null".into());
    s.push_str(&format!("returned: {ret}\n"));
    s.push_str(&format!(
        "time: tick {}, declared cost {} us\n",
        t.time.tick, t.time.cost_us
    ));
    s
}

fn rules(engine: &Engine, export: Option<&Path>) -> u8 {
    if let Some(dir) = export {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!(
                "usage error[E0020]: cannot create `{}`: {}",
                display_name(dir),
                e.kind()
            );
            return 2;
        }
        for (name, text) in Tables::default_files() {
            let p = dir.join(name);
            if p.exists() {
                eprintln!(
                    "usage error[E0020]: `{}` exists; export into an empty directory",
                    display_name(&p)
                );
                return 2;
            }
            if let Err(e) = std::fs::write(&p, text) {
                eprintln!(
                    "usage error[E0020]: cannot write `{}`: {}",
                    display_name(&p),
                    e.kind()
                );
                return 2;
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

fn explain(engine: &Engine, code: &str, format: ExplainFormat) -> u8 {
    let raw = code.trim();
    if format == ExplainFormat::Dot {
        eprintln!(
            "usage error: `--format dot` draws a program's admissibility graph; give a DIR file"
        );
        return 2;
    }
    let json = format == ExplainFormat::Json;
    if let Some(r) = engine.tables().rules().into_iter().find(|r| r.id == raw) {
        let code = engine.tables().check(&r.id).and_then(|c| c.code.clone());
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
        eprintln!("usage error: `{raw}` is neither a file, an error code (E0201) nor a rule id (`dustrun rules` lists them)");
        return 2;
    }
    let code = raw.to_ascii_uppercase();
    match engine.tables().entry(&code) {
        Some(e) if json => {
            let rules: Vec<&str> = engine
                .tables()
                .checks
                .iter()
                .filter(|c| c.code.as_deref() == Some(code.as_str()))
                .map(|c| c.id.as_str())
                .collect();
            let v = serde_json::json!({
                "code": e.code, "title": e.title,
                "category": render::category_word(e.category),
                "exit": exit_code(e.category), "kind": e.kind, "spec": e.cite,
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
                exit_code(e.category),
                e.kind,
                e.cite
            );
            sayln!();
            sayln!("{}", e.explanation);
            let rules: Vec<String> = engine
                .tables()
                .checks
                .iter()
                .filter(|c| c.code.as_deref() == Some(code.as_str()))
                .map(|c| c.id.clone())
                .collect();
            if !rules.is_empty() {
                sayln!();
                sayln!("rules reporting it: {}", rules.join(", "));
            }
            0
        }
        None => {
            eprintln!("usage error: `{code}` is not an error code of this executor (codes look like E0201; `dustrun rules` lists the rules)");
            2
        }
    }
}

fn conformance(engine: &Engine, corpus: &Path, snapshots: &Path) -> u8 {
    let cases = match conformance::discover(corpus) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("usage error[E0020]: {e}");
            return 2;
        }
    };
    let mut changed = 0;
    for case in &cases {
        let result = match conformance::run_case(engine, case) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("usage error[E0020]: {e}");
                return 2;
            }
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
        match std::fs::read_to_string(conformance::snapshot_path(snapshots, case))
            .ok()
            .as_deref()
            .and_then(conformance::recorded_outcome)
        {
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
