//! Q linearity (brief 4.1): each Q process is lowered to datalog facts (one
//! point per mention, in evaluation order, joined by explicit edges) and the
//! rules of 04-q-linearity.ron derive the violations, before anything runs.

use crate::datalog::{self, Db, Tuple};
use crate::diag::Checker;
use crate::diag::{Diagnostic, Label};
use crate::types::Ty;
use crate::validate::Compiled;
use dir_grammar::model::*;
use dir_grammar::Span;
use semantics::datalog::{lin, IntrinsicArg, IntrinsicResult, Linearity};
use std::borrow::Cow;
use std::collections::BTreeSet;

/// A process lowered to facts, with the names behind the numbers.
pub(crate) struct Lowered<'a> {
    pub facts: Db,
    /// Binding id -> name: the program's own text, borrowed (a copy of
    /// each name, and a second as its key, were two allocations a binding
    /// of every Q body), or a description made for a discarded result.
    pub vars: Vec<Cow<'a, str>>,
    /// Point id -> where it is in the source.
    pub points: Vec<Span>,
}

struct Lower<'a> {
    lin: &'a Linearity,
    c: &'a Compiled<'a>,
    forge: usize,
    /// Gathered, then made sets at once (inserting each into a tree made
    /// lowering grow faster than the body).
    facts: crate::datalog::Facts,
    /// Looked up only, never iterated.
    var_ids: crate::Map<Cow<'a, str>, u32>,
    vars: Vec<Cow<'a, str>>,
    points: Vec<Span>,
    resources: BTreeSet<String>,
    /// K lowering: mentions are non-consuming (`check_live`), except in the
    /// arguments of these calls (by callee span), which move (§10.5.2).
    k_moves: Option<BTreeSet<(usize, usize)>>,
    /// K lowering: bindings holding a linear value received across such a
    /// binding; they stay linear in the caller.
    k_linear: BTreeSet<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Consume,
    Read,
    /// K caller: an argument passed across a binding that enforces linearity.
    Move,
    /// Inside a predicate, an argument of a call: it would be consumed.
    ReadConsume,
}

impl<'a> Lower<'a> {
    fn fact(&mut self, rel: &str, t: Tuple) {
        self.facts.insert(rel, t);
    }

    /// A new program point after the last one.
    fn point(&mut self, span: Span) -> u32 {
        let p = self.points.len() as u32;
        self.points.push(span);
        if p > 0 {
            self.fact(lin::EDGE, Tuple::of([p - 1, p]));
        }
        p
    }

    fn var(&mut self, name: Cow<'a, str>) -> u32 {
        if let Some(v) = self.var_ids.get(name.as_ref()) {
            return *v;
        }
        let v = self.vars.len() as u32;
        self.vars.push(name.clone());
        self.var_ids.insert(name, v);
        v
    }

    fn mention(&mut self, name: &str, span: Span, rel: &str) {
        let Some(&v) = self.var_ids.get(name) else {
            return;
        };
        let p = self.point(span);
        self.fact(rel, Tuple::of([v, p]));
    }

    fn expr(&mut self, e: Expr<'_>, mode: Mode) {
        match e.kind() {
            ExprKind::Path(segs, _) => {
                if let Some(n) = segs.single() {
                    let rel = match (mode, &self.k_moves) {
                        (Mode::Read, _) => lin::READ,
                        (Mode::ReadConsume, _) => lin::READ_CONSUME,
                        (Mode::Move, _) => lin::MOVE,
                        (Mode::Consume, Some(_)) if !self.k_linear.contains(n) => lin::CHECK_LIVE,
                        (Mode::Consume, _) => lin::USE,
                    };
                    self.mention(n, e.span(), rel);
                }
            }
            // Inside a predicate, an operand or a field read only reads,
            // even within a call's argument.
            ExprKind::Binary { lhs, rhs, .. } => {
                let m = if mode == Mode::ReadConsume {
                    Mode::Read
                } else {
                    mode
                };
                self.expr(lhs, m);
                self.expr(rhs, m);
            }
            ExprKind::Field { base, .. } => {
                let m = if mode == Mode::ReadConsume {
                    Mode::Read
                } else {
                    mode
                };
                self.expr(base, m)
            }
            ExprKind::Call {
                callee,
                args,
                callee_span,
            } => {
                if let Some(moves) = &self.k_moves {
                    let crossing = moves.contains(&(callee_span.start(), callee_span.end()));
                    let m = match mode {
                        Mode::Consume if crossing => Mode::Move,
                        // Passing a value to Q inside a predicate would
                        // move it: predicates only read (§7.5.2).
                        Mode::Read if crossing => Mode::ReadConsume,
                        _ => mode,
                    };
                    for a in args {
                        self.expr(a, m);
                    }
                    return;
                }
                if let Some(i) = crate::validate::intrinsic_of(self.lin, self.c, self.forge, callee)
                {
                    if let (IntrinsicArg::Binding, Some(arg)) = (i.arg, args.only()) {
                        if let ExprKind::Path(s, _) = arg.kind() {
                            if let (Some(n), Some(flow)) = (s.single(), &i.flow) {
                                // In a predicate, only a non-consuming flow reads.
                                let flow = match mode {
                                    Mode::Read | Mode::ReadConsume if flow == lin::CHECK_LIVE => {
                                        lin::READ.to_string()
                                    }
                                    Mode::Read | Mode::ReadConsume => lin::READ_CONSUME.to_string(),
                                    _ => flow.clone(),
                                };
                                self.mention_flow(n, arg.span(), &flow);
                                return;
                            }
                        }
                    }
                    if i.arg == IntrinsicArg::TypeName {
                        return;
                    }
                }
                // A process call inside a predicate would consume what it
                // is passed (§7.5.2).
                let m = if mode == Mode::Read {
                    Mode::ReadConsume
                } else {
                    mode
                };
                for a in args {
                    self.expr(a, m);
                }
            }
            ExprKind::Struct { fields, .. } => {
                for (_, fe) in fields {
                    self.expr(fe, mode);
                }
            }
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Str(_) => {}
        }
    }

    /// A mention whose relation comes from the intrinsic table's `flow`.
    fn mention_flow(&mut self, name: &str, span: Span, flow: &str) {
        let Some(&v) = self.var_ids.get(name) else {
            return;
        };
        let p = self.point(span);
        self.fact(flow, Tuple::of([v, p]));
    }

    /// Whether a `let` expression produces an explicit resource.
    fn yields_resource(&self, e: Expr<'_>) -> bool {
        let ExprKind::Call { callee, args, .. } = e.kind() else {
            return false;
        };
        match crate::validate::intrinsic_of(self.lin, self.c, self.forge, callee).map(|i| i.result)
        {
            Some(IntrinsicResult::Resource) => true,
            Some(IntrinsicResult::SameAsArg) => {
                matches!(args.only().map(|a| a.kind()), Some(ExprKind::Path(s, _)) if s.single().is_some_and(|n| self.resources.contains(n)))
            }
            _ => false,
        }
    }
}

/// K lowering: the callee spans whose arguments move, and the bindings that
/// hold linear values received across an enforcing binding.
pub(crate) type KMode = (BTreeSet<(usize, usize)>, BTreeSet<String>);

pub(crate) fn lower<'a>(
    lin: &'a Linearity,
    c: &'a Compiled<'a>,
    pi: usize,
    types: &crate::validate::NameTypes<'_>,
    k_mode: Option<KMode>,
) -> Lowered<'a> {
    let k = k_mode.is_some();
    let (k_moves, k_linear) = match k_mode {
        Some((m, l)) => (Some(m), l),
        None => (None, BTreeSet::new()),
    };
    let k_lin = k_linear.clone();
    let info = &c.procs[pi];
    let p = info.proc;
    let mut l = Lower {
        lin,
        c,
        forge: info.forge,
        facts: crate::datalog::Facts::default(),
        var_ids: crate::Map::default(),
        vars: Vec::new(),
        points: Vec::new(),
        resources: BTreeSet::new(),
        k_moves,
        k_linear,
    };
    // Relations exist even when empty, so rules over them are well defined.
    for i in &lin.inputs {
        l.facts.relation(&i.name);
    }
    let entry = l.point(p.name.span);
    // K values are copyable: only moves across bindings, and linear values
    // received across them, constrain them.
    let linear = |name: &str| {
        (!k || k_lin.contains(name)) && !matches!(types.get(name), Some((&Ty::Unit, _)))
    };
    for prm in &p.params {
        let v = l.var(Cow::Borrowed(prm.name.name.as_str()));
        l.fact(lin::DEF, Tuple::of([v, entry]));
        if linear(&prm.name.name) {
            l.fact(lin::LINEAR, Tuple::of([v]));
        }
        // In K only linear values are tracked resources.
        if matches!(
            types.get(prm.name.name.as_str()),
            Some((&Ty::Resource(_), _))
        ) && (!k || linear(&prm.name.name))
        {
            l.resources.insert(prm.name.name.to_string());
            l.fact(lin::RESOURCE, Tuple::of([v]));
        }
    }
    let mut last = p.name.span;
    let program = c.program;
    for s in &p.body {
        last = s.span;
        match &s.kind {
            StmtKind::Let { name, expr } => {
                let expr = program.expr(*expr);
                l.expr(expr, Mode::Consume);
                let resource = l.yields_resource(expr);
                let v = l.var(Cow::Borrowed(name.name.as_str()));
                let at = l.point(name.span);
                l.fact(lin::DEF, Tuple::of([v, at]));
                if linear(&name.name) {
                    l.fact(lin::LINEAR, Tuple::of([v]));
                }
                if resource
                    || (k
                        && linear(&name.name)
                        && matches!(types.get(name.name.as_str()), Some((&Ty::Resource(_), _))))
                {
                    l.resources.insert(name.name.to_string());
                    l.fact(lin::RESOURCE, Tuple::of([v]));
                }
            }
            StmtKind::Constrain { predicate } => l.expr(program.expr(*predicate), Mode::Read),
            StmtKind::Prove { from, .. } => l.expr(program.expr(*from), Mode::Read),
            StmtKind::Effect { payload, .. } => l.expr(program.expr(*payload), Mode::Consume),
            StmtKind::Return { expr: Some(e) } => l.expr(program.expr(*e), Mode::Consume),
            StmtKind::Call { call, result } => {
                let call = program.expr(*call);
                l.expr(call, Mode::Consume);
                // A discarded result is a binding nobody uses (§4.4.2).
                let (name, span) = match result {
                    Some(r) => (Cow::Borrowed(r.name.as_str()), r.span),
                    None => {
                        // Call targets are resolved here: validation records
                        // them only after the body is checked.
                        let non_unit = match call.kind() {
                            ExprKind::Call { callee, .. } => {
                                match crate::validate::intrinsic_of(lin, c, info.forge, callee) {
                                    Some(i) => i.result != IntrinsicResult::Unit,
                                    None => {
                                        match crate::validate::resolve_ref(
                                            c,
                                            info.forge,
                                            callee.segments(),
                                        )
                                        .as_slice()
                                        {
                                            [t] => c.procs[*t]
                                                .ret
                                                .as_ref()
                                                .is_some_and(|d| d.ty != Ty::Unit),
                                            _ => false,
                                        }
                                    }
                                }
                            }
                            _ => false,
                        };
                        if !non_unit || k {
                            continue;
                        }
                        (
                            Cow::Owned(format!("the result of {}", expr_head(call))),
                            call.span(),
                        )
                    }
                };
                let resource = l.yields_resource(call);
                let v = l.var(name.clone());
                let at = l.point(span);
                l.fact(lin::DEF, Tuple::of([v, at]));
                if (result.is_none() && !k) || linear(&name) {
                    l.fact(lin::LINEAR, Tuple::of([v]));
                }
                if resource
                    || (k
                        && linear(&name)
                        && matches!(types.get(&name), Some((&Ty::Resource(_), _))))
                {
                    l.resources.insert(name.to_string());
                    l.fact(lin::RESOURCE, Tuple::of([v]));
                }
            }
            StmtKind::Return { expr: None } | StmtKind::Later { .. } => {}
        }
    }
    let exit = l.point(last);
    l.fact(lin::EXIT, Tuple::of([exit]));
    Lowered {
        facts: l.facts.into_db(),
        vars: l.vars,
        points: l.points,
    }
}

/// Lower, evaluate and report: one diagnostic per violation relation and binding.
pub(crate) fn check(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    pi: usize,
    types: &crate::validate::NameTypes<'_>,
) {
    let lowered = lower(&ck.tables.linearity, c, pi, types, None);
    report(ck, c, pi, &lowered, None);
}

/// K callers across bindings with `linearity_enforced == true` (§10.5.2,
/// brief 4.1): a value passed on is moved, and the caller may not use it
/// again; a value received across such a binding stays linear in the
/// caller (used exactly once; a resource consumed or passed on). The same
/// rules as Q linearity decide it.
pub(crate) fn check_k_moves(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    pi: usize,
    types: &crate::validate::NameTypes<'_>,
    moves: BTreeSet<(usize, usize)>,
    linear: BTreeSet<String>,
) {
    if moves.is_empty() && linear.is_empty() {
        return;
    }
    ck.fire(crate::registry::CALL_LINEAR_MOVE);
    let lowered = lower(&ck.tables.linearity, c, pi, types, Some((moves, linear)));
    let before = ck.errors();
    report(ck, c, pi, &lowered, None);
    for d in ck.since(before) {
        if d.code == "E0161" {
            d.help = Some("copy what the caller still needs before the call (e.g. `let id = t.id;`), or pass a value the caller does not use again".into());
        }
        d.notes.push(
            "linear values crossing a binding whose contract says `linearity_enforced == true` stay linear (§10.5.2): a K caller gives away what it passes and keeps what it receives linear".into(),
        );
    }
}

fn expr_head(e: Expr<'_>) -> String {
    match e.kind() {
        ExprKind::Call { callee, .. } => format!("{}(...)", callee.text()),
        _ => "the call".into(),
    }
}

/// The facts the analysis of one process may derive: at least the
/// profile's floor, and more for a larger process, so that a valid large
/// program is not stopped as undetermined.
pub(crate) fn budget(tables: &semantics::Tables, facts: &Db) -> usize {
    let budgets = &tables.profile.budgets;
    (budgets.linearity_facts as usize)
        .max(inputs_of(facts).saturating_mul(budgets.linearity_facts_per_input as usize))
}

fn inputs_of(facts: &Db) -> usize {
    facts.values().map(|r| r.len()).sum()
}

/// What the linearity analyses of one run may derive together, beyond
/// what each may derive for its size. Each process may derive its own
/// budget, but 50 processes each just under it added up to 18 s: the facts
/// a process derives beyond its per-input share (`linearity_facts_per_input`
/// per input fact, work that grows with the program) are drawn from one
/// allowance for the run, the profile's `linearity_facts_run`.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    /// Facts the processes analysed so far derived beyond their share.
    excess: usize,
    /// An analysis was stopped by the run's allowance: later processes
    /// are not analysed (the run is undetermined already).
    pub stopped: bool,
}

/// A process's allowance: its own budget, or less when the run's is
/// nearly spent (then `by_run` says so).
pub(crate) struct Allowance {
    pub facts: usize,
    pub by_run: bool,
    /// The process's per-input share (free of the run's allowance).
    share: usize,
}

impl Pool {
    /// The allowance of the next process, whose input facts are `facts`.
    pub(crate) fn allow(&mut self, tables: &semantics::Tables, facts: &Db) -> Allowance {
        let budgets = &tables.profile.budgets;
        let share = inputs_of(facts).saturating_mul(budgets.linearity_facts_per_input as usize);
        let left = (budgets.linearity_facts_run as usize).saturating_sub(self.excess);
        let own = budget(tables, facts);
        let run = share.saturating_add(left);
        Allowance {
            facts: own.min(run),
            by_run: run < own,
            share,
        }
    }

    /// Facts a process's analysis derived (or had when it stopped).
    pub(crate) fn charge(&mut self, allowance: &Allowance, derived: usize) {
        self.excess = self
            .excess
            .saturating_add(derived.saturating_sub(allowance.share));
    }
}

fn report(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    pi: usize,
    lowered: &Lowered,
    only: Option<&str>,
) {
    let lin = &ck.tables.linearity;
    if ck.linearity.stopped {
        // Told once, by the process that spent it: the run is undetermined.
        return;
    }
    let allowance = ck.linearity.allow(ck.tables, &lowered.facts);
    let budget = allowance.facts;
    let (db, fired) = match datalog::eval(&lin.strata, &lowered.facts, budget) {
        Ok(r) => {
            let derived = inputs_of(&r.0).saturating_sub(inputs_of(&lowered.facts));
            ck.linearity.charge(&allowance, derived);
            r
        }
        Err(e) => {
            ck.linearity.charge(&allowance, e.tuples);
            let p = c.procs[pi].proc;
            let message = if allowance.by_run {
                format!(
                    "the linearity analyses of this run derived more facts beyond what their sizes allow than the run allows ({} so far in `{}`, the process it stopped in)",
                    e.tuples, c.procs[pi].qname
                )
            } else {
                format!(
                    "the linearity analysis of `{}` derived more than {budget} facts ({} so far)",
                    c.procs[pi].qname, e.tuples
                )
            };
            ck.linearity.stopped = allowance.by_run;
            let tables = ck.tables;
            let d = ck.error(
                crate::registry::Q_ANALYSIS_BUDGET,
                p.name.span,
                "linearity analysis stopped here",
                message,
            );
            if allowance.by_run {
                let b = &tables.profile.budgets;
                d.notes.push(format!(
                    "each analysis may derive {} facts per input fact; what they derive beyond that shares one allowance of {} per run (00-profile.ron `linearity_facts_run`), so that many processes cannot add up without bound",
                    b.linearity_facts_per_input, b.linearity_facts_run
                ));
                d.notes.push(
                    "the linearity of later processes is not analysed: the run is undetermined already"
                        .into(),
                );
            } else {
                d.notes.push(
                    "the analysis is bounded so that no input can exhaust memory; split the process"
                        .into(),
                );
            }
            return;
        }
    };
    let name = |v: u32| {
        lowered
            .vars
            .get(v as usize)
            .map(|n| n.to_string())
            .unwrap_or_default()
    };
    let show = |rel: &str, t: &[u32]| -> String {
        let cols = lin.columns.get(rel.trim_start_matches('!')).cloned();
        let args: Vec<String> = t
            .iter()
            .enumerate()
            .map(|(i, x)| {
                if *x == u32::MAX {
                    "_".to_string()
                } else {
                    match cols.as_ref().and_then(|c| c.get(i)) {
                        Some(semantics::datalog::Column::Var) => name(*x),
                        _ => format!("p{x}"),
                    }
                }
            })
            .collect();
        format!("{rel}({})", args.join(", "))
    };
    // One deriver for every violation: its indexes are built once (built
    // per violation, 50 reports of 80 000 unused values took 12 s).
    let der = datalog::Deriver::new(&db, None);
    let mut diags = Vec::new();
    let mut omitted = 0usize;
    for v in lin
        .violations
        .iter()
        .filter(|v| only.is_none_or(|o| o == v.relation))
    {
        let mut reported = BTreeSet::new();
        for t in db.get(&v.relation).into_iter().flatten() {
            if !reported.insert(t[0]) {
                continue;
            }
            if diags.len() >= MAX_REPORTED {
                omitted += 1;
                continue;
            }
            let Some((rule, facts)) = lin
                .rules()
                .filter(|r| r.head.rel == v.relation)
                .find_map(|r| der.derivation(r, t).map(|f| (r, f)))
            else {
                continue;
            };
            ck.fired.insert(rule.id.clone());
            let binding = name(t[0]);
            let mut d = Diagnostic::new(
                ck.tables,
                &v.code,
                Some((&rule.id, &rule.cite)),
                v.message.replace("{0}", &binding),
            )
            .labelled(v.labels.iter().map(|(col, label)| {
                let point = t.get(*col).copied().unwrap_or(0) as usize;
                Label {
                    span: lowered.points.get(point).copied().unwrap_or_default(),
                    message: label.clone(),
                }
            }));
            let body: Vec<String> = facts.iter().map(|(r, ft)| show(r, ft)).collect();
            d.notes.push(crate::diag::derived_note(
                &rule.id,
                &show(&v.relation, t),
                &body,
            ));
            if let Some(h) = &v.help {
                d.help = Some(h.clone());
            }
            diags.push(d);
        }
    }
    // The flow rules that took part, for the trace's rule list.
    for id in fired {
        if !lin
            .rules()
            .any(|r| r.id == id && lin.violations.iter().any(|v| v.relation == r.head.rel))
        {
            ck.fired.insert(id);
        }
    }
    if omitted > 0 {
        if let Some(last) = diags.last_mut() {
            last.notes.push(format!(
                "{omitted} more linearity violation(s) in this process are not shown"
            ));
        }
    }
    for d in diags {
        ck.push(d);
    }
}

/// Violations reported per process; the rest are counted.
const MAX_REPORTED: usize = 50;

#[cfg(test)]
mod tests {
    use super::*;

    /// Q processes each within their own budget add up to at most the
    /// run's, beyond their per-input shares: the analysis stops in the
    /// process that spends it, says so, and analyses no later process (50
    /// such processes took 18 s); work within the shares is never stopped.
    #[test]
    fn the_run_bounds_all_linearity_analyses_together() {
        let mut tables = semantics::Tables::defaults().unwrap();
        // A process of 40 uses of `v` derives about 1 800 facts here.
        let q = |p: usize| {
            let sum = vec!["v"; 40].join(" Add ");
            format!("  proc Q q{p}(v: i64) -> i64 [linear] {{\n    let a = {sum};\n    return v;\n  }}\n")
        };
        let mut text = String::from("dir 0.1;\nforge F {\n");
        for p in 0..6 {
            text.push_str(&q(p));
        }
        text.push_str("  proc K main() -> i64 {\n    return 1;\n  }\n}\n");
        let program = dir_grammar::load_str(&text).expect("loads");
        let analysed = |tables: &semantics::Tables| {
            let engine = crate::Engine::new(tables.clone()).expect("engine");
            engine.check_static(&program).expect_err("v is used twice")
        };
        // Each process alone is reported for using `v` more than once.
        let alone = analysed(&tables);
        assert!(alone.iter().all(|d| d.code != "E0402"), "{alone:?}");
        let per_process = alone.len() / 6;
        assert!(per_process >= 1 && alone.len() % 6 == 0, "{alone:?}");
        // A run allowance of about two processes and a fifth.
        tables.profile.budgets.linearity_facts_per_input = 1;
        tables.profile.budgets.linearity_facts_run = 4_000;
        let d = analysed(&tables);
        let stops: Vec<_> = d.iter().filter(|d| d.code == "E0402").collect();
        assert_eq!(stops.len(), 1, "{d:?}");
        assert!(
            stops[0].message.contains("than the run allows"),
            "{}",
            stops[0].message
        );
        assert!(
            stops[0].message.contains("`F::Q::q2`"),
            "{}",
            stops[0].message
        );
        // q0 and q1 were analysed and reported, nothing after q2.
        assert_eq!(d.len(), 2 * per_process + 1, "{d:?}");
        // What a process derives within its per-input share is free: with
        // a share above what each derives, no allowance is needed at all.
        tables.profile.budgets.linearity_facts_per_input = 100;
        tables.profile.budgets.linearity_facts_run = 0;
        let d = analysed(&tables);
        assert_eq!(d.len(), alone.len(), "{d:?}");
        assert!(d.iter().all(|d| d.code != "E0402"), "{d:?}");
    }

    /// The datafrog evaluation and the naive one agree on every relation.
    #[test]
    fn datafrog_agrees_with_naive_evaluation() {
        let tables = semantics::Tables::defaults().unwrap();
        let lin = &tables.linearity;
        // A chain of 12 points with uses, moves, consumes and reads sprinkled in.
        let mut facts = Db::new();
        for i in &lin.inputs {
            facts.entry(i.name.clone()).or_default();
        }
        let mut add = |r: &str, t: Tuple| {
            facts.entry(r.to_string()).or_default().insert(t);
        };
        for p in 0..11 {
            add(lin::EDGE, Tuple::of([p, p + 1]));
        }
        add(lin::EXIT, Tuple::of([11]));
        for v in 0..4 {
            add(lin::DEF, Tuple::of([v, v]));
            add(lin::LINEAR, Tuple::of([v]));
        }
        add(lin::RESOURCE, Tuple::of([3]));
        add(lin::USE, Tuple::of([0, 4]));
        add(lin::USE, Tuple::of([0, 6]));
        add(lin::MOVE, Tuple::of([1, 5]));
        add(lin::CHECK_LIVE, Tuple::of([1, 7]));
        add(lin::CONSUME, Tuple::of([2, 8]));
        add(lin::USE, Tuple::of([2, 9]));
        add(lin::READ, Tuple::of([3, 10]));
        let (fast, _) = datalog::eval(&lin.strata, &facts, usize::MAX).unwrap();
        let slow = datalog::eval_naive(&lin.strata, &facts);
        assert_eq!(fast, slow);
        // With any inputs emptied (strata whose rules cannot derive are
        // skipped), still the same, and no rule fires that derived nothing.
        let names: Vec<String> = lin.inputs.iter().map(|i| i.name.clone()).collect();
        for mask in 0u32..(1 << names.len()) {
            let mut some = facts.clone();
            for (i, n) in names.iter().enumerate() {
                if mask & (1 << i) == 0 {
                    some.insert(n.clone(), Default::default());
                }
            }
            let (fast, fired) = datalog::eval(&lin.strata, &some, usize::MAX).unwrap();
            assert_eq!(
                fast,
                datalog::eval_naive(&lin.strata, &some),
                "mask {mask:b}"
            );
            for r in lin.rules().filter(|r| fired.contains(&r.id)) {
                assert!(
                    !fast[&r.head.rel].is_empty(),
                    "{} fired, mask {mask:b}",
                    r.id
                );
            }
        }
        assert!(
            fast["second_use"].contains(&[0, 6, 4][..]),
            "{:?}",
            fast["second_use"]
        );
        assert!(fast["use_after_move"].contains(&[1, 7, 5][..]));
        assert!(fast["use_after_consume"].contains(&[2, 9, 8][..]));
        assert!(fast["live_at_end"].contains(&[3, 3, 11][..]));
        assert!(fast["discarded"].is_empty());
    }
}
