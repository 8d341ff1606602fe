//! The DVM: validate, admit and evaluate DIR programs as the semantics tables
//! say, and describe every run as a trace. Does no I/O: the caller hands in
//! bytes and realizes recorded effects only for an `executed` outcome.

mod admit;
mod datalog;
pub mod diag;
mod entry;
mod exec;
pub mod explain;
mod linearity;
mod names;
mod phi;
mod populate;
mod registry;
pub mod render;
pub mod replay;
mod solve;
pub mod trace;
mod types;
mod validate;
pub mod value;

pub use diag::{Diagnostic, Label};
pub use exec::Event;
pub use semantics::{Category, Tables};
pub use trace::{Outcome, Trace};
pub use validate::WHOLE_NAMES;

use diag::Checker;
use dir_grammar::model::*;
use dir_grammar::{LoadError, Span};
use trace::*;
use value::Value;

/// The engine's hash maps and sets. Every one is only looked up, never
/// iterated into any output, so the per-process seed cannot reach a trace.
pub(crate) type Map<K, V> = foldhash::HashMap<K, V>;
pub(crate) type Set<K> = foldhash::HashSet<K>;

/// Catalogue codes the engine and CLI use directly.
pub mod codes {
    pub const IO: &str = "E0020";
    pub const ARG: &str = "E0021";
    pub const NO_REALIZER: &str = "E0022";
    pub const TABLES: &str = "E0023";
    pub const LEDGER: &str = "E0024";
    pub const REALIZATION: &str = "E0025";
    pub const REPLAY_REFUSED: &str = "E0026";
    pub const REPLAY_DIVERGED: &str = "E0027";
    pub const USAGE: &str = "E0028";
    /// A state the engine believes unreachable.
    pub const INTERNAL: &str = "E0501";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Simulate,
    Realize,
    /// Load, validate and admit; nothing is realized.
    Check,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Simulate => "simulate",
            Mode::Realize => "realize",
            Mode::Check => "check",
        }
    }
}

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub entry: Option<String>,
    pub mode: Mode,
    /// `--arg name=EXPR`, in the order given.
    pub args: Vec<(String, String)>,
    /// Overrides the profile's step budget.
    pub max_steps: Option<u64>,
    /// Overrides the Φ solver's conflicts per query (07-phi.ron).
    pub solver_budget: Option<u64>,
    /// `--deny-resource NAME`: never available (§8.6).
    pub deny_resources: Vec<String>,
    /// Resources a manifest provides in realize and check mode.
    pub provide_resources: Vec<String>,
    /// Collect the derivation `dustrun explain` shows.
    pub explain: bool,
    /// Store the input in the trace (`--embed-dir`).
    pub embed_dir: bool,
    /// Whether the entry is evaluated while it is checked.
    pub overlap: Overlap,
    /// How the names of a body are hashed for its check.
    pub names: NameHashing,
    /// Whether the trace gets its two digests (`artifact.digest`, `run`).
    /// A caller that neither writes nor shows the trace (the human
    /// summary of a run) leaves them out: the input's SHA-256 is then
    /// never computed (12 ms of CPU for the 21.7 MB K 100k JSON program,
    /// beside a run of ~50 ms on two cores: docs/performance.md). Without
    /// them both are empty, and the trace is for reading the run's
    /// outcome, not for writing.
    pub digests: bool,
}

/// Whether the check hashes a body's names as they are bound or all at
/// once before (which pays once the body's table outgrows a core's own
/// cache: `validate::NameTypes`; docs/performance.md): the trace and
/// diagnostics are the same either way (tests run every corpus program
/// both ways), only the time differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NameHashing {
    /// All at once for a body binding more than `WHOLE_NAMES`.
    #[default]
    Large,
    AtOnce,
    AsBound,
}

impl NameHashing {
    /// Hashed all at once from how many names on.
    pub(crate) fn whole_from(self) -> usize {
        match self {
            NameHashing::Large => validate::WHOLE_NAMES,
            NameHashing::AtOnce => 0,
            NameHashing::AsBound => usize::MAX,
        }
    }
}

/// Whether a run evaluates its entry while another thread checks it
/// (`exec::Beside`; docs/performance.md): the trace and diagnostics are
/// the same either way (tests run every corpus program both ways), only
/// the time differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overlap {
    /// For an entry of `OVERLAP_MIN_STATEMENTS` statements or more (below
    /// that a thread costs more than the overlap saves).
    #[default]
    Large,
    /// Whatever the entry's size, and evaluated to its end however far
    /// the check gets ahead (for the tests that compare both ways).
    Always,
    Never,
}

/// Entries from this many statements on are evaluated while checked.
pub const OVERLAP_MIN_STATEMENTS: usize = 4096;

/// Runs whose entry was evaluated beside its check, that evaluation used.
static EVALUATED_BESIDE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs whose entry was evaluated beside its check with binders other than
/// the check's (`exec::BinderIds`): that evaluation was not used. In a
/// program the check accepts there are none; the tests that compare
/// `Overlap` both ways, and the pipeline fuzz target, say so.
static BESIDE_DISAGREED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many runs of this process evaluated their entry beside its check
/// with binders other than the check's (none, unless the check and
/// evaluation bind a body's names differently: a defect).
#[doc(hidden)]
pub fn runs_beside_disagreed() -> u64 {
    BESIDE_DISAGREED.load(std::sync::atomic::Ordering::Relaxed)
}

/// How many runs of this process used an evaluation made beside the
/// entry's check (for the tests that compare `Overlap` both ways: that
/// the comparison did compare something).
#[doc(hidden)]
pub fn runs_evaluated_beside() -> u64 {
    EVALUATED_BESIDE.load(std::sync::atomic::Ordering::Relaxed)
}

impl RunConfig {
    /// `NAME=EXPR` as the entry argument pair (a text without `=` is a
    /// name with an empty expression, which entry resolution refuses).
    pub fn arg(a: &str) -> (String, String) {
        match a.split_once('=') {
            Some((n, v)) => (n.trim().to_string(), v.to_string()),
            None => (a.to_string(), String::new()),
        }
    }

    /// Whether the run may evaluate its entry beside the entry's check
    /// (`Overlap`): not where it checks only, nor for `explain` (whose
    /// evaluation keeps what the derivation shows).
    pub fn may_overlap(&self) -> bool {
        self.overlap != Overlap::Never && !self.explain && self.mode != Mode::Check
    }

    pub fn new(mode: Mode) -> RunConfig {
        RunConfig {
            entry: None,
            mode,
            args: Vec::new(),
            max_steps: None,
            solver_budget: None,
            deny_resources: Vec::new(),
            provide_resources: Vec::new(),
            explain: false,
            embed_dir: false,
            overlap: Overlap::Large,
            names: NameHashing::Large,
            digests: true,
        }
    }
}

/// The input: a display name (never an absolute path) and its bytes.
pub struct Source<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

pub struct Report {
    pub trace: Trace,
    /// Every diagnostic of the stop (the trace's `error` is the first).
    pub diagnostics: Vec<Diagnostic>,
    /// The derivation, when the configuration asked for it and the run got
    /// as far as admission.
    pub explanation: Option<Box<explain::Explanation>>,
    /// `check` of a K or Q entry given without all its arguments: the
    /// parameters (name, declared type) admission would need. The program
    /// was validated; nothing was admitted or run (outcome `validated`).
    pub needs: Vec<(String, String)>,
}

impl Report {
    /// Effects in order, for the realizer (none unless executed): the
    /// trace's own list.
    pub fn events(&self) -> &[Event] {
        &self.trace.effects.events
    }

    /// A usage stop found after the engine decided the run but before any
    /// effect was realized (no realizer, unusable ledger): the run did not
    /// happen, and its trace says so (brief §1).
    pub fn not_run(&mut self, src: &Source<'_>, d: Diagnostic) {
        let t = &mut self.trace;
        t.outcome = Outcome::NotRun;
        t.phi = None;
        t.returned = None;
        t.effects = Effects::default();
        t.time = Time::default();
        t.error = Some(trace_error(src, &d));
        t.realization = None;
        // Nothing ran: no rule decided anything of this run.
        t.rules.clear();
        self.diagnostics = vec![d];
    }
}

impl Engine {
    /// The report of a usage stop found before the engine could run (the
    /// program unreadable, an option malformed): a `not-run` trace, so a
    /// `--trace-out` never keeps an earlier run's trace.
    pub fn refused(&self, src: &Source<'_>, cfg: &RunConfig, d: Diagnostic) -> Report {
        let mut r = self.run_skeleton(src, cfg);
        r.not_run(src, d);
        r
    }

    /// A report with the trace's header filled in and nothing decided.
    fn run_skeleton(&self, src: &Source<'_>, cfg: &RunConfig) -> Report {
        Report {
            trace: self.trace_header(src, cfg),
            diagnostics: Vec::new(),
            explanation: None,
            needs: Vec::new(),
        }
    }
}

/// The trace's `error` for a stop's first diagnostic.
fn trace_error(src: &Source<'_>, d: &Diagnostic) -> TraceError {
    TraceError {
        kind: d.kind.clone(),
        code: d.code.clone(),
        category: format!("{:?}", d.category).to_lowercase(),
        message: d.message.clone(),
        rule: d.rule.clone(),
        spec: d.cite.clone(),
        mus: None,
        span: d.primary.as_ref().map(|l| trace_span(src, l.span)),
    }
}

/// What ledger records name their run by: the artifact and the
/// configuration as requested (before the entry is resolved: the digest
/// is the same whichever way the run went, and whenever it is computed).
fn run_digest(t: &mut Trace) -> String {
    // The bytes digested are those of a JSON tree built of the
    // configuration (`run_digest_tree`, the tests' oracle), written without
    // the tree of its arguments: 1.5 M `--arg`s in a replayed trace took
    // 4.7 s as a tree. They are taken out while the rest is made one.
    let args = std::mem::take(&mut t.config.args);
    let config = serde_json::to_value(&t.config);
    t.config.args = args;
    let mut config = config.unwrap_or_default();
    if let Some(m) = config.as_object_mut() {
        // A `serde_json` map keeping its order removes a key by moving the
        // last one into its place: the order the digest has always had.
        m.remove("mode");
        m.insert("entry_resolved".into(), serde_json::Value::Null);
    }
    let written = semantics::sha256_written(|w| {
        w.write_all(b"{\"artifact\":")?;
        serde_json::to_writer(&mut *w, &t.artifact.digest)?;
        w.write_all(b",\"config\":{")?;
        for (i, (k, v)) in config.as_object().into_iter().flatten().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            serde_json::to_writer(&mut *w, k)?;
            w.write_all(b":")?;
            if k == "args" {
                serde_json::to_writer(&mut *w, &t.config.args)?;
            } else {
                serde_json::to_writer(&mut *w, v)?;
            }
        }
        w.write_all(b"}}")
    });
    // Writing into a hash cannot fail, nor can these values be refused.
    written.unwrap_or_default()
}

pub struct Engine {
    tables: Tables,
}

/// Inputs from this size on have their digest computed beside the run.
const DIGEST_BESIDE_BYTES: usize = 1 << 20;

impl Engine {
    pub fn new(tables: Tables) -> Result<Engine, String> {
        registry::check(&tables)?;
        for k in dir_grammar::LoadErrorKind::ALL {
            if tables.entry_for_key(k.key()).is_none() {
                return Err(format!(
                    "11-errors.ron: no catalogue entry has key `{}`",
                    k.key()
                ));
            }
        }
        for c in [
            codes::IO,
            codes::ARG,
            codes::NO_REALIZER,
            codes::TABLES,
            codes::LEDGER,
            codes::REALIZATION,
            codes::REPLAY_REFUSED,
            codes::REPLAY_DIVERGED,
            codes::INTERNAL,
        ] {
            if tables.entry(c).is_none() {
                return Err(format!(
                    "11-errors.ron: the engine needs code `{c}`, which is missing"
                ));
            }
        }
        Ok(Engine { tables })
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// A load error as a diagnostic (code found through the catalogue key).
    pub fn load_diagnostic(&self, e: &LoadError) -> Diagnostic {
        let code = self
            .tables
            .entry_for_key(e.kind.key())
            .map(|c| c.code.clone())
            .unwrap_or_else(|| "E0003".into());
        let mut d = Diagnostic::new(&self.tables, &code, None, e.message.clone());
        let title = d.title.clone();
        d = d.at(e.span, title);
        for (span, message) in &e.secondary {
            d = d.also(*span, message.clone());
        }
        d.notes.extend(e.notes.iter().cloned());
        d
    }

    /// Load and validate only (no entry, no evaluation): the static check.
    pub fn check_static(&self, program: &Program) -> Result<(), Vec<Diagnostic>> {
        let mut ck = Checker::new(&self.tables);
        match dir_grammar::on_parse_stack(|| validate::compile(&mut ck, program).map(|_| ())) {
            Some(_) => Ok(()),
            None => Err(ck.take_diags()),
        }
    }

    /// Run a program. Evaluation recursion is bounded by documented limits
    /// (expression depth, call depth, value depth); it runs on a thread whose
    /// stack holds those bounds in any build.
    pub fn run(&self, src: &Source<'_>, cfg: &RunConfig) -> Report {
        if !cfg.digests {
            return dir_grammar::on_parse_stack(|| self.run_here(src, cfg, &|| {}));
        }
        // The artifact digest reads every byte once more: on a large input
        // it is computed on another thread, started once the program is
        // loaded (loading has a second thread of its own) so that it runs
        // beside validation and evaluation.
        let (mut report, digest) = if src.bytes.len() < DIGEST_BESIDE_BYTES {
            let report = dir_grammar::on_parse_stack(|| self.run_here(src, cfg, &|| {}));
            (report, None)
        } else {
            std::thread::scope(|s| {
                let digest = std::sync::OnceLock::new();
                // Started once (before or after loading, `run_here`).
                let start = || {
                    if digest.get().is_some() {
                        return;
                    }
                    let h = std::thread::Builder::new()
                        .name("digest".into())
                        .spawn_scoped(s, || semantics::sha256(src.bytes));
                    let _ = digest.set(h.ok());
                };
                let report = dir_grammar::on_parse_stack(|| self.run_here(src, cfg, &start));
                let h = digest.into_inner().flatten();
                (report, h.and_then(|h| h.join().ok()))
            })
        };
        let trace = &mut report.trace;
        trace.artifact.digest = digest.unwrap_or_else(|| semantics::sha256(src.bytes));
        trace.run = run_digest(trace);
        report
    }

    /// The trace's header: artifact, configuration and run digest.
    fn trace_header(&self, src: &Source<'_>, cfg: &RunConfig) -> Trace {
        let mut trace = self.trace_header_undigested(src, cfg);
        trace.artifact.digest = semantics::sha256(src.bytes);
        trace.run = run_digest(&mut trace);
        trace
    }

    /// The trace's header without the two digests (`run` adds them).
    fn trace_header_undigested(&self, src: &Source<'_>, cfg: &RunConfig) -> Trace {
        Trace {
            trace_version: TRACE_VERSION,
            dustrun: env!("CARGO_PKG_VERSION").to_string(),
            dpl: self.tables.profile.dpl_version.clone(),
            artifact: Artifact {
                name: src.name.to_string(),
                digest: String::new(),
                embedded: cfg.embed_dir.then(|| Embedded::of(src.bytes)),
            },
            run: String::new(),
            config: Config {
                entry: cfg.entry.clone(),
                entry_resolved: None,
                mode: cfg.mode.name().into(),
                args: cfg
                    .args
                    .iter()
                    .map(|(name, value)| Arg {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                max_steps: cfg.max_steps.unwrap_or(self.tables.profile.budgets.steps),
                solver_budget: cfg
                    .solver_budget
                    .unwrap_or(self.tables.phi.solver.conflicts_per_query),
                deny_resources: cfg.deny_resources.clone(),
                provide_resources: cfg.provide_resources.clone(),
                profile: format!("dpl-{}", self.tables.profile.dpl_version),
                rules_digest: self.tables.digest.clone(),
            },
            outcome: Outcome::Executed,
            phi: None,
            returned: None,
            effects: Effects::default(),
            time: Time::default(),
            rules: Vec::new(),
            error: None,
            realization: None,
        }
    }

    /// `loaded` is called once loading is over, whatever its result, and
    /// before it where the run may evaluate beside its check (a second
    /// call does nothing).
    fn run_here(&self, src: &Source<'_>, cfg: &RunConfig, loaded: &(dyn Fn() + Sync)) -> Report {
        let large = src.bytes.len() >= FREE_BESIDE_BYTES;
        if large {
            // At most one program is being freed while another runs.
            freed_beside();
        }
        // The caller fills in the digests.
        let trace = self.trace_header_undigested(src, cfg);
        if cfg.may_overlap() {
            // The digest's thread takes what the loading threads leave of
            // the cores, and none of what evaluating beside the check will.
            loaded();
        }
        let program = dir_grammar::load(src.bytes);
        loaded();
        let program = match program {
            Ok(p) => p,
            Err(e) => return stopped(src, trace, vec![self.load_diagnostic(&e)], Vec::new()),
        };
        let report = self.run_program(&program, src, cfg, trace);
        if large {
            free_beside(program);
        }
        report
    }

    /// The run of a loaded program: validation, admission, evaluation.
    fn run_program(
        &self,
        program: &dir_grammar::Program,
        src: &Source<'_>,
        cfg: &RunConfig,
        mut trace: Trace,
    ) -> Report {
        let budget = exec::Budget {
            steps: cfg.max_steps.unwrap_or(self.tables.profile.budgets.steps),
            value_nodes: self.tables.profile.budgets.value_nodes,
            payload_bytes: self.tables.profile.budgets.payload_bytes,
        };
        let mut ck = Checker::new(&self.tables);
        ck.whole_names_from = cfg.names.whole_from();
        let mut beside = EvalBeside {
            engine: self,
            cfg,
            budget,
            args: Vec::new(),
            ran: None,
        };
        let compiled = validate::compile_beside(&mut ck, program, Some(&mut beside));
        let Some(compiled) = compiled else {
            let fired = ck.fired.iter().cloned().collect();
            return stopped(src, trace, ck.take_diags(), fired);
        };
        let entry = match self.resolve_entry(&mut ck, &compiled, cfg.entry.as_deref()) {
            Ok(e) => e,
            Err(d) => {
                let fired = ck.fired.iter().cloned().collect();
                return stopped(src, trace, vec![*d], fired);
            }
        };
        let info = &compiled.procs[entry];
        trace.config.entry_resolved = Some(info.qname.to_string());
        let is_phi = info.proc.regime == Regime::Phi;
        // The derivation `explain` shows, when the configuration asks for it.
        let explain_of = |record: &admit::Record, log: &[(usize, Span, bool)]| {
            cfg.explain.then(|| {
                Box::new(explain::build(
                    &self.tables,
                    src,
                    &compiled,
                    entry,
                    record,
                    log,
                ))
            })
        };
        let res_cfg = admit::ResourceConfig {
            mode_simulate: cfg.mode == Mode::Simulate,
            deny: cfg.deny_resources.clone(),
            provide: cfg.provide_resources.clone(),
        };
        if cfg.mode == Mode::Check && !is_phi {
            // `check` without every argument of a K or Q entry: the program
            // is validated; say what admission needs (brief 13, issue 14).
            let needs: Vec<(String, String)> = info
                .params
                .iter()
                .filter(|(n, _)| !cfg.args.iter().any(|(a, _)| a == n))
                .map(|(n, d)| (n.clone(), d.name.to_string()))
                .collect();
            if !needs.is_empty() {
                // The arguments that were given must still be right.
                if let Err(d) = self.entry_args(&compiled, entry, &cfg.args, true) {
                    let fired = ck.fired.iter().cloned().collect();
                    return stopped(src, trace, vec![*d], fired);
                }
                // Whole-program admission that no argument can change
                // (resources, contracts, gates) is still decided, as it is
                // for a Φ entry's unanswered question.
                let (adm_stop, _) = admit::admit_unevaluated(
                    &mut ck,
                    &compiled,
                    entry,
                    &res_cfg,
                    cfg.solver_budget,
                    false,
                );
                if let Some(d) = adm_stop {
                    let fired = ck.fired.iter().cloned().collect();
                    return stopped(src, trace, vec![d], fired);
                }
                trace.outcome = Outcome::Validated;
                trace.rules = ck.fired.iter().cloned().collect();
                return Report {
                    trace,
                    diagnostics: Vec::new(),
                    explanation: None,
                    needs,
                };
            }
        }
        let given = match self.entry_args(&compiled, entry, &cfg.args, is_phi) {
            Ok(a) => a,
            Err(d) => {
                let fired = ck.fired.iter().cloned().collect();
                return stopped(src, trace, vec![*d], fired);
            }
        };
        let args: Vec<Value> = if given.iter().all(Option::is_some) {
            if is_phi {
                ck.fire(crate::registry::PHI_CONCRETE);
            }
            given.into_iter().flatten().collect()
        } else {
            // A Φ entry with unknown parameters: the existence question.
            match self.resolve_phi(&mut ck, &compiled, entry, &given, cfg) {
                Ok((args, phi)) => {
                    trace.phi = Some(phi);
                    args
                }
                Err((d, mus)) => {
                    // The entry's own question failed; a definite verdict of
                    // whole-program admission still outranks "undetermined".
                    let (adm_stop, mut record) = admit::admit_unevaluated(
                        &mut ck,
                        &compiled,
                        entry,
                        &res_cfg,
                        cfg.solver_budget,
                        cfg.explain,
                    );
                    let word = match d.category {
                        Category::Undetermined => "Φ entry: undetermined",
                        _ => "Φ entry: non-existent",
                    };
                    record
                        .verdicts
                        .insert(entry, (word.into(), d.rule.clone().unwrap_or_default()));
                    let explanation = explain_of(&record, &[]);
                    let fired = ck.fired.iter().cloned().collect();
                    let mut report = match adm_stop {
                        Some(a)
                            if d.category == Category::Undetermined
                                && a.category == Category::Inadmissible =>
                        {
                            stopped(src, trace, vec![a], fired)
                        }
                        _ => {
                            let mut r = stopped(src, trace, vec![*d], fired);
                            if let Some(e) = r.trace.error.as_mut() {
                                e.mus = mus;
                            }
                            r
                        }
                    };
                    report.explanation = explanation;
                    return report;
                }
            }
        };

        let mut m = exec::Machine::new(&self.tables, &compiled, budget);
        m.log_constraints = cfg.explain;
        // Evaluated while it was checked (the same entry and arguments):
        // that run's state, as if it ran here.
        let ran = beside
            .ran
            .take()
            .filter(|ran| ran.pi == entry && beside.args == args)
            .and_then(|ran| usable_beside(&compiled, ran));
        let result = match ran {
            Some(ran) => {
                EVALUATED_BESIDE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                m.restore(ran.state);
                ran.result
            }
            None => m.run_proc(entry, args),
        };
        // Whole-program admission: decided after every concrete call has
        // been evaluated (effects only recorded), before anything is realized.
        let refused = match &result {
            Err(d) if d.category == Category::Inadmissible => m.refused_in,
            _ => None,
        };
        let (adm_stop, record) = admit::admit(
            &mut ck,
            &compiled,
            entry,
            &res_cfg,
            refused,
            &m.refusal_path,
            &m.admitted,
            cfg.solver_budget,
            cfg.explain,
        );
        let explanation = explain_of(&record, &m.constraint_log);
        let mut fired = ck.fired;
        fired.extend(m.fired_ids());
        if let Some(d) = adm_stop {
            // A refused run is reported by evaluation's own diagnostic (the
            // constraint, with its values), with the rule that refused it.
            let d = match (&result, record.stop.as_deref()) {
                (Err(own), Some(semantics::datalog::adm::RUN_REFUSED)) => {
                    let mut own = (**own).clone();
                    own.notes.extend(record.stop_derivation.iter().cloned());
                    own
                }
                _ => d,
            };
            let mut report = stopped(src, trace, vec![d], fired.into_iter().collect());
            report.explanation = explanation;
            return report;
        }
        if result.is_ok() {
            // The realizer rows decide only for runs whose effects happen
            // (the kinds the machine recorded events of, not a search of
            // every event: 0.2 ms of a large run on one core).
            let kinds = m.event_kinds();
            for k in &self.tables.effects.kinds {
                if kinds.iter().any(|e| **e == *k.kind) {
                    fired.insert(k.id.clone());
                }
            }
        }
        let fired: Vec<String> = fired.into_iter().collect();
        match result {
            Err(d) => {
                let mut report = stopped(src, trace, vec![*d], fired);
                report.explanation = explanation;
                report
            }
            Ok(v) => {
                trace.returned = Some(v.tagged());
                trace.effects.events = m.events;
                trace.time = Time {
                    tick: m.tick,
                    cost_us: m.cost_us,
                };
                trace.rules = fired;
                Report {
                    trace,
                    diagnostics: Vec::new(),
                    explanation,
                    needs: Vec::new(),
                }
            }
        }
    }
}

/// The entry's evaluation while it is checked (`validate::BesideCheck`):
/// a K entry whose arguments are all given, evaluated unless `explain` or
/// `check` (which evaluate differently or not at all).
struct EvalBeside<'e> {
    engine: &'e Engine,
    cfg: &'e RunConfig,
    budget: exec::Budget,
    /// The arguments it was evaluated with.
    args: Vec<Value>,
    /// What evaluating the entry gave, unless evaluation gave up.
    ran: Option<BesideRan>,
}

impl validate::BesideCheck for EvalBeside<'_> {
    fn entry(&mut self, c: &validate::Compiled<'_>) -> Option<usize> {
        let cfg = self.cfg;
        if !cfg.may_overlap() {
            return None;
        }
        // Resolved as the run will (its diagnostics, if any, are the run's
        // to give: here it only declines).
        let mut scratch = Checker::new(&self.engine.tables);
        let entry = self
            .engine
            .resolve_entry(&mut scratch, c, cfg.entry.as_deref())
            .ok()?;
        let p = c.procs[entry].proc;
        if p.regime != Regime::K
            || (cfg.overlap == Overlap::Large && p.body.len() < OVERLAP_MIN_STATEMENTS)
        {
            return None;
        }
        let given = self.engine.entry_args(c, entry, &cfg.args, false).ok()?;
        self.args = given.into_iter().collect::<Option<Vec<Value>>>()?;
        Some(entry)
    }

    fn run(&mut self, c: &validate::Compiled<'_>, pi: usize, check: &exec::CheckState) {
        let mut m = exec::Machine::new(&self.engine.tables, c, self.budget);
        m.log_constraints = false;
        let to_the_end = self.cfg.overlap == Overlap::Always;
        m.beside(exec::Beside::new(pi, check, to_the_end));
        let result = m.run_proc(pi, self.args.clone());
        if !m.gave_up() {
            self.ran = Some(BesideRan {
                pi,
                result,
                binders: m.binder_ids(),
                state: m.into_state(),
            });
        }
    }
}

/// What an evaluation beside the check ran, kept if it bound the check's
/// binders in the check's slots: then the names it read by their marks were
/// the ones meant. (Always so in a program the check accepted: the check
/// and the evaluation bind a body's names in the same order. Otherwise it
/// is counted, `BESIDE_DISAGREED`, and the run evaluates after the check.)
fn usable_beside(compiled: &validate::Compiled<'_>, ran: BesideRan) -> Option<BesideRan> {
    if ran.binders.agree(&compiled.procs[ran.pi].env) {
        Some(ran)
    } else {
        BESIDE_DISAGREED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        None
    }
}

/// An evaluation beside the check.
struct BesideRan {
    /// The entry evaluated.
    pi: usize,
    result: Result<Value, exec::Stop>,
    /// The machine's state after it.
    state: exec::State,
    /// Who it bound in each slot.
    binders: exec::BinderIds,
}

/// Frees a large program on a thread of its own: a run's result does not
/// wait for hundreds of thousands of nodes to be freed one by one (about a
/// twentieth of a large run). If no thread can be started, it is freed here.
fn free_beside(program: dir_grammar::Program) {
    // A failed spawn drops its closure, and the program with it, here.
    let h = std::thread::Builder::new()
        .name("free".into())
        .spawn(move || drop(program))
        .ok();
    if let Ok(mut slot) = FREEING.lock() {
        *slot = h;
    }
}

/// The thread freeing the last large program, if any.
static FREEING: std::sync::Mutex<Option<std::thread::JoinHandle<()>>> = std::sync::Mutex::new(None);

/// Waits until the last large program is freed: runs one after another
/// (a library's caller, the benches) do not pile up programs being freed,
/// nor compete with them for the allocator.
fn freed_beside() {
    let h = FREEING.lock().ok().and_then(|mut slot| slot.take());
    if let Some(h) = h {
        let _ = h.join();
    }
}

/// Programs from this size on are freed beside (below it a thread costs
/// more than freeing takes).
const FREE_BESIDE_BYTES: usize = 1 << 20;

/// The report of a run stopped by `diags` (the first decides the outcome).
fn stopped(
    src: &Source<'_>,
    mut trace: Trace,
    diags: Vec<Diagnostic>,
    fired: Vec<String>,
) -> Report {
    let first = &diags[0];
    trace.outcome = Outcome::of(first.category);
    trace.rules = fired;
    trace.error = Some(trace_error(src, first));
    Report {
        trace,
        diagnostics: diags,
        explanation: None,
        needs: Vec::new(),
    }
}

/// A span with line/column facts, computed on the valid UTF-8 prefix.
pub fn trace_span(src: &Source<'_>, span: Span) -> TraceSpan {
    let text = match std::str::from_utf8(src.bytes) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&src.bytes[..e.valid_up_to()]).unwrap_or(""),
    };
    let s = dir_grammar::span::clamp_span(text, span);
    let at = render::Positions::new(text, [s.start(), s.end()]);
    trace_span_in(src.name, text, &at, span)
}

/// `trace_span` with the positions of the span's ends found beforehand,
/// for many spans of one source (each `trace_span` rescans the text
/// before it).
pub fn trace_span_in(name: &str, text: &str, at: &render::Positions, span: Span) -> TraceSpan {
    let s = dir_grammar::span::clamp_span(text, span);
    let (line, column) = at.get(s.start());
    let (end_line, end_column) = at.get(s.end());
    TraceSpan {
        file: name.to_string(),
        start: s.start(),
        end: s.end(),
        line,
        column,
        end_line,
        end_column,
    }
}

#[cfg(test)]
mod explain_tests {
    use super::*;

    /// Evaluation logs each constraint's verdict only for `explain`, and
    /// then for every constraint: held, false, and the run's own.
    #[test]
    fn explain_shows_each_constraints_verdict() {
        let engine = Engine::new(Tables::defaults().expect("tables")).expect("engine");
        let src = |text: &'static str| Source {
            name: "c.dir",
            bytes: text.as_bytes(),
        };
        let verdicts = |text: &'static str| {
            let cfg = RunConfig {
                explain: true,
                ..RunConfig::new(Mode::Simulate)
            };
            let r = engine.run(&src(text), &cfg);
            let x = r.explanation.expect("explained");
            let entry = x.procs.iter().find(|p| p.name == x.entry).expect("entry");
            let v: Vec<String> = entry
                .constraints
                .iter()
                .map(|c| c.verdict.clone())
                .collect();
            (r.trace.outcome, v)
        };
        let held = "dir 0.1;\nforge F {\n  proc K main() -> i64 {\n    let a = 2;\n    constrain a Gt 1;\n    constrain a Lt 3;\n    return a;\n  }\n}\n";
        assert_eq!(
            verdicts(held),
            (
                Outcome::Executed,
                vec!["holds".to_string(), "holds".to_string()]
            )
        );
        let refused = "dir 0.1;\nforge F {\n  proc K main() -> i64 {\n    let a = 2;\n    constrain a Gt 1;\n    constrain a Gt 3;\n    return a;\n  }\n}\n";
        assert_eq!(
            verdicts(refused),
            (
                Outcome::Inadmissible,
                vec!["holds".to_string(), "false".to_string()]
            )
        );
        // Without `explain`, the same outcome and no explanation.
        let r = engine.run(&src(refused), &RunConfig::new(Mode::Simulate));
        assert_eq!(r.trace.outcome, Outcome::Inadmissible);
        assert!(r.explanation.is_none());
    }
}

#[cfg(test)]
mod beside_tests {
    use super::*;
    use dir_grammar::model::Ident;

    /// Who binds each slot of the program's one process.
    fn binders(p: &dir_grammar::Program) -> Vec<&Ident> {
        let p = &p.forges[0].procs[0];
        p.params
            .iter()
            .map(|f| &f.name)
            .chain(p.body.iter().filter_map(|s| s.kind.bound()))
            .collect()
    }

    /// An evaluation beside the check is used only if it bound the check's
    /// own binders in the check's slots (all, or the first of them); one
    /// that bound the same names by another program's statements is not,
    /// and is counted.
    #[test]
    fn an_evaluation_that_bound_otherwise_is_not_used() {
        let tables = Tables::defaults().expect("tables");
        let src = "dir 0.1;\nforge F {\n  proc K main(p: i64) -> i64 {\n    let a = p Add 1;\n    let b = a Mul 2;\n    return b;\n  }\n}\n";
        let program = dir_grammar::load_str(src).expect("loads");
        let twin = dir_grammar::load_str(src).expect("loads");
        let mut ck = Checker::new(&tables);
        let compiled = validate::compile(&mut ck, &program).expect("valid");
        let ran = |ids: &[&Ident]| -> BesideRan {
            let budget = exec::Budget {
                steps: 100,
                value_nodes: 100,
                payload_bytes: 100,
            };
            let m = exec::Machine::new(&tables, &compiled, budget);
            BesideRan {
                pi: 0,
                result: Ok(Value::Int(4)),
                state: m.into_state(),
                binders: exec::BinderIds::of(ids),
            }
        };
        let (own, other) = (binders(&program), binders(&twin));
        assert_eq!(own.len(), 3);
        let before = runs_beside_disagreed();
        assert!(usable_beside(&compiled, ran(&own)).is_some());
        assert!(usable_beside(&compiled, ran(&own[..2])).is_some());
        assert_eq!(runs_beside_disagreed(), before);
        assert!(usable_beside(&compiled, ran(&other)).is_none());
        assert!(runs_beside_disagreed() > before);
    }
}

#[cfg(test)]
mod run_digest_tests {
    use super::*;

    /// A run is named by its artifact and configuration as requested: the
    /// same whether it executed (its entry resolved) or never ran, so
    /// ledgers and replays recognise it whatever the outcome.
    #[test]
    fn the_run_digest_ignores_how_the_run_went() {
        let engine = Engine::new(Tables::defaults().expect("tables")).expect("engine");
        let src = Source {
            name: "hello.dir",
            bytes: b"dir 0.1;\nforge F {\n  proc K main() -> i64 {\n    emit 1;\n    return 2;\n  }\n}\n",
        };
        let cfg = RunConfig::new(Mode::Simulate);
        let ran = engine.run(&src, &cfg);
        assert_eq!(ran.trace.outcome, Outcome::Executed);
        assert!(ran.trace.config.entry_resolved.is_some());
        let d = Diagnostic::new(engine.tables(), codes::USAGE, None, "not run");
        let refused = engine.refused(&src, &cfg, d);
        assert_eq!(refused.trace.outcome, Outcome::NotRun);
        assert_eq!(ran.trace.run, refused.trace.run);
        assert_eq!(ran.trace.artifact.digest, refused.trace.artifact.digest);
        // Digested on another thread from 1 MiB on: the same digests.
        let mut big = src.bytes.to_vec();
        big.extend(std::iter::repeat_n(b' ', DIGEST_BESIDE_BYTES));
        let src = Source {
            name: "hello.dir",
            bytes: &big,
        };
        let ran = engine.run(&src, &cfg);
        assert_eq!(ran.trace.outcome, Outcome::Executed);
        let refused = engine.refused(
            &src,
            &cfg,
            Diagnostic::new(engine.tables(), codes::USAGE, None, "not run"),
        );
        assert_eq!(ran.trace.run, refused.trace.run);
        assert_eq!(ran.trace.artifact.digest, semantics::sha256(&big));
    }

    /// A run whose trace goes without digests is the same run: its trace
    /// differs in the two digests only, left empty (small and large
    /// inputs: the large one's digest would be computed on a thread).
    #[test]
    fn a_run_without_digests_differs_only_in_them() {
        let engine = Engine::new(Tables::defaults().expect("tables")).expect("engine");
        let small =
            b"dir 0.1;\nforge F {\n  proc K main() -> i64 {\n    emit 1;\n    return 2;\n  }\n}\n";
        let mut big = small.to_vec();
        big.extend(std::iter::repeat_n(b' ', DIGEST_BESIDE_BYTES));
        for bytes in [&small[..], &big[..]] {
            let src = Source {
                name: "hello.dir",
                bytes,
            };
            let digested = engine.run(&src, &RunConfig::new(Mode::Simulate));
            let bare = engine.run(
                &src,
                &RunConfig {
                    digests: false,
                    ..RunConfig::new(Mode::Simulate)
                },
            );
            assert_eq!(bare.trace.outcome, Outcome::Executed);
            assert_eq!(digested.trace.artifact.digest, semantics::sha256(bytes));
            assert!(bare.trace.artifact.digest.is_empty() && bare.trace.run.is_empty());
            let mut blanked = digested.trace.clone();
            blanked.artifact.digest.clear();
            blanked.run.clear();
            assert_eq!(blanked.to_json(), bare.trace.to_json());
        }
    }

    /// The digest of the configuration's JSON tree, as it was computed.
    fn run_digest_tree(t: &Trace) -> String {
        let mut config = serde_json::to_value(&t.config).unwrap_or_default();
        if let Some(m) = config.as_object_mut() {
            m.remove("mode");
            m.insert("entry_resolved".into(), serde_json::Value::Null);
        }
        let v = serde_json::json!({
            "artifact": t.artifact.digest,
            "config": config,
        });
        semantics::sha256(v.to_string().as_bytes())
    }

    /// The run digest, written without a tree, is the tree's.
    #[test]
    fn the_run_digest_is_its_trees() {
        let engine = Engine::new(Tables::defaults().expect("tables")).expect("engine");
        let src = Source {
            name: "hello.dir",
            bytes: b"dir 0.1;\nforge F {\n  proc K main(x: i64) -> i64 {\n    return x;\n  }\n}\n",
        };
        let configs = [
            RunConfig::new(Mode::Simulate),
            RunConfig {
                entry: Some("main".into()),
                args: vec![RunConfig::arg("x=1")],
                ..RunConfig::new(Mode::Check)
            },
            RunConfig {
                args: vec![RunConfig::arg("x=\"é\\n\""), RunConfig::arg("y=2")],
                deny_resources: vec!["net".into()],
                provide_resources: vec!["fs".into(), "clock".into()],
                max_steps: Some(7),
                ..RunConfig::new(Mode::Realize)
            },
        ];
        for cfg in &configs {
            let r = engine.run(&src, cfg);
            assert_eq!(r.trace.run, run_digest_tree(&r.trace));
            let mut t = r.trace.clone();
            t.config.entry_resolved = Some("F::K::main".into());
            assert_eq!(run_digest(&mut t), run_digest_tree(&t));
        }
    }

    /// An entry not found or ambiguous among many processes names at most
    /// `LIST_MAX` of them (330 000 processes were 4.8 MB of one note).
    #[test]
    fn entry_diagnostics_list_a_few_processes() {
        let engine = Engine::new(Tables::defaults().expect("tables")).expect("engine");
        let n = crate::diag::LIST_MAX + 5;
        let mut text = String::from("dir 0.1;\n");
        for i in 0..n {
            text.push_str(&format!(
                "forge F{i} {{\n  proc K main() -> i64 {{\n    return 1;\n  }}\n  proc K p{i}() -> i64 {{\n    return 1;\n  }}\n}}\n"
            ));
        }
        let src = Source {
            name: "many.dir",
            bytes: text.as_bytes(),
        };
        let cfg = RunConfig::new(Mode::Simulate);
        let r = engine.run(&src, &cfg);
        let d = &r.diagnostics[0];
        assert!(
            d.message.ends_with("F19::K::main, and 5 more"),
            "{}",
            d.message
        );
        assert_eq!(d.secondary.len(), crate::diag::LIST_MAX);
        let cfg = RunConfig {
            entry: Some("nothere".into()),
            ..RunConfig::new(Mode::Simulate)
        };
        let r = engine.run(&src, &cfg);
        let listed = r.diagnostics[0]
            .notes
            .iter()
            .find(|n| n.starts_with("processes: "))
            .expect("the processes listed");
        assert!(
            listed.ends_with(&format!("and {} more", 2 * n - crate::diag::LIST_MAX)),
            "{listed}"
        );
        assert_eq!(listed.matches("::").count(), 2 * crate::diag::LIST_MAX);
    }

    /// A long cycle is named by its two ends and how many are left out, so
    /// that a message costs the same whatever the cycle's length.
    #[test]
    fn long_cycles_are_named_by_their_ends() {
        let engine = Engine::new(Tables::defaults().expect("tables")).expect("engine");
        let mut text = String::from("dir 0.1;\nforge F {\n");
        for i in 0..20 {
            text.push_str(&format!(
                "  proc K p{i}() -> i64 {{\n    call p{}() -> r;\n    return r;\n  }}\n",
                (i + 1) % 20
            ));
        }
        text.push_str("}\n");
        let program = dir_grammar::load_str(&text).expect("loads");
        let diags = engine.check_static(&program).expect_err("a cycle");
        let m = &diags[0].message;
        assert!(m.contains("… 12 more …"), "{m}");
        assert_eq!(m.matches(" -> ").count(), 9, "{m}");
    }

    /// A check keeps its first `MAX_DIAGNOSTICS` diagnostics and counts
    /// the rest on the last one kept; the first decides the outcome, and
    /// the body past the limit is still checked (its rules fire).
    #[test]
    fn a_flood_of_errors_is_kept_to_its_first_diagnostics() {
        let engine = Engine::new(Tables::defaults().expect("tables")).expect("engine");
        let max = crate::diag::MAX_DIAGNOSTICS;
        let mut text = String::from("dir 0.1;\nforge F {\n  proc K main() -> i64 {\n");
        // The first binds x; each of the others is an error.
        for _ in 0..max + 6 {
            text.push_str("    let x = 1;\n");
        }
        // Past the limit, an error of another rule.
        text.push_str("    let y = z;\n    return x;\n  }\n}\n");
        let src = Source {
            name: "flood.dir",
            bytes: text.as_bytes(),
        };
        let report = engine.run(&src, &RunConfig::new(Mode::Simulate));
        assert_eq!(report.trace.outcome, Outcome::Rejected);
        assert_eq!(report.diagnostics.len(), max);
        // The first duplicate (the second `let x`) decides the outcome.
        let first = report.trace.error.as_ref().expect("an error");
        assert_eq!(first.code, report.diagnostics[0].code);
        assert_eq!(first.span.as_ref().map(|s| s.line), Some(5));
        let last = &report.diagnostics[max - 1];
        assert!(
            last.notes
                .iter()
                .any(|n| n.starts_with("6 more diagnostic(s) found and not shown")),
            "{:?}",
            last.notes
        );
        assert!(report
            .trace
            .rules
            .iter()
            .any(|r| r == crate::registry::NAME_UNKNOWN));
        let listed = engine
            .check_static(&dir_grammar::load_str(&text).expect("loads"))
            .expect_err("rejected");
        assert_eq!(listed.len(), max);
    }
}
