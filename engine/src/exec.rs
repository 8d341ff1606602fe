//! Admission and evaluation (phase 3) of K processes by the generic rule
//! applier: each statement runs the actions of its row in the K transition
//! table (`08-k-steps.ron`). Effects are only recorded here; realizing them is
//! the caller's job once the whole run is admitted.

use crate::diag::Checker;
use crate::diag::Diagnostic;
use crate::validate::{Compiled, ShapeInfo, Target};
use crate::value::Value;
use dir_grammar::model::*;
use dir_grammar::print::expr_to_string;
use dir_grammar::Span;
use semantics::{Action, KSteps, OpClass, PrimKind, Tables};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

/// One recorded effect: as the trace keeps it, so that the trace and the
/// realizer read the same list (a copy for each cost a string per effect).
pub type Event = crate::trace::EventJson;

pub struct Machine<'c, 'p> {
    tables: &'c Tables,
    ops: crate::types::OpRows<'c>,
    c: &'c Compiled<'p>,
    pub tick: u64,
    pub cost_us: u64,
    pub events: Vec<Event>,
    /// Effect kinds and process names (by process) that events share.
    kind_names: Vec<std::sync::Arc<str>>,
    proc_names: Vec<Option<std::sync::Arc<str>>>,
    pub fired: BTreeSet<String>,
    witnesses: u64,
    /// Statements and calls evaluated so far, against `budget.steps`.
    steps: u64,
    budget: Budget,
    /// Which step rows (by table and index) and exit rows decided something.
    step_fired: [Vec<bool>; 3],
    exit_fired: [bool; 3],
    /// The K, Q and Φ step tables, their rows and costs found once per run.
    rows: [crate::types::StepRows<'c>; 3],
    /// Resources allocated so far (for deterministic ids `qres:<binding>:<n>`).
    resources: u64,
    /// The `let` being evaluated, which names the resources it allocates.
    binding: Option<&'c str>,
    /// Every constraint checked: (process, predicate span, held), in order.
    pub constraint_log: Vec<(usize, Span, bool)>,
    /// Whether `constraint_log` is kept (only `explain` reads it).
    pub log_constraints: bool,
    /// The process whose constraints failed, when the run stopped so.
    pub refused_in: Option<usize>,
    /// Depth of Φ frames being evaluated: inside one, nothing ticks.
    timeless: u32,
    /// Processes evaluated to the end with their constraints holding (by
    /// process index: a set of 100 000 processes as a tree cost more than
    /// the calls it recorded).
    pub admitted: Vec<bool>,
    /// The processes being evaluated, outermost first.
    stack: Vec<usize>,
    /// The stack when a constraint refused the run.
    pub refusal_path: Vec<usize>,
    /// Each shape's names as its values share them, by forge and the
    /// shape's type number (`names_of`).
    shape_names: Vec<Vec<Option<Rc<ShapeNames>>>>,
    /// The process evaluated while it is being checked, if any.
    beside: Option<Beside<'p>>,
}

/// Evaluation of a process while another thread checks it (the entry of a
/// program's first check, `validate::compile_beside`): what the check
/// decides is read from the marks as the check sets them. A name's slot is
/// its mark (the check sets it only to the slot it bound that name in;
/// that the evaluation bound the same binders in the same slots is
/// confirmed once, after the check: `BinderIds`), an
/// operator's width its mark; a mark not yet set is waited for, until the
/// check is over (then an unset mark means what it means after a check).
/// A bound name's slot is the next one (the parameters', then each binding
/// statement's in order), as a check that accepts the body gives it. The
/// body's constraints are evaluated as the check's pass over them marks
/// them (waiting for the whole check there left a large body's 125 000
/// constraints to evaluate after it: 25 ms of a 290 ms run).
/// Where evaluation needs what only the whole check decides (a call's
/// target, an f32 literal, a witness's constraint digest, a name not
/// marked once the check is over) it gives up: the run then evaluates after
/// the check, as it does without this. Its result is used only if the check
/// accepts the program and their binders agree.
pub(crate) struct Beside<'p> {
    pi: usize,
    check: &'p CheckState,
    /// Who binds each slot so far.
    binders: Vec<&'p Ident>,
    /// Evaluation met what only the whole check decides.
    gave_up: bool,
    /// Evaluates to the end however far behind the check it falls
    /// (`Overlap::Always`: the tests that compare both ways).
    to_the_end: bool,
}

impl<'p> Beside<'p> {
    pub(crate) fn new(pi: usize, check: &'p CheckState, to_the_end: bool) -> Beside<'p> {
        Beside {
            pi,
            check,
            binders: Vec::new(),
            gave_up: false,
            to_the_end,
        }
    }

    /// `mark`'s value once the check has set it, or the check is over.
    fn wait(&self, mark: &Resolved) -> Option<u32> {
        let mut spins = 0u32;
        loop {
            if let Some(v) = mark.get() {
                return Some(v);
            }
            if self.check.done.load(Ordering::Acquire) {
                return mark.get();
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                // Ahead of the check: the core is left to it (and to the
                // digest) for a while rather than spun on.
                std::thread::sleep(BESIDE_NAP);
            }
        }
    }
}

/// The binders of an evaluation beside the check, slot by slot, as
/// identities (addresses in the program, compared, never followed).
pub(crate) struct BinderIds(Vec<usize>);

impl BinderIds {
    fn id(m: &Ident) -> usize {
        std::ptr::from_ref(m) as usize
    }

    /// These binders, slot by slot.
    pub(crate) fn of(binders: &[&Ident]) -> BinderIds {
        BinderIds(binders.iter().map(|m| Self::id(m)).collect())
    }

    /// Whether the check bound these binders, in these slots (the
    /// evaluation may have stopped before binding the rest): then every
    /// mark the evaluation read named the slot of the binder it meant.
    pub(crate) fn agree(&self, env: &crate::validate::NameTypes<'_>) -> bool {
        let checked = env.binders();
        self.0.len() <= checked.len() && self.0.iter().zip(checked).all(|(a, m)| *a == Self::id(m))
    }
}

/// What the thread checking a process tells the evaluation beside it.
#[derive(Default)]
pub(crate) struct CheckState {
    /// The check is over: every mark is final.
    pub(crate) done: AtomicBool,
    /// The check found an error: the program is rejected, and evaluating
    /// it further is work nobody reads.
    pub(crate) failed: AtomicBool,
}

/// How long evaluation beside a check waits for it to get ahead (a few
/// hundred statements of checking).
const BESIDE_NAP: std::time::Duration = std::time::Duration::from_micros(50);

/// A machine's state after a run, apart from the program it ran
/// (`Machine::into_state`, `Machine::restore`).
pub(crate) struct State {
    tick: u64,
    cost_us: u64,
    events: Vec<Event>,
    kind_names: Vec<std::sync::Arc<str>>,
    proc_names: Vec<Option<std::sync::Arc<str>>>,
    fired: BTreeSet<String>,
    witnesses: u64,
    steps: u64,
    budget: Budget,
    step_fired: [Vec<bool>; 3],
    exit_fired: [bool; 3],
    resources: u64,
    constraint_log: Vec<(usize, Span, bool)>,
    refused_in: Option<usize>,
    admitted: Vec<bool>,
    refusal_path: Vec<usize>,
}

fn value_type_name(v: &Value) -> &'static str {
    match v {
        Value::Int(_) => "integer",
        Value::Float(_) => "float",
        Value::Bool(_) => "bool",
        Value::Str(_) => "String",
        Value::Unit => "Unit",
        Value::Struct(_) => "struct",
    }
}

/// Deepest value (struct nesting) the evaluator builds.
pub const MAX_VALUE_DEPTH: u64 = 1024;

/// Deterministic evaluation budgets: work is counted, never timed.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub steps: u64,
    pub value_nodes: u64,
    /// Bytes all rendered payloads of the run may have together.
    pub payload_bytes: u64,
}

/// A process's values by slot: the position of each name among the
/// process's names (`ProcInfo::env`), as validation marked every use.
type Env = Vec<Option<Value>>;

/// Slot `i` of `env` holds `v` (slots past the end are unbound).
#[inline]
fn put(env: &mut Env, i: usize, v: Value) {
    // Most slots are written in order, each the next one.
    if env.len() == i {
        return env.push(Some(v));
    }
    if env.len() < i {
        env.resize(i + 1, None);
    }
    env[i] = Some(v);
}

/// A shape's name and its fields' names, shared by every value of the shape
/// a run builds (made from the checked shape's, which are not `Rc`s).
struct ShapeNames {
    name: Rc<str>,
    fields: Vec<Rc<str>>,
}

/// Why a run stops during evaluation (boxed: diagnostics are large).
pub type Stop = Box<Diagnostic>;

impl<'c, 'p> Machine<'c, 'p> {
    pub fn new(tables: &'c Tables, c: &'c Compiled<'p>, budget: Budget) -> Machine<'c, 'p> {
        Machine {
            tables,
            ops: crate::types::OpRows::of(tables),
            c,
            tick: 0,
            cost_us: 0,
            events: Vec::new(),
            kind_names: Vec::new(),
            proc_names: Vec::new(),
            fired: BTreeSet::new(),
            witnesses: 0,
            steps: 0,
            budget,
            step_fired: [
                vec![false; tables.k_steps.steps.len()],
                vec![false; tables.q_steps.steps.len()],
                vec![false; tables.phi_steps.steps.len()],
            ],
            exit_fired: [false; 3],
            rows: crate::types::StepRows::by_regime(tables),
            resources: 0,
            binding: None,
            constraint_log: Vec::new(),
            log_constraints: true,
            refused_in: None,
            timeless: 0,
            admitted: vec![false; c.procs.len()],
            stack: Vec::new(),
            refusal_path: Vec::new(),
            shape_names: Vec::new(),
            beside: None,
        }
    }

    /// The transition table of a regime: 0 for K, 1 for Q, 2 for Φ (timeless).
    fn steps_of(&self, regime: Regime) -> (usize, &'c KSteps) {
        (
            regime.index(),
            self.tables.steps(crate::validate::regime_of(regime)).1,
        )
    }

    /// The kinds of the events recorded so far, each once (`kind_name`
    /// is asked only for an event being recorded, and none is removed).
    pub(crate) fn event_kinds(&self) -> &[std::sync::Arc<str>] {
        &self.kind_names
    }

    /// One shared copy of an effect kind's name. Kinds are rows of
    /// 06-effects.ron (validation refuses any other), so they are few.
    fn kind_name(&mut self, kind: &str) -> std::sync::Arc<str> {
        if let Some(s) = self.kind_names.iter().find(|s| ***s == *kind) {
            return s.clone();
        }
        let s: std::sync::Arc<str> = kind.into();
        self.kind_names.push(s.clone());
        s
    }

    /// One shared copy of process `pi`'s name (a program may have many).
    fn proc_name(&mut self, pi: usize) -> std::sync::Arc<str> {
        if self.proc_names.len() <= pi {
            self.proc_names.resize(pi + 1, None);
        }
        let qname = &self.c.procs[pi].qname;
        self.proc_names[pi]
            .get_or_insert_with(|| qname.as_str().into())
            .clone()
    }

    /// Count one unit of work; past the budget the run is undetermined.
    fn step(&mut self, span: Span) -> Result<(), Stop> {
        self.steps += 1;
        if self.steps > self.budget.steps {
            return Err(Box::new(
                self.fail(
                    crate::registry::EXEC_BUDGET,
                    span,
                    "budget exhausted here",
                    format!("evaluation needs more than {} steps", self.budget.steps),
                )
                .note("the outcome is undetermined, not a failure of the program: raise the budget with `--max-steps N`"),
            ));
        }
        Ok(())
    }

    fn check_size(&mut self, v: &Value, span: Span) -> Result<(), Stop> {
        if v.depth() > MAX_VALUE_DEPTH {
            return Err(Box::new(
                self.fail(
                    crate::registry::EXEC_BUDGET,
                    span,
                    "value nested too deeply",
                    format!("this value nests deeper than {MAX_VALUE_DEPTH} levels"),
                )
                .note("value depth is bounded so that no walk over a value can exhaust the stack; the outcome is undetermined"),
            ));
        }
        if v.size() > self.budget.value_nodes {
            return Err(Box::new(
                self.fail(
                    crate::registry::EXEC_BUDGET,
                    span,
                    "value too large",
                    format!("this value has more than {} nodes", self.budget.value_nodes),
                )
                .note("values are bounded so that rendering and comparing them stays bounded; the outcome is undetermined"),
            ));
        }
        Ok(())
    }

    /// Every rule id this machine applied, for the trace.
    pub fn fired_ids(&self) -> BTreeSet<String> {
        let mut out = self.fired.clone();
        let tables = [
            &self.tables.k_steps,
            &self.tables.q_steps,
            &self.tables.phi_steps,
        ];
        for (t, table) in tables.into_iter().enumerate() {
            for (i, f) in self.step_fired[t].iter().enumerate() {
                if *f {
                    out.insert(table.steps[i].id.clone());
                }
            }
            if self.exit_fired[t] {
                out.insert(table.exit.id.clone());
            }
        }
        out
    }

    fn fail(
        &mut self,
        id: &str,
        span: Span,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> Stop {
        self.fired.insert(id.to_string());
        Box::new(Checker::check_diag(self.tables, id, message).at(span, label))
    }

    /// Run process `pi` with argument values (already range-checked).
    /// Everything a Φ process evaluates, calls included, is timeless (§9).
    pub fn run_proc(&mut self, pi: usize, args: Vec<Value>) -> Result<Value, Stop> {
        let phi = self.c.regimes[pi] == Regime::Phi;
        self.timeless += u32::from(phi);
        self.stack.push(pi);
        let r = self.run_body(pi, args);
        self.timeless -= u32::from(phi);
        if r.is_ok() {
            if let Some(a) = self.admitted.get_mut(pi) {
                *a = true;
            }
        } else if self.refusal_path.is_empty() && self.refused_in.is_some() {
            // The calls that led to the refusal, outermost first.
            self.refusal_path = self.stack.clone();
        }
        self.stack.pop();
        r
    }

    fn run_body(&mut self, pi: usize, args: Vec<Value>) -> Result<Value, Stop> {
        let info = &self.c.procs[pi];
        let p = info.proc;
        let beside = self.beside_for(pi);
        // Being checked, the body's record is not there yet: its sizes are
        // counted here.
        let (slots, counts) = if beside {
            let counts = crate::validate::StmtCounts::of(&p.body);
            (p.params.len() + counts.bindings, counts)
        } else {
            (info.env.len(), info.counts)
        };
        // Values by slot, written as the body binds them (so that the pages
        // can be faulted in ahead of the writer: `populate`).
        let mut env: Env = Vec::with_capacity(slots);
        if let Some(b) = self.beside.as_mut().filter(|_| beside) {
            // Parameters take the first slots, in order.
            for (i, (prm, a)) in p.params.iter().zip(args).enumerate() {
                b.binders.push(&prm.name);
                put(&mut env, i, a);
            }
        } else {
            for ((n, _), a) in info.params.iter().zip(args) {
                if let Some(i) = info.env.get_index_of(n.as_str()) {
                    put(&mut env, i, a);
                }
            }
        }
        let program = self.c.program;
        // Room for what the body records (up to `RESERVED_RECORDS` each: a
        // body that stops early must not hold a vast untouched reservation).
        let mut deferred: Vec<Expr<'p>> =
            Vec::with_capacity(counts.constraints.min(RESERVED_RECORDS));
        self.events.reserve(counts.effects.min(RESERVED_RECORDS));
        // (Beside its check too: measured, a large body's evaluation gains
        // more than the check loses, docs/performance.md.)
        // The run's events are one list for every body: only the room this
        // body's own effects will take (a call of a one-effect process must
        // not populate what the whole run reserved: a thread per call).
        let _populating = crate::populate::beside(&[
            crate::populate::room(&env),
            crate::populate::room_for(&self.events, counts.effects),
            crate::populate::room(&deferred),
        ]);
        let mut result = Value::Unit;
        'body: for (at, s) in p.body.iter().enumerate() {
            if beside && self.check_over_early(at, p.body.len()) {
                return Err(self.give_up());
            }
            self.step(s.span)?;
            // Validation rejects statements without a row (later versions).
            let (ti, table) = self.steps_of(p.regime);
            let Some(si) = self.rows[ti].row(&s.kind) else {
                // Unreachable with validated tables (every allowed construct
                // has a transition row); reported, never guessed.
                return Err(Box::new(
                    Diagnostic::new(
                        self.tables,
                        crate::codes::INTERNAL,
                        None,
                        format!(
                            "no {} transition rule for this statement",
                            p.regime.symbol()
                        ),
                    )
                    .at(s.span, "no transition rule"),
                ));
            };
            let step = &table.steps[si];
            self.step_fired[ti][si] = true;
            let mut reg: Option<Value> = None;
            for action in &step.actions {
                match action {
                    Action::Eval => {
                        self.binding = match &s.kind {
                            StmtKind::Let { name, .. }
                            | StmtKind::Call {
                                result: Some(name), ..
                            } => Some(name.name.as_str()),
                            _ => None,
                        };
                        reg = Some(match s.kind.evaluated() {
                            Some(e) => self.eval(pi, &env, program.expr(e))?,
                            None => Value::Unit,
                        });
                    }
                    Action::Bind => {
                        if let (Some(name), Some(v)) = (s.kind.bound(), &reg) {
                            let slot = match self.beside.as_mut().filter(|_| beside) {
                                // The next slot.
                                Some(b) => {
                                    b.binders.push(name);
                                    Some(b.binders.len() - 1)
                                }
                                None => info
                                    .bind_slots
                                    .get(at)
                                    .or_else(|| info.env.get_index_of(name.name.as_str())),
                            };
                            if let Some(i) = slot {
                                put(&mut env, i, v.clone());
                            }
                        }
                    }
                    Action::Defer => {
                        if let StmtKind::Constrain { predicate } = &s.kind {
                            deferred.push(program.expr(*predicate));
                        }
                    }
                    Action::Witness if beside => return Err(self.give_up()),
                    Action::Witness => {
                        let v = reg.take().unwrap_or(Value::Unit);
                        if v == Value::Bool(false) {
                            let from = match &s.kind {
                                StmtKind::Prove { from, .. } => program.expr(*from).span(),
                                _ => s.span,
                            };
                            self.refused_in = Some(pi);
                            return Err(Box::new(self
                                .fail(crate::registry::ADM_PROVE, from, "this predicate is false", "the predicate of `prove` does not hold")
                                .note("no witness is constructed for a false predicate, and no effect of this run occurred")));
                        }
                        let w = self.witness(
                            pi,
                            Value::Str(info.constraint_digest(program).to_string()),
                            v,
                        );
                        self.check_size(&w, s.span)?;
                        reg = Some(w);
                    }
                    Action::Tick if self.timeless == 0 => {
                        self.tick += 1;
                        self.cost_us = self.cost_us.saturating_add(self.rows[ti].cost[si]);
                    }
                    Action::Tick => {}
                    Action::Record => {
                        if let StmtKind::Effect { kind, .. } = &s.kind {
                            // One value renders within `value_nodes`; all the
                            // payloads of a run within `payload_bytes`.
                            let payload =
                                reg.as_ref().map(Value::render_compact).unwrap_or_default();
                            self.budget.payload_bytes =
                                match self.budget.payload_bytes.checked_sub(payload.len() as u64 + 1) {
                                    Some(left) => left,
                                    None => return Err(Box::new(
                                        self.fail(
                                            crate::registry::EXEC_BUDGET,
                                            s.span,
                                            "payloads too large",
                                            "the effect payloads of this run exceed their budget (00-profile.ron `payload_bytes`)",
                                        )
                                        .note("a value is rendered in full at every effect, however it is shared; payloads are bounded so that realization stays bounded, and the outcome is undetermined"),
                                    )),
                                };
                            let kind = self.kind_name(&kind.name);
                            let proc = self.proc_name(pi);
                            self.events.push(Event {
                                kind,
                                payload,
                                tick: self.tick,
                                proc,
                            });
                        }
                    }
                    Action::Return => {
                        result = reg.take().unwrap_or(Value::Unit);
                        break 'body;
                    }
                    Action::CheckConstraints => {
                        self.check_constraints(pi, &env, &deferred)?;
                    }
                }
            }
        }
        let (ti, table) = self.steps_of(p.regime);
        let exit = &table.exit;
        self.exit_fired[ti] = true;
        for action in &exit.actions {
            if *action == Action::CheckConstraints {
                self.check_constraints(pi, &env, &deferred)?;
            }
        }
        Ok(result)
    }

    fn check_constraints(
        &mut self,
        pi: usize,
        env: &Env,
        deferred: &[Expr<'p>],
    ) -> Result<(), Stop> {
        let mut failed: Vec<Expr<'p>> = Vec::new();
        for pred in deferred {
            if self.eval(pi, env, *pred)? != Value::Bool(true) {
                failed.push(*pred);
            }
        }
        if self.log_constraints {
            for pred in deferred {
                self.constraint_log
                    .push((pi, pred.span(), !failed.iter().any(|f| f.same(*pred))));
            }
        }
        let Some(first) = failed.first() else {
            return Ok(());
        };
        self.refused_in = Some(pi);
        let info = &self.c.procs[pi];
        let mut d = *self.fail(
            crate::registry::ADM_CONSTRAINT,
            first.span(),
            "this constraint is false",
            format!(
                "constraint `{}` of `{}` does not hold",
                expr_to_string(*first),
                info.qname
            ),
        );
        for other in &failed[1..] {
            d = d.also(other.span(), "also false");
        }
        let mut names = BTreeSet::new();
        for pred in &failed {
            pred.walk(&mut |e| {
                if let ExprKind::Path(s, _) = e.kind() {
                    if let Some(n) = s.single() {
                        names.insert(n.to_string());
                    }
                }
            });
        }
        let slots = self.slots_of_names(pi, &names);
        let vals: Vec<String> = names
            .iter()
            .zip(slots)
            .filter_map(|(n, slot)| {
                let v = env.get(slot?)?.as_ref()?;
                Some(format!("{n} = {}", v.render()))
            })
            .collect();
        if !vals.is_empty() {
            d = d.note(format!("with {}", vals.join(", ")));
        }
        Err(Box::new(d.note("constraints hold process-wide (§7.3); the run is inadmissible and no effect of it occurred")))
    }

    fn eval(&mut self, pi: usize, env: &Env, e: Expr<'_>) -> Result<Value, Stop> {
        match e.kind() {
            ExprKind::Int(i) => Ok(Value::Int(i)),
            ExprKind::Float(_) if self.beside_for(pi) => Err(self.give_up()),
            ExprKind::Float(f) => Ok(Value::Float(
                if self.c.procs[pi]
                    .f32_lits
                    .contains(&(e.span().start(), e.span().end()))
                {
                    f64::from(f as f32)
                } else {
                    f
                },
            )),
            ExprKind::Bool(b) => Ok(Value::Bool(b)),
            ExprKind::Str(s) => Ok(Value::Str(s.to_string())),
            ExprKind::Path(segs, mark) if self.beside_for(pi) => {
                let found = segs
                    .single()
                    .and_then(|_| self.beside_slot(mark))
                    .and_then(|i| env.get(i)?.as_ref());
                match found {
                    Some(v) => Ok(v.clone()),
                    None => Err(self.give_up()),
                }
            }
            ExprKind::Path(segs, mark) => {
                let found = segs
                    .single()
                    .and_then(|one| self.slot(pi, mark, one))
                    .and_then(|i| env.get(i)?.as_ref());
                found.cloned().ok_or_else(|| {
                    let name = segs.text();
                    self.fail(
                        crate::registry::NAME_UNKNOWN,
                        e.span(),
                        "unbound at run time",
                        format!("`{name}` has no value"),
                    )
                })
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
                width,
            } => {
                // Operands are evaluated strictly, left to right (no short circuit).
                let l = self.eval(pi, env, lhs)?;
                let r = self.eval(pi, env, rhs)?;
                let width = match &self.beside {
                    // A width matters to numbers only; theirs is waited for,
                    // where the check gives one: arithmetic and comparisons
                    // only (`validate::infer`). Another operator's mark stays
                    // unset, which waiting would find out only once the whole
                    // check is over.
                    Some(b) if b.pi == pi => {
                        let number = |v: &Value| matches!(v, Value::Int(_) | Value::Float(_));
                        let widened = self.ops.row(op).is_some_and(|row| {
                            matches!(row.class, OpClass::Arith | OpClass::Compare)
                        });
                        if widened && number(&l) && number(&r) {
                            b.wait(width).and_then(|w| {
                                crate::validate::OpWidths::numbered(w, &self.c.ty_names)
                            })
                        } else {
                            None
                        }
                    }
                    _ => self.c.procs[pi].op_width.get(width, &self.c.ty_names),
                };
                // Integers of a width whose operation succeeds within it (most
                // operators): the value at once. Any fault is left to
                // `binary`, which reports it.
                if let (Value::Int(a), Value::Int(b), Some((_, PrimKind::Int { min, max }))) =
                    (&l, &r, width)
                {
                    match self.ops.row(op).map(|row| int_op(row.meaning, *a, *b)) {
                        Some(Ok(Value::Int(v))) if v < *min || v > *max => {}
                        Some(Ok(v)) => return Ok(v),
                        _ => {}
                    }
                }
                self.binary(op, width, op_span, l, r)
            }
            ExprKind::Field { base, field } => {
                let b = self.eval(pi, env, base)?;
                b.field(field.name).cloned().ok_or_else(|| {
                    self.fail(
                        crate::registry::FIELD_UNKNOWN,
                        field.span,
                        "no such field",
                        format!("no field `{}`", field.name),
                    )
                })
            }
            ExprKind::Call { .. } if self.beside_for(pi) => Err(self.give_up()),
            ExprKind::Call {
                callee_span, args, ..
            } => {
                let target = match self.c.procs[pi].targets.get(callee_span) {
                    Some(Target::PhiWitness) => {
                        let digest = match args.first() {
                            Some(a) => self.eval(pi, env, a)?,
                            None => Value::Str(String::new()),
                        };
                        return Ok(self.witness(pi, digest, Value::Unit));
                    }
                    Some(Target::Intrinsic(i)) => return self.intrinsic(pi, env, *i, args),
                    Some(Target::Proc(p)) => Some(*p),
                    None => None,
                };
                let Some(target) = target else {
                    return Err(self.fail(
                        crate::registry::CALL_UNKNOWN,
                        callee_span,
                        "unresolved",
                        "call target was not resolved",
                    ));
                };
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    let v = self.eval(pi, env, a)?;
                    vals.push(v);
                }
                self.step(callee_span)?;
                // Φ is timeless (§9): calls made inside it cost nothing.
                if self.timeless == 0 {
                    self.cost_us = self.cost_us.saturating_add(self.tables.time.call_cost_us);
                }
                self.run_proc(target, vals)
            }
            ExprKind::Struct { name, fields } => {
                let c = self.c;
                let forge = c.procs[pi].forge;
                let shape = c.shape(forge, name.name);
                // Every field given once in the shape's order (the common
                // case): each value is its field's as it comes.
                if let Some(shape) = shape.filter(|sh| sh.given_in_order(fields)) {
                    let names = self.names_of(forge, shape);
                    let mut out = crate::value::Fields::with_capacity(names.fields.len());
                    for ((_, fe), fname) in fields.iter().zip(&names.fields) {
                        out.push((fname.clone(), self.eval(pi, env, fe)?));
                    }
                    let v = Value::structure(names.name.clone(), out);
                    self.check_size(&v, e.span())?;
                    return Ok(v);
                }
                // Each given field's value in the shape's slot for it, all
                // evaluated left to right as written.
                let mut slots: Vec<Option<Value>> = vec![None; shape.map_or(0, |s| s.fields.len())];
                for (f, fe) in fields {
                    let v = self.eval(pi, env, fe)?;
                    if let Some(i) = shape.and_then(|s| s.index_of(f.name)) {
                        slots[i] = Some(v);
                    }
                }
                let Some(shape) = shape else {
                    return Err(self.fail(
                        crate::registry::SHAPE_UNKNOWN,
                        name.span,
                        "unknown shape",
                        format!("unknown shape `{}`", name.name),
                    ));
                };
                let names = self.names_of(forge, shape);
                let mut out = Vec::with_capacity(shape.fields.len());
                for (fname, v) in names.fields.iter().zip(slots) {
                    let Some(v) = v else {
                        return Err(self.fail(
                            crate::registry::STRUCT_FIELDS,
                            e.span(),
                            "missing field",
                            format!("missing field `{fname}`"),
                        ));
                    };
                    out.push((fname.clone(), v));
                }
                let v = Value::structure(names.name.clone(), out);
                self.check_size(&v, e.span())?;
                Ok(v)
            }
        }
    }

    /// The names values of `shape` share, made on the first value of the
    /// shape in the run. `shape` is what `forge` finds under its name (a
    /// shape's name is its type's number only within a forge).
    fn names_of(&mut self, forge: usize, shape: &ShapeInfo) -> Rc<ShapeNames> {
        let at = shape.ty.number();
        if let Some(Some(names)) = self.shape_names.get(forge).and_then(|f| f.get(at)) {
            return names.clone();
        }
        let names = Rc::new(ShapeNames {
            name: Rc::from(&*shape.name),
            fields: shape.names.iter().map(|n| Rc::from(&**n)).collect(),
        });
        if self.shape_names.len() <= forge {
            self.shape_names.resize(forge + 1, Vec::new());
        }
        let of_forge = &mut self.shape_names[forge];
        if of_forge.len() <= at {
            of_forge.resize(at + 1, None);
        }
        of_forge[at] = Some(names.clone());
        names
    }

    /// A `PhiWitness` (§7.6): ids count in evaluation order, per run.
    fn witness(&mut self, pi: usize, digest: Value, subject: Value) -> Value {
        self.witnesses += 1;
        Value::structure(
            "PhiWitness",
            vec![
                ("kind".into(), Value::Str("Admissible".into())),
                (
                    "id".into(),
                    Value::Str(format!("Φwitness:{}", self.witnesses)),
                ),
                (
                    "proc".into(),
                    Value::Str(self.c.procs[pi].qname.to_string()),
                ),
                ("constraint_digest".into(), digest),
                ("subject".into(), subject),
            ],
        )
    }

    /// A Q intrinsic at run time. Linearity was decided statically, so this
    /// only computes values: resources are named `qres:<binding>:<n>`, and a
    /// measurement is a classical record naming the resource and its type,
    /// never a simulated physical outcome.
    fn intrinsic(&mut self, pi: usize, env: &Env, i: usize, args: Args<'_>) -> Result<Value, Stop> {
        use semantics::datalog::{IntrinsicArg, IntrinsicResult};
        let row = &self.tables.linearity.intrinsics[i];
        let arg_name = match args.first().map(|a| a.kind()) {
            Some(ExprKind::Path(s, _)) if s.single().is_some() => s.text().to_string(),
            _ => String::new(),
        };
        let arg = match row.arg {
            IntrinsicArg::Binding => match args.first() {
                Some(a) => self.eval(pi, env, a)?,
                None => Value::Unit,
            },
            IntrinsicArg::TypeName => Value::Str(arg_name.clone()),
        };
        Ok(match row.result {
            IntrinsicResult::Resource => {
                self.resources += 1;
                let binding = self.binding.unwrap_or("_").to_string();
                Value::structure(
                    "QResource",
                    vec![
                        (
                            "id".into(),
                            Value::Str(format!("qres:{binding}:{}", self.resources)),
                        ),
                        ("ty".into(), arg),
                    ],
                )
            }
            IntrinsicResult::SameAsArg => arg,
            IntrinsicResult::Unit => Value::Unit,
            IntrinsicResult::Measurement => {
                let (resource, ty) = match &arg {
                    Value::Struct(s) if &*s.ty == "QResource" => (
                        arg.field("id").cloned().unwrap_or(Value::Unit),
                        arg.field("ty").cloned().unwrap_or(Value::Unit),
                    ),
                    Value::Struct(s) => (Value::Str(arg_name), Value::Str(s.ty.to_string())),
                    other => (
                        Value::Str(arg_name),
                        Value::Str(value_type_name(other).into()),
                    ),
                };
                Value::structure(
                    "Measurement",
                    vec![("resource".into(), resource), ("ty".into(), ty)],
                )
            }
        })
    }

    /// Whether `pi` is the process evaluated while it is checked.
    #[inline]
    fn beside_for(&self, pi: usize) -> bool {
        self.beside.as_ref().is_some_and(|b| b.pi == pi)
    }

    /// A name's slot while its process is checked: its mark once set,
    /// where that slot is bound. The mark is the slot the check bound the
    /// name in (the check sets no other: `validate::infer`, `premark`);
    /// that this evaluation bound the same binders in the same slots is
    /// confirmed once, after the check (`BinderIds::agree`), where comparing
    /// the names at each use read a binder and a text long out of the
    /// caches (the constraints of a large body, checked at its end: 7 ms
    /// of a 500 000-statement run, docs/performance.md).
    fn beside_slot(&self, mark: &Resolved) -> Option<usize> {
        let b = self.beside.as_ref()?;
        let i = b.wait(mark)? as usize;
        (i < b.binders.len()).then_some(i)
    }

    /// Who this evaluation bound in each slot, beside the check (empty
    /// otherwise).
    pub(crate) fn binder_ids(&self) -> BinderIds {
        BinderIds::of(self.beside.as_ref().map_or(&[], |b| &b.binders))
    }

    /// Evaluation beside the check stops here (the run evaluates after the
    /// check instead).
    fn give_up(&mut self) -> Stop {
        if let Some(b) = self.beside.as_mut() {
            b.gave_up = true;
        }
        Box::new(Diagnostic::new(
            self.tables,
            crate::codes::INTERNAL,
            None,
            "evaluation beside the check gave up",
        ))
    }

    /// The slots of names `pi` binds, in the set's order (a failed
    /// constraint's note).
    fn slots_of_names(&self, pi: usize, names: &BTreeSet<String>) -> Vec<Option<usize>> {
        match self.beside.as_ref().filter(|b| b.pi == pi) {
            // One pass over the binders (bound once each: the only binder
            // of its name), not one per name: a run refused by many
            // constraints names many.
            Some(b) => {
                let mut found = std::collections::BTreeMap::<&str, usize>::new();
                for (i, m) in b.binders.iter().enumerate() {
                    if names.contains(m.name.as_str()) {
                        found.entry(m.name.as_str()).or_insert(i);
                    }
                }
                names
                    .iter()
                    .map(|n| found.get(n.as_str()).copied())
                    .collect()
            }
            None => {
                let env = &self.c.procs[pi].env;
                names.iter().map(|n| env.get_index_of(n)).collect()
            }
        }
    }

    /// Whether the evaluation beside stops before statement `at` of `len`:
    /// the check found an error, or it is over with more than a quarter of
    /// the body left to evaluate (the rest of the program's checks wait
    /// for this evaluation, and a program they reject must not wait for a
    /// long one: at most a quarter of the body is evaluated after the
    /// check, more is left to the run after all checks, as without this).
    fn check_over_early(&self, at: usize, len: usize) -> bool {
        self.beside.as_ref().is_some_and(|b| {
            b.check.failed.load(Ordering::Relaxed)
                || (!b.to_the_end && b.check.done.load(Ordering::Acquire) && (len - at) * 4 > len)
        })
    }

    /// Evaluates beside the check of a process (`Beside`).
    pub(crate) fn beside(&mut self, b: Beside<'p>) {
        self.beside = Some(b);
    }

    /// Whether evaluation beside the check gave up.
    pub(crate) fn gave_up(&self) -> bool {
        self.beside.as_ref().is_some_and(|b| b.gave_up)
    }

    /// The machine's state after a run, apart from the program.
    pub(crate) fn into_state(self) -> State {
        State {
            tick: self.tick,
            cost_us: self.cost_us,
            events: self.events,
            kind_names: self.kind_names,
            proc_names: self.proc_names,
            fired: self.fired,
            witnesses: self.witnesses,
            steps: self.steps,
            budget: self.budget,
            step_fired: self.step_fired,
            exit_fired: self.exit_fired,
            resources: self.resources,
            constraint_log: self.constraint_log,
            refused_in: self.refused_in,
            admitted: self.admitted,
            refusal_path: self.refusal_path,
        }
    }

    /// The state a run left (`into_state`), as if this machine had run it.
    pub(crate) fn restore(&mut self, st: State) {
        // Every field named (no `..`): one added to `State` and not put
        // back here does not compile.
        let State {
            tick,
            cost_us,
            events,
            kind_names,
            proc_names,
            fired,
            witnesses,
            steps,
            budget,
            step_fired,
            exit_fired,
            resources,
            constraint_log,
            refused_in,
            admitted,
            refusal_path,
        } = st;
        (self.tick, self.cost_us, self.events) = (tick, cost_us, events);
        (self.kind_names, self.proc_names, self.fired) = (kind_names, proc_names, fired);
        (self.witnesses, self.steps, self.budget) = (witnesses, steps, budget);
        (self.step_fired, self.exit_fired, self.resources) = (step_fired, exit_fired, resources);
        (self.constraint_log, self.refused_in) = (constraint_log, refused_in);
        (self.admitted, self.refusal_path) = (admitted, refusal_path);
    }

    /// The slot of a single name in process `pi`: validation's mark when
    /// it is this name's, else found by name.
    fn slot(&self, pi: usize, mark: &Resolved, name: &str) -> Option<usize> {
        let names = &self.c.procs[pi].env;
        if let Some(i) = mark.get().map(|i| i as usize) {
            if names.get_index(i).is_some_and(|(k, _)| k == name) {
                return Some(i);
            }
        }
        names.get_index_of(name)
    }

    /// The operation happens in its operands' type, `width` (§5.2): i32
    /// results overflow at the i32 bounds, f32 results round to single
    /// precision.
    fn binary(
        &mut self,
        op: BinOp,
        width: Option<crate::validate::Width>,
        span: Span,
        l: Value,
        r: Value,
    ) -> Result<Value, Stop> {
        let wname = width.map(|(n, _)| n).unwrap_or("i64");
        let result = apply_op(self.ops.row(op), &l, &r).and_then(|v| match (&v, width) {
            (Value::Int(i), Some((_, PrimKind::Int { min, max }))) if *i < *min || *i > *max => {
                Err(OpFault::Overflow)
            }
            (Value::Float(f), Some((_, PrimKind::Float { single: true }))) => {
                let g = f64::from(*f as f32);
                if g.is_finite() {
                    Ok(Value::Float(g))
                } else {
                    Err(OpFault::NotFinite)
                }
            }
            _ => Ok(v),
        });
        result.map_err(|fault| match fault {
            OpFault::DivZero => self.fail(
                crate::registry::FAIL_DIV_ZERO,
                span,
                "division by zero",
                format!("division of {} by zero", l.render()),
            ),
            OpFault::Overflow => self.fail(
                crate::registry::FAIL_OVERFLOW,
                span,
                format!("overflows {wname}"),
                format!(
                    "integer overflow: {} {} {} is outside {wname}",
                    l.render(),
                    op.word(),
                    r.render()
                ),
            ),
            OpFault::NotFinite => self.fail(
                crate::registry::FAIL_FLOAT,
                span,
                "not finite",
                format!("`{}` produced a float that is not finite", op.word()),
            ),
            OpFault::Operands => self.fail(
                crate::registry::TYPE_OPERANDS,
                span,
                "operand types",
                format!("`{}` cannot combine these values", op.word()),
            ),
        })
    }
}

/// Why an operator could not produce a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpFault {
    DivZero,
    Overflow,
    NotFinite,
    Operands,
}

/// What an operation does, per operand kind.
pub(crate) enum Operation {
    Arith(fn(i64, i64) -> Option<i64>, fn(f64, f64) -> f64),
    Order(fn(std::cmp::Ordering) -> bool),
    Equal,
    Connective(fn(bool, bool) -> bool),
}

pub(crate) fn operation(m: semantics::OpMeaning) -> Operation {
    use semantics::OpMeaning::*;
    use std::cmp::Ordering;
    match m {
        Add => Operation::Arith(i64::checked_add, |a, b| a + b),
        Subtract => Operation::Arith(i64::checked_sub, |a, b| a - b),
        Multiply => Operation::Arith(i64::checked_mul, |a, b| a * b),
        Divide => Operation::Arith(i64::checked_div, |a, b| a / b),
        Less => Operation::Order(|o| o == Ordering::Less),
        LessOrEqual => Operation::Order(|o| o != Ordering::Greater),
        Greater => Operation::Order(|o| o == Ordering::Greater),
        GreaterOrEqual => Operation::Order(|o| o != Ordering::Less),
        Equal => Operation::Equal,
        And => Operation::Connective(|a, b| a && b),
        Or => Operation::Connective(|a, b| a || b),
    }
}

/// Constraints and effects of a body evaluation makes room for at once;
/// past that the lists grow as they fill.
const RESERVED_RECORDS: usize = 1 << 16;

/// `apply_op` of two integers: the one place their semantics are written
/// (evaluation's common case calls it directly).
fn int_op(m: semantics::OpMeaning, a: i64, b: i64) -> Result<Value, OpFault> {
    match operation(m) {
        Operation::Arith(..) if m == semantics::OpMeaning::Divide && b == 0 => {
            Err(OpFault::DivZero)
        }
        Operation::Arith(f, _) => f(a, b).map(Value::Int).ok_or(OpFault::Overflow),
        Operation::Order(f) => Ok(Value::Bool(f(a.cmp(&b)))),
        Operation::Equal => Ok(Value::Bool(a == b)),
        Operation::Connective(_) => Err(OpFault::Operands),
    }
}

/// The value semantics of a binary operator (§5.2, §11.3, §13.7): the
/// operation its row in 05-types.ron names. Shared by evaluation and by Φ
/// resolution's constant folding.
pub(crate) fn apply_op(
    row: Option<&semantics::OperatorRule>,
    l: &Value,
    r: &Value,
) -> Result<Value, OpFault> {
    // Every DIR operator has a row (checked when the tables load).
    let Some(row) = row else {
        return Err(OpFault::Operands);
    };
    if let (Value::Int(a), Value::Int(b)) = (l, r) {
        return int_op(row.meaning, *a, *b);
    }
    let divides = row.meaning == semantics::OpMeaning::Divide;
    match (operation(row.meaning), l, r) {
        (Operation::Arith(..), Value::Float(_), Value::Float(b)) if divides && *b == 0.0 => {
            Err(OpFault::DivZero)
        }
        (Operation::Arith(_, f), Value::Float(a), Value::Float(b)) => {
            let v = f(*a, *b);
            if v.is_finite() {
                Ok(Value::Float(v))
            } else {
                Err(OpFault::NotFinite)
            }
        }
        (Operation::Order(f), Value::Float(a), Value::Float(b)) => a
            .partial_cmp(b)
            .map(|o| Value::Bool(f(o)))
            .ok_or(OpFault::Operands),
        (Operation::Connective(f), Value::Bool(a), Value::Bool(b)) => Ok(Value::Bool(f(*a, *b))),
        (Operation::Equal, a, b) => Ok(Value::Bool(a == b)),
        // Operands of other kinds than the operation takes.
        _ => Err(OpFault::Operands),
    }
}

#[cfg(test)]
mod mark_tests {
    use super::*;

    /// Ample for the small programs below.
    const BUDGET: Budget = Budget {
        steps: 1000,
        value_nodes: 1000,
        payload_bytes: 1000,
    };

    fn path_named<'a>(e: Expr<'a>, name: &str, out: &mut Vec<&'a Resolved>) {
        e.walk(&mut |e| {
            if let ExprKind::Path(p, mark) = e.kind() {
                if p.text() == name {
                    out.push(mark);
                }
            }
        });
    }

    /// Evaluated beside a check that is not over, numbers compared for
    /// equality (whose operator the check gives no width) do not wait for
    /// the check's end: with every other mark set, the evaluation ends
    /// while the check is still going. (Waiting, the first `Eq` of numbers
    /// stalled a large body's evaluation until the check was over, which
    /// then gave up on it.)
    #[test]
    fn an_operator_without_a_width_is_not_waited_for() {
        let tables = semantics::Tables::defaults().expect("tables");
        let text = "dir 0.1;\nforge F {\n  proc K main(p: i64) -> i64 {\n    let a = p Add 1;\n    let e = a Eq 2;\n    let f = e Eq true;\n    let g = (p Lt 3) And f;\n    return a;\n  }\n}\n";
        let program = dir_grammar::load_str(text).expect("loads");
        let mut ck = Checker::new(&tables);
        let compiled = crate::validate::compile(&mut ck, &program).expect("valid");
        let check = CheckState::default();
        let evaluated = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            // Says the check is over after five seconds at the latest, so
            // that a waiting evaluation ends (and the test fails).
            s.spawn(|| {
                for _ in 0..500 {
                    if evaluated.load(Ordering::Acquire) {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                check.done.store(true, Ordering::Release);
            });
            let mut m = Machine::new(&tables, &compiled, BUDGET);
            m.beside(Beside::new(0, &check, false));
            let result = m.run_proc(0, vec![Value::Int(1)]).map_err(|d| d.message);
            evaluated.store(true, Ordering::Release);
            assert_eq!(result, Ok(Value::Int(2)));
            assert!(!m.gave_up());
            assert!(
                !check.done.load(Ordering::Acquire),
                "the evaluation waited for the check to be over"
            );
        });
    }

    /// Validation marks each use of a name with its binding's slot, and
    /// evaluation trusts a mark only when it names that binding: a mark
    /// left by anything else is looked up by name instead.
    #[test]
    fn slots_are_marked_and_a_wrong_mark_is_not_trusted() {
        let src = "dir 0.1;\nforge F {\n  proc K main(p: i64) -> i64 {\n    let a = p Add 1;\n    let b = 20;\n    return a Sub b;\n  }\n}\n";
        let program = dir_grammar::load_str(src).expect("loads");
        let tables = Tables::defaults().expect("tables");
        let mut ck = Checker::new(&tables);
        let compiled = crate::validate::compile(&mut ck, &program).expect("valid");
        let body = &program.forges[0].procs[0].body;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for s in body {
            if let Some(e) = s.kind.evaluated() {
                path_named(program.expr(e), "a", &mut a);
                path_named(program.expr(e), "b", &mut b);
            }
        }
        // p is slot 0, a slot 1, b slot 2: parameters first, then lets.
        assert_eq!(a[0].get(), Some(1));
        assert_eq!(b[0].get(), Some(2));
        let slots: Vec<_> = (0..4)
            .map(|at| compiled.procs[0].bind_slots.get(at))
            .collect();
        assert_eq!(slots, vec![Some(1), Some(2), None, None]);
        let run = |compiled: &Compiled<'_>| {
            let mut m = Machine::new(&tables, compiled, BUDGET);
            m.run_proc(0, vec![Value::Int(1)]).map_err(|d| d.message)
        };
        assert_eq!(run(&compiled), Ok(Value::Int(-18)));
        // `a` marked as `b`'s slot, `b` as a slot that does not exist.
        a[0].set(2);
        b[0].set(7);
        assert_eq!(run(&compiled), Ok(Value::Int(-18)));
        // Validating again restores the marks.
        let mut ck = Checker::new(&tables);
        let compiled = crate::validate::compile(&mut ck, &program).expect("valid");
        assert_eq!((a[0].get(), b[0].get()), (Some(1), Some(2)));
        assert_eq!(run(&compiled), Ok(Value::Int(-18)));
    }

    /// Evaluation beside the check reads names by their marks alone; its
    /// result is used only if it bound the check's own binders in the
    /// check's slots (`BinderIds::agree`): a prefix of them (a run that
    /// stopped early) agrees; the same names bound by another program's
    /// statements, or in another order, or more of them, do not.
    #[test]
    fn binders_agree_only_with_the_checks_own() {
        let src = "dir 0.1;\nforge F {\n  proc K main(p: i64) -> i64 {\n    let a = p Add 1;\n    constrain b;\n    let b = true;\n    return a;\n  }\n}\n";
        let tables = Tables::defaults().expect("tables");
        let program = dir_grammar::load_str(src).expect("loads");
        let twin = dir_grammar::load_str(src).expect("loads");
        let mut ck = Checker::new(&tables);
        let compiled = crate::validate::compile(&mut ck, &program).expect("valid");
        let env = &compiled.procs[0].env;
        // Beside a check that is over (every mark set), to the end.
        let check = CheckState::default();
        check.done.store(true, Ordering::Release);
        let mut m = Machine::new(&tables, &compiled, BUDGET);
        m.beside(Beside::new(0, &check, true));
        assert_eq!(
            m.run_proc(0, vec![Value::Int(1)]).map_err(|d| d.message),
            Ok(Value::Int(2))
        );
        assert!(!m.gave_up());
        let ran = m.binder_ids();
        assert_eq!(ran.0.len(), 3);
        assert!(ran.agree(env));
        assert!(BinderIds(ran.0[..1].to_vec()).agree(env));
        assert!(BinderIds(Vec::new()).agree(env));
        let ids = BinderIds::of;
        fn binders(program: &Program) -> Vec<&Ident> {
            let p = &program.forges[0].procs[0];
            std::iter::once(&p.params[0].name)
                .chain(p.body.iter().filter_map(|s| s.kind.bound()))
                .collect()
        }
        let (own, twins) = (binders(&program), binders(&twin));
        assert!(ids(&own).agree(env));
        assert!(!ids(&twins).agree(env), "the same names, another program's");
        assert!(!ids(&[own[0], own[2], own[1]]).agree(env), "another order");
        assert!(!ids(&[own[0], own[1], own[2], own[2]]).agree(env), "more");
    }

    /// Shapes of one name in two forges: each forge's values carry its own
    /// shape's names (a run shares a shape's names between its values, by
    /// forge and name).
    #[test]
    fn values_share_their_own_forges_shape_names() {
        let src = "dir 0.1;\nforge A {\n  shape P { x: i64 }\n  proc K main() -> i64 {\n    let p = P{x: 1};\n    emit p;\n    let q = P{x: 2};\n    emit q;\n    return 0;\n  }\n}\nforge B {\n  shape P { y: i64, z: i64 }\n  proc K main() -> i64 {\n    let p = P{y: 3, z: 4};\n    emit p;\n    let q = P{z: 6, y: 5};\n    emit q;\n    return 0;\n  }\n}\n";
        let program = dir_grammar::load_str(src).expect("loads");
        let tables = Tables::defaults().expect("tables");
        let mut ck = Checker::new(&tables);
        let compiled = crate::validate::compile(&mut ck, &program).expect("valid");
        let mut m = Machine::new(&tables, &compiled, BUDGET);
        for pi in 0..compiled.procs.len() {
            m.run_proc(pi, vec![]).map_err(|d| d.message).expect("runs");
        }
        let payloads: Vec<&str> = m.events.iter().map(|e| e.payload.as_str()).collect();
        assert_eq!(
            payloads,
            [
                r#"{"shape":"P","fields":{"x":1}}"#,
                r#"{"shape":"P","fields":{"x":2}}"#,
                r#"{"shape":"P","fields":{"y":3,"z":4}}"#,
                r#"{"shape":"P","fields":{"y":5,"z":6}}"#,
            ]
        );
    }

    /// Validation finds a name through its node's mark only when the
    /// marked slot holds that name: a stale mark (another name's slot, or
    /// none of this body's) is looked past, so the types are as before.
    #[test]
    fn validation_looks_past_a_wrong_mark() {
        let src = "dir 0.1;\nforge F {\n  proc K main(p: i64) -> i64 {\n    let a = p Add 1;\n    constrain b;\n    let b = true;\n    return a;\n  }\n}\n";
        let program = dir_grammar::load_str(src).expect("loads");
        let tables = Tables::defaults().expect("tables");
        let check = || {
            let mut ck = Checker::new(&tables);
            let ok = crate::validate::compile(&mut ck, &program).is_some();
            (ok, ck.errors())
        };
        assert_eq!(check(), (true, 0));
        let body = &program.forges[0].procs[0].body;
        let mut b = Vec::new();
        for s in body {
            if let StmtKind::Constrain { predicate } = &s.kind {
                path_named(program.expr(*predicate), "b", &mut b);
            }
        }
        // p is slot 0, a slot 1, b slot 2 (bound after the constraint, so
        // its mark stands until the constraint is checked). Marked as `a`
        // (an i64), `b` would make the constraint's predicate a number.
        assert_eq!(b[0].get(), Some(2));
        for wrong in [1, 0, 9] {
            b[0].set(wrong);
            assert_eq!(check(), (true, 0), "marked {wrong}");
            assert_eq!(b[0].get(), Some(2));
        }
    }

    /// A body makes room for its effects and constraints, but no more than
    /// `RESERVED_RECORDS` of each, whatever it holds: one that stops at its
    /// first statement holds no vast untouched list.
    #[test]
    fn room_for_records_is_bounded() {
        let n = RESERVED_RECORDS + 5000;
        let mut src = String::from("dir 0.1;\nforge F {\n  proc K main(p: i64) -> i64 {\n    let z = p Sub p;\n    let a = p Div z;\n");
        for _ in 0..n {
            src.push_str("    emit a;\n    constrain a Gt 0;\n");
        }
        src.push_str("    return a;\n  }\n}\n");
        let program = dir_grammar::load_str(&src).expect("loads");
        let tables = Tables::defaults().expect("tables");
        let mut ck = Checker::new(&tables);
        let compiled = crate::validate::compile(&mut ck, &program).expect("valid");
        assert_eq!(compiled.procs[0].counts.effects, n);
        assert_eq!(compiled.procs[0].counts.constraints, n);
        let budget = Budget {
            steps: 10 * n as u64,
            value_nodes: 1000,
            payload_bytes: 1 << 30,
        };
        let mut m = Machine::new(&tables, &compiled, budget);
        let r = m.run_proc(0, vec![Value::Int(3)]);
        assert!(r.is_err(), "division by zero");
        assert!(m.events.is_empty());
        assert!(
            m.events.capacity() <= RESERVED_RECORDS,
            "{}",
            m.events.capacity()
        );
    }

    /// Integer operations as 05-types.ron names them: exact, with
    /// division by zero, i64 overflow and connectives refused by fault.
    #[test]
    fn integer_operations_and_their_faults() {
        use semantics::OpMeaning::*;
        let int = |m, a, b| int_op(m, a, b);
        assert_eq!(int(Add, 2, 3), Ok(Value::Int(5)));
        assert_eq!(int(Subtract, 2, 3), Ok(Value::Int(-1)));
        assert_eq!(int(Multiply, -4, 3), Ok(Value::Int(-12)));
        assert_eq!(int(Divide, -7, 2), Ok(Value::Int(-3)));
        assert_eq!(int(Divide, 7, 0), Err(OpFault::DivZero));
        assert_eq!(int(Divide, i64::MIN, -1), Err(OpFault::Overflow));
        assert_eq!(int(Add, i64::MAX, 1), Err(OpFault::Overflow));
        assert_eq!(int(Multiply, i64::MIN, -1), Err(OpFault::Overflow));
        assert_eq!(int(Less, 1, 2), Ok(Value::Bool(true)));
        assert_eq!(int(GreaterOrEqual, 1, 2), Ok(Value::Bool(false)));
        assert_eq!(int(Equal, 5, 5), Ok(Value::Bool(true)));
        assert_eq!(int(And, 1, 1), Err(OpFault::Operands));
        // `apply_op` gives integers exactly what `int_op` gives.
        let tables = Tables::defaults().expect("tables");
        let ops = crate::types::OpRows::of(&tables);
        for op in BinOp::ALL {
            let row = ops.row(op).expect("every operator has a row");
            for (a, b) in [(i64::MIN, -1), (7, 0), (3, 4), (i64::MAX, 2)] {
                assert_eq!(
                    apply_op(Some(row), &Value::Int(a), &Value::Int(b)),
                    int_op(row.meaning, a, b)
                );
            }
        }
    }

    /// An operator's mark selects its type's range: i32 overflows at the
    /// i32 bounds, and a mark is re-decided by every validation.
    #[test]
    fn operator_marks_carry_the_width() {
        let src = "dir 0.1;\nforge F {\n  proc K main(x: i32) -> i32 {\n    let y = x Add 1;\n    return y;\n  }\n}\n";
        let program = dir_grammar::load_str(src).expect("loads");
        let tables = Tables::defaults().expect("tables");
        let mut ck = Checker::new(&tables);
        let compiled = crate::validate::compile(&mut ck, &program).expect("valid");
        let mut m = Machine::new(&tables, &compiled, BUDGET);
        let r = m.run_proc(0, vec![Value::Int(i64::from(i32::MAX))]);
        let d = r.expect_err("i32 overflow");
        assert!(d.message.contains("outside i32"), "{}", d.message);
        let mut m = Machine::new(&tables, &compiled, BUDGET);
        assert_eq!(m.run_proc(0, vec![Value::Int(1)]).ok(), Some(Value::Int(2)));

        // An operator on literal-bound names only has its type decided
        // with the body's literal variables (here by the i32 return):
        // its mark is set then, and it overflows at the i32 bounds.
        let src = "dir 0.1;\nforge F {\n  proc K main() -> i32 {\n    let a = 1;\n    let b = a Add 2147483647;\n    return b;\n  }\n}\n";
        let program = dir_grammar::load_str(src).expect("loads");
        let mut ck = Checker::new(&tables);
        let compiled = crate::validate::compile(&mut ck, &program).expect("valid");
        let mut m = Machine::new(&tables, &compiled, BUDGET);
        let d = m.run_proc(0, vec![]).expect_err("i32 overflow");
        assert!(d.message.contains("outside i32"), "{}", d.message);
    }
}
