//! Whole-program admission (§7.4, §8.6, §9, §10): the program and the run are
//! lowered into the input relations of 10-admission.ron (names fixed in
//! `semantics::datalog::adm`), the rules are evaluated with datafrog, and the
//! first violation relation with a tuple stops the run. Runs after static
//! validation, after the evaluation that decides every concrete call (effects
//! only recorded), and before anything is realized.
//!
//! Rust computes only what datalog cannot: the static cost of a process
//! (sums), the comparison of a latency clause, whether a type carries a
//! witness, resource availability under the run configuration, and Φ
//! existence (the solver). Everything that propagates (reachability,
//! effects through calls, gating, contract and resource failure) is a rule.

use crate::datalog::{self, Tuple};
use crate::diag::Checker;
use crate::diag::{Diagnostic, Label};
use crate::phi;
use crate::validate::{bool_clauses, Compiled};
use dir_grammar::model::*;
use dir_grammar::Span;
use semantics::datalog::{adm, Column};
use semantics::{AttrMeaning, Tables};
use std::collections::{BTreeMap, BTreeSet};

/// What the run configuration says about resources.
#[derive(Clone, Debug, Default)]
pub struct ResourceConfig {
    pub mode_simulate: bool,
    pub deny: Vec<String>,
    pub provide: Vec<String>,
}

/// The verdict of a Φ gate's existence question.
#[derive(Clone, Debug)]
pub enum Gate {
    Exists { witness: String },
    NonExistent { mus: Vec<(Span, String)> },
    Undetermined(String),
}

/// An entity a tuple column refers to.
#[derive(Clone, Debug)]
pub struct Entity {
    pub name: String,
    pub span: Span,
}

/// A derived fact with the rule and premises that derived it.
#[derive(Clone, Debug)]
pub struct Derived {
    pub fact: String,
    pub rule: String,
    pub cite: String,
    pub premises: Vec<String>,
}

/// Everything admission decided, owned, for `explain` and diagnostics.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// Static cost of each process (µs, 09-time.ron).
    pub cost: Vec<u64>,
    pub reached: Reached,
    pub gates: BTreeMap<usize, Gate>,
    /// Per binding and clause: (verdict word, explanation, rule id).
    pub clauses: BTreeMap<(usize, usize), (String, String, String)>,
    /// Per (proc, uses index): (available, why, rule id).
    pub uses: BTreeMap<(usize, usize), (bool, String, String)>,
    /// Input facts and derived facts of interest, rendered.
    pub facts: Vec<String>,
    pub derived: Vec<Derived>,
    /// Per process the run reaches: (verdict, deciding rule id).
    pub verdicts: BTreeMap<usize, (String, String)>,
    /// The violation relation that stopped the run, if any, and the
    /// derivation of its tuple.
    pub stop: Option<String>,
    pub stop_derivation: Option<String>,
    /// Per Φ gate source: (verdict, rule) after the rules (chains included).
    pub gate_status: BTreeMap<usize, (String, String)>,
}

struct Ids {
    clauses: Vec<(usize, usize)>,
    uses: Vec<(usize, usize)>,
}

/// Whether the resource of a `uses` clause is available in this run, and
/// why (§8.6).
enum Availability {
    Denied,
    Simulated,
    /// A realizer exists but does not accept this argument (the reason).
    BadArgument(String),
    Realizer,
    Provided,
    Missing,
}

impl Availability {
    fn ok(&self) -> bool {
        matches!(
            self,
            Availability::Simulated | Availability::Realizer | Availability::Provided
        )
    }

    /// The 08-resources.ron row that decides it.
    fn rule(&self) -> &'static str {
        match self {
            Availability::Simulated => crate::registry::RES_SIMULATED,
            _ => crate::registry::RES_REALIZER,
        }
    }

    fn why(&self, name: &str) -> String {
        match self {
            Availability::Denied => format!("`{name}` is denied by the run configuration (`--deny-resource` or the manifest's `deny` list); a denial overrides every provision, in every mode"),
            Availability::Simulated => format!("simulate mode provides `{name}` as a simulated resource"),
            Availability::BadArgument(w) => w.clone(),
            Availability::Realizer => format!("`{name}` has a realizer"),
            Availability::Provided => format!("the resource manifest provides `{name}`"),
            Availability::Missing => format!(
                "`{name}` has no realizer (08-resources.ron): a `--resources` manifest `(provide: [\"{name}\"])` provides it, or `--simulate` simulates it"
            ),
        }
    }
}

fn add(db: &mut datalog::Facts, rel: &str, t: Tuple) {
    db.insert(rel, t);
}

/// What admission needs of every body, as each body's check counted it
/// (`StmtCounts`; walking the bodies again here was a cache miss or more
/// each once a program has 100 000 processes): each process's own static
/// cost (the statements whose rule ticks, 09-time.ron, under its regime's
/// table; a Φ process's counts for nothing, Φ being timeless with all it
/// calls, `static_costs`), and whether its body has an effect statement.
fn body_facts(c: &Compiled<'_>) -> (Vec<u64>, Vec<bool>) {
    c.procs
        .iter()
        .map(|p| (p.counts.tick_cost, p.counts.effects > 0))
        .unzip()
}

/// `body_facts` of one body from its statements: the tests' oracle.
#[cfg(test)]
fn walked_facts(
    p: &dir_grammar::model::Proc,
    rows: &[crate::types::StepRows<'_>; 3],
) -> (u64, bool) {
    let rows = &rows[p.regime.index()];
    let mut cost = 0u64;
    let mut effect = false;
    for s in &p.body {
        effect |= matches!(s.kind, StmtKind::Effect { .. });
        cost = cost.saturating_add(rows.tick_cost(&s.kind));
    }
    (cost, effect)
}

/// Static cost of every process: the cost model applied to its body and
/// everything it calls, computed bottom-up over the (acyclic) call graph.
/// Matches what evaluation charges: statements whose rule ticks, plus each
/// call's cost and its callee's; Φ processes are timeless. `own`: each
/// process's own cost (`body_facts`).
fn static_costs(tables: &Tables, c: &Compiled<'_>, own: &[u64]) -> Vec<u64> {
    let n = c.procs.len();
    let mut cost: Vec<Option<u64>> = vec![None; n];
    for start in 0..n {
        if cost[start].is_some() {
            continue;
        }
        // Iterative post-order: the call graph is acyclic (validated).
        let mut stack = vec![(start, false)];
        while let Some((p, done)) = stack.pop() {
            if cost[p].is_some() {
                continue;
            }
            if !done {
                stack.push((p, true));
                for s in c.sites.of(p) {
                    if cost[s.callee].is_none() {
                        stack.push((s.callee, false));
                    }
                }
                continue;
            }
            let timeless = c.regimes[p] == Regime::Phi;
            let mut total = own[p];
            for s in c.sites.of(p) {
                let call = if timeless {
                    0
                } else {
                    tables.time.call_cost_us
                };
                total = total
                    .saturating_add(call)
                    .saturating_add(cost[s.callee].unwrap_or(0));
            }
            cost[p] = Some(if timeless { 0 } else { total });
        }
    }
    cost.into_iter().map(|x| x.unwrap_or(0)).collect()
}

/// Processes the entry reaches through calls (to choose which Φ gates to ask).
fn reach(c: &Compiled<'_>, entry: usize) -> Reached {
    let mut seen = vec![false; c.procs.len()];
    let mut stack = vec![entry];
    while let Some(p) = stack.pop() {
        if let Some(s) = seen.get_mut(p) {
            if !std::mem::replace(s, true) {
                stack.extend(c.sites.of(p).iter().map(|s| s.callee));
            }
        }
    }
    Reached(seen)
}

/// The processes a run reaches: a flag per process. Admission asks for
/// every binding and every resource whether its process is reached; as an
/// ordered set of 100 000 processes each question was a search down a
/// tree, a cache miss at each level.
#[derive(Clone, Debug, Default)]
pub struct Reached(Vec<bool>);

impl Reached {
    pub fn contains(&self, p: &usize) -> bool {
        self.0.get(*p).copied().unwrap_or(false)
    }

    /// The reached processes, in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, r)| **r)
            .map(|(p, _)| p)
    }
}

/// A static cost that saturated u64 is larger than every bound.
const SATURATED: u64 = u64::MAX;

fn cost_text(cost: u64) -> String {
    if cost == SATURATED {
        format!("more than {} us (the sum saturates)", u64::MAX - 1)
    } else {
        format!("{cost} us")
    }
}

/// `cost op bound`, with a saturated cost as +infinity.
fn cost_compare(op: &str, cost: u64, bound: i128) -> bool {
    if cost == SATURATED {
        return matches!(op, ">" | ">=" | "!=");
    }
    compare(op, cost.into(), bound)
}

fn compare(op: &str, a: i128, b: i128) -> bool {
    match op {
        "<" => a < b,
        "<=" => a <= b,
        ">" => a > b,
        ">=" => a >= b,
        "==" => a == b,
        "!=" => a != b,
        _ => false,
    }
}

pub fn bind_text(c: &Compiled<'_>, k: usize) -> String {
    let b = c.binds[k].bind;
    format!("{} -> {}", b.source.text(), b.target.text())
}

pub fn clause_text(cl: &Clause) -> String {
    format!("{} {} {}", cl.key.name, cl.op.name, cl.value.name)
}

pub fn uses_text(u: &Uses) -> String {
    let args: Vec<String> = u
        .args
        .iter()
        .map(|(k, l)| {
            let v = match &l.value {
                LitValue::Int(i) => i.to_string(),
                LitValue::Bool(b) => b.to_string(),
                LitValue::String(s) => format!("{s:?}"),
                LitValue::Float(f) => f.to_string(),
                LitValue::Char(ch) => format!("'{ch}'"),
            };
            format!("{} = {v}", k.name)
        })
        .collect();
    format!("{}({})", u.resource.name, args.join(", "))
}

fn int_arg(u: &Uses, name: &str) -> Option<i64> {
    u.args
        .iter()
        .find_map(|(k, l)| match (&l.value, k.name == name) {
            (LitValue::Int(i), true) => Some(*i),
            _ => None,
        })
}

/// Whole-program admission of a run whose entry was not evaluated (a Φ
/// entry's question failed; `check` without the entry's arguments): only
/// what no evaluation could change is decided.
pub fn admit_unevaluated(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    entry: usize,
    res: &ResourceConfig,
    solver_budget: Option<u64>,
    record_all: bool,
) -> (Option<Diagnostic>, Record) {
    admit(ck, c, entry, res, None, &[], &[], solver_budget, record_all)
}

/// The admission of one run. `refused_in`: the process whose constraints
/// failed for a concrete call, if evaluation stopped so.
#[allow(clippy::too_many_arguments)]
pub fn admit(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    entry: usize,
    res: &ResourceConfig,
    refused_in: Option<usize>,
    refusal_path: &[usize],
    admitted: &[bool],
    solver_budget: Option<u64>,
    record_all: bool,
) -> (Option<Diagnostic>, Record) {
    let tables = ck.tables;
    let (own_costs, effect_in) = body_facts(c);
    let mut rec = Record {
        cost: static_costs(tables, c, &own_costs),
        reached: reach(c, entry),
        ..Record::default()
    };
    let mut db = datalog::Facts::default();
    for i in &tables.admission.inputs {
        db.relation(&i.name);
    }
    for (pi, _) in c
        .regimes
        .iter()
        .enumerate()
        .filter(|(_, r)| **r == Regime::Phi)
    {
        add(&mut db, adm::PHI_PROC, Tuple::of([pi as u32]));
    }
    let mut notes: BTreeMap<(String, Tuple), String> = BTreeMap::new();
    let mut ids = Ids {
        clauses: Vec::new(),
        uses: Vec::new(),
    };

    add(&mut db, adm::ENTRY, Tuple::of([entry as u32]));
    for (pi, s) in c.sites.all() {
        add(&mut db, adm::CALLS, Tuple::of([pi as u32, s.callee as u32]));
    }
    for (pi, _) in effect_in.iter().enumerate().filter(|(_, e)| **e) {
        add(&mut db, adm::EFFECT_IN, Tuple::of([pi as u32]));
    }

    // Per caller and callee: whether some call passes a witness in its
    // arguments, or gets one back (one pass, whatever the bindings). Only
    // calls that carry one are kept: each binding looks up both of its
    // pairs, and a table of every call of a program of 100 000 processes
    // made each lookup a miss to main memory (12 ms of its check).
    // Looked up only (never iterated).
    let mut carries: crate::Map<(usize, usize), (bool, bool)> = crate::Map::default();
    for (pi, s) in c
        .sites
        .all()
        .filter(|(_, s)| s.args_witness || s.result_witness)
    {
        let e = carries.entry((pi, s.callee)).or_default();
        e.0 |= s.args_witness;
        e.1 |= s.result_witness;
    }

    // Bindings and their clauses.
    for (k, b) in c.binds.iter().enumerate() {
        add(
            &mut db,
            adm::BIND,
            Tuple::of([k as u32, b.source as u32, b.target as u32]),
        );
        let crosses = carries
            .get(&(b.source, b.target))
            .is_some_and(|(args, _)| *args)
            || carries
                .get(&(b.target, b.source))
                .is_some_and(|(_, result)| *result);
        if crosses {
            add(&mut db, adm::WITNESS_CROSSES, Tuple::of([k as u32]));
            notes.insert(
                (adm::WITNESS_CROSSES.into(), Tuple::of([k as u32])),
                format!(
                    "a call between `{}` and `{}` carries a PhiWitness to the target",
                    c.procs[b.source].qname, c.procs[b.target].qname
                ),
            );
        }
        let forbidden_eff = bool_clauses(tables, b.bind, AttrMeaning::EffectsAllowed);
        let forbidden_wit = bool_clauses(tables, b.bind, AttrMeaning::WitnessTransfer);
        for (i, cl) in b.bind.contract.iter().enumerate() {
            let cid = ids.clauses.len() as u32;
            ids.clauses.push((k, i));
            let attr = tables.contracts.attribute(&cl.key.name);
            let attr_id = || attr.map(|a| a.id.clone()).unwrap_or_default();
            // The verdict's words serve `explain` only (`record_all`); the
            // facts and the notes of violations are made in every run.
            let verdict = match attr.map(|a| a.meaning) {
                None => {
                    let u = &tables.contracts.unchecked;
                    ck.fire(&u.id);
                    record_all.then(|| {
                        (
                            "unchecked".to_string(),
                            "not a standard attribute (§10.5.2)".to_string(),
                            u.id.clone(),
                        )
                    })
                }
                Some(AttrMeaning::EffectsAllowed) => {
                    let allowed = forbidden_eff.iter().find(|(j, _)| *j == i).map(|x| x.1);
                    if allowed == Some(false) {
                        add(&mut db, adm::EFFECTS_FORBIDDEN, Tuple::of([k as u32, cid]));
                    }
                    record_all.then(|| {
                        (
                            "pending".into(),
                            if allowed == Some(false) {
                                "the target and everything it calls may perform no effect".into()
                            } else {
                                "effects allowed".into()
                            },
                            attr_id(),
                        )
                    })
                }
                Some(AttrMeaning::WitnessTransfer) => {
                    let allowed = forbidden_wit.iter().find(|(j, _)| *j == i).map(|x| x.1);
                    if allowed == Some(false) {
                        add(&mut db, adm::WITNESS_FORBIDDEN, Tuple::of([k as u32, cid]));
                    }
                    record_all.then(|| {
                        (
                            "pending".into(),
                            if crosses {
                                "a PhiWitness crosses this binding".into()
                            } else {
                                "no PhiWitness crosses this binding".into()
                            },
                            attr_id(),
                        )
                    })
                }
                Some(AttrMeaning::Latency) => {
                    let bound: i128 = cl.value.name.parse::<i64>().unwrap_or(0).into();
                    let cost = rec.cost[b.target];
                    let ok = cost_compare(&cl.op.name, cost, bound);
                    let why = || {
                        format!(
                            "declared cost of `{}` is {}; the clause needs {} {}",
                            c.procs[b.target].qname,
                            cost_text(cost),
                            cl.op.name,
                            cl.value.name
                        )
                    };
                    if !ok {
                        add(&mut db, adm::LATENCY_EXCEEDED, Tuple::of([k as u32, cid]));
                        notes.insert(
                            (adm::LATENCY_EXCEEDED.into(), Tuple::of([k as u32, cid])),
                            why(),
                        );
                    }
                    record_all.then(|| ("pending".into(), why(), attr_id()))
                }
                Some(AttrMeaning::LinearityEnforced) => {
                    let on = bool_clauses(tables, b.bind, AttrMeaning::LinearityEnforced)
                        .iter()
                        .any(|(j, v)| *j == i && *v);
                    record_all.then(|| {
                        (
                            "holds".into(),
                            if on {
                                "enforced statically: values crossing stay linear (a K caller gives away what it passes)".into()
                            } else {
                                "not enforced: values crossing are copied".into()
                            },
                            attr_id(),
                        )
                    })
                }
            };
            if let Some(a) = attr {
                if rec.reached.contains(&b.target) {
                    ck.fire(&a.id);
                }
            }
            if let Some(verdict) = verdict {
                rec.clauses.insert((k, i), verdict);
            }
        }
    }

    // Φ gates the run reaches, and the Φ gates of those gates (§10.6.1:
    // admissibility transfers along Φ bindings).
    let mut asked: BTreeMap<usize, Gate> = BTreeMap::new();
    // Looked up only (never iterated).
    let mut into: crate::Map<usize, Vec<usize>> =
        crate::Map::with_capacity_and_hasher(c.binds.len(), Default::default());
    for b in &c.binds {
        if c.regimes[b.source] == Regime::Phi {
            into.entry(b.target).or_default().push(b.source);
        }
    }
    let mut work: Vec<usize> = rec
        .reached
        .iter()
        .flat_map(|t| into.get(&t).into_iter().flatten().copied())
        .collect();
    while let Some(src) = work.pop() {
        if asked.contains_key(&src) {
            continue;
        }
        work.extend(into.get(&src).into_iter().flatten().copied());
        let b_source = src;
        let mut gate = gate(tables, c, src, solver_budget, &mut ck.phi);
        // A concrete call of the source that evaluation admitted shows an
        // assignment exists, whatever the solver could decide (§8.4.3).
        if matches!(gate, Gate::Undetermined(_)) && admitted.get(src) == Some(&true) {
            gate = Gate::Exists {
                witness: "the arguments of a concrete call this run admitted".into(),
            };
        }
        match &gate {
            Gate::Exists { .. } => {
                ck.fire(crate::registry::PHI_EXISTS);
            }
            Gate::NonExistent { mus } => {
                ck.fire(crate::registry::PHI_NONEXISTENT);
                add(&mut db, adm::PHI_NONEXISTENT, Tuple::of([b_source as u32]));
                let texts: Vec<String> = mus.iter().map(|(_, t)| format!("`{t}`")).collect();
                notes.insert(
                    (adm::PHI_NONEXISTENT.into(), Tuple::of([b_source as u32])),
                    format!(
                        "no assignment of `{}`'s parameters satisfies its constraints; minimal inadmissible set: {}",
                        c.procs[b_source].qname,
                        texts.join(", ")
                    ),
                );
            }
            Gate::Undetermined(r) => {
                ck.fire(crate::registry::PHI_UNDETERMINED);
                add(&mut db, adm::PHI_UNDETERMINED, Tuple::of([b_source as u32]));
                notes.insert(
                    (adm::PHI_UNDETERMINED.into(), Tuple::of([b_source as u32])),
                    format!("Φ resolution of `{}`: {r}", c.procs[b_source].qname),
                );
            }
        }
        asked.insert(b_source, gate);
    }
    rec.gates = asked;

    // Resources (§8.6).
    for (pi, p) in c.procs.iter().enumerate() {
        for (ui, u) in p.proc.uses.iter().enumerate() {
            let uid = ids.uses.len() as u32;
            ids.uses.push((pi, ui));
            let name = &u.resource.name;
            let row = tables.resources.resource(name);
            let bad_arg = row.filter(|r| r.realizer).and_then(|r| {
                r.realizable.iter().find_map(|rz| {
                    let given = u.args.iter().find(|(k, _)| k.name == rz.param)?;
                    let v = match &given.1.value {
                        LitValue::String(s) => s.clone(),
                        LitValue::Int(i) => i.to_string(),
                        LitValue::Bool(b) => b.to_string(),
                        _ => String::new(),
                    };
                    (!rz.values.contains(&v)).then(|| {
                        format!(
                            "the `{name}` realizer accepts {} = {}, not {v:?} (a manifest cannot change what a realizer does; `--simulate` simulates it)",
                            rz.param,
                            rz.values.join(" | ")
                        )
                    })
                })
            });
            let has_realizer = row.is_some_and(|r| r.realizer);
            // Whether the resource is available and why; the words are made
            // only for a note (unavailable) or for `explain`.
            let avail = if res.deny.iter().any(|d| d == name) {
                Availability::Denied
            } else if res.mode_simulate {
                Availability::Simulated
            } else if let Some(w) = bad_arg {
                Availability::BadArgument(w)
            } else if has_realizer {
                Availability::Realizer
            } else if res.provide.iter().any(|d| d == name) {
                Availability::Provided
            } else {
                Availability::Missing
            };
            // The words are made only for a note (unavailable) or `explain`.
            let (ok, rule) = (avail.ok(), avail.rule());
            let why = || avail.why(name);
            if rec.reached.contains(&pi) {
                // Acquisition only decides availability: no effect (§8.6).
                ck.fire(crate::registry::USES_NO_EFFECT);
                ck.fire(rule);
                if let Some(r) = row {
                    ck.fire(&r.id);
                }
            }
            if !ok {
                add(
                    &mut db,
                    adm::RESOURCE_UNAVAILABLE,
                    Tuple::of([pi as u32, uid]),
                );
                notes.insert(
                    (
                        adm::RESOURCE_UNAVAILABLE.into(),
                        Tuple::of([pi as u32, uid]),
                    ),
                    why(),
                );
            }
            let mut verdict = record_all.then(|| (ok, why(), rule.to_string()));
            if let Some(d) = row.and_then(|r| r.deadline.as_ref()) {
                let deadline = int_arg(u, &d.deadline).unwrap_or(0);
                let jitter = int_arg(u, &d.jitter).unwrap_or(0);
                let limit = i128::from(deadline) - i128::from(jitter);
                let cost = rec.cost[pi];
                let why = || {
                    format!(
                        "declared cost of `{}` is {}; {} needs at most {deadline} - {jitter} = {limit} us",
                        p.qname,
                        cost_text(cost),
                        name
                    )
                };
                if cost == SATURATED || i128::from(cost) > limit {
                    add(&mut db, adm::RESOURCE_UNMET, Tuple::of([pi as u32, uid]));
                    notes.insert(
                        (adm::RESOURCE_UNMET.into(), Tuple::of([pi as u32, uid])),
                        why(),
                    );
                    if record_all {
                        verdict = Some((false, why(), rule.to_string()));
                    }
                } else if ok {
                    if let Some(v) = verdict.as_mut() {
                        v.1 = format!("{}; {}", v.1, why());
                    }
                }
            }
            if let Some(verdict) = verdict {
                rec.uses.insert((pi, ui), verdict);
            }
        }
    }

    for w in refusal_path.windows(2) {
        add(
            &mut db,
            adm::REFUSAL_PATH,
            Tuple::of([w[0] as u32, w[1] as u32]),
        );
    }
    if let Some(p) = refused_in {
        add(&mut db, adm::CONSTRAINT_FAILED, Tuple::of([p as u32]));
        notes.insert(
            (adm::CONSTRAINT_FAILED.into(), Tuple::of([p as u32])),
            if p == entry {
                format!(
                    "a constraint of the entry `{}` does not hold",
                    c.procs[p].qname
                )
            } else {
                format!(
                    "a concrete call into `{}` is inadmissible: its constraints fail for the values given",
                    c.procs[p].qname
                )
            },
        );
    }

    // The default rules derive a few facts per process, binding and clause;
    // edited rules could derive far more, so the profile's budget bounds them.
    let budget = tables.profile.budgets.admission_facts as usize;
    let adm_rules = &tables.admission;
    // Ranks (the round each fact first appeared) only for `explain`, where
    // every derived fact is shown with the premises that first derived it.
    let mut ranks = datalog::Ranks::new();
    let (db, fired) = match datalog::eval_ranked(
        &adm_rules.strata,
        db.into_db(),
        budget,
        record_all.then_some(&mut ranks),
    ) {
        Ok(r) => r,
        Err(e) => {
            let d = Checker::check_diag(
                tables,
                crate::registry::EXEC_BUDGET,
                format!(
                    "whole-program admission derived more than {budget} facts ({} so far)",
                    e.tuples
                ),
            )
            .note("the admission rules (10-admission.ron) are bounded so that no program or table edit can exhaust memory; the outcome is undetermined");
            ck.fire(crate::registry::EXEC_BUDGET);
            return (Some(d), rec);
        }
    };
    let der = datalog::Deriver::new(&db, record_all.then_some(&ranks));
    ck.fired.extend(fired);

    let entity = |col: Column, x: u32| -> Entity {
        let x = x as usize;
        match col {
            Column::Proc => Entity {
                name: c
                    .procs
                    .get(x)
                    .map(|p| p.qname.to_string())
                    .unwrap_or_default(),
                span: c.procs.get(x).map(|p| p.proc.name.span).unwrap_or_default(),
            },
            Column::Bind => Entity {
                name: bind_text(c, x),
                span: c.binds.get(x).map(|b| b.bind.span).unwrap_or_default(),
            },
            Column::Clause => {
                let (k, i) = ids.clauses.get(x).copied().unwrap_or((0, 0));
                let cl = &c.binds[k].bind.contract[i];
                Entity {
                    name: clause_text(cl),
                    span: cl.span,
                }
            }
            Column::Use => {
                let (pi, ui) = ids.uses.get(x).copied().unwrap_or((0, 0));
                let u = &c.procs[pi].proc.uses[ui];
                Entity {
                    name: uses_text(u),
                    span: u.span,
                }
            }
            Column::Var | Column::Point => Entity {
                name: x.to_string(),
                span: Span::default(),
            },
        }
    };
    let show = |rel: &str, t: &[u32]| -> String {
        let plain = rel.trim_start_matches('!');
        let cols = adm_rules.columns.get(plain).cloned().unwrap_or_default();
        let args: Vec<String> = t
            .iter()
            .enumerate()
            .map(|(i, x)| {
                if *x == u32::MAX {
                    "_".into()
                } else {
                    entity(cols.get(i).copied().unwrap_or(Column::Proc), *x).name
                }
            })
            .collect();
        format!("{rel}({})", args.join(", "))
    };

    // The rule (of the table) that first derived a fact, if it holds.
    let derived_by = |rel: &str, t: &[u32]| -> Option<String> {
        db.get(rel).is_some_and(|r| r.contains(t)).then(|| {
            adm_rules
                .rules()
                .filter(|r| r.head.rel == rel)
                .find(|r| der.derivation(r, t).is_some())
                .map(|r| r.id.clone())
                .unwrap_or_default()
        })
    };

    // What `explain` shows of each clause, process and Φ gate, with the
    // rule that decided it: a derivation search per fact, made only when
    // the derivation is asked for.
    if record_all {
        // Clause verdicts, now that the rules have decided them.
        for (cid, (k, i)) in ids.clauses.iter().enumerate() {
            if let Some(v) = rec.clauses.get_mut(&(*k, *i)) {
                if v.0 == "pending" {
                    match derived_by(adm::CLAUSE_VIOLATED, &[*k as u32, cid as u32]) {
                        Some(rule) => {
                            v.0 = "violated".into();
                            v.2 = rule;
                        }
                        None => v.0 = "holds".into(),
                    }
                }
            }
        }

        // Per-process verdicts for `explain`: reached, refused, a Φ gate's
        // status, or stopped by a violation (column 0 of every violation
        // relation is the process); each with the rule that derived it.
        for t in db.get(adm::REACHES).into_iter().flatten() {
            if let Some(rule) = derived_by(adm::REACHES, t) {
                rec.verdicts
                    .insert(t[0] as usize, ("admitted".into(), rule));
            }
        }
        for t in db.get(adm::REFUSED).into_iter().flatten() {
            let word = if t[0] as usize == entry {
                "refused: a constraint does not hold"
            } else {
                "refused by a concrete call"
            };
            if let Some(rule) = derived_by(adm::REFUSED, t) {
                rec.verdicts.insert(t[0] as usize, (word.into(), rule));
            }
        }
        // Φ sources of gates the run reaches: admissible unless the rules
        // derived otherwise (their own question, or a Φ gate of theirs).
        for p in rec.gates.keys().copied().collect::<Vec<_>>() {
            let t = [p as u32];
            let status = if let Some(r) = derived_by(adm::PHI_FAILS, &t) {
                ("Φ gate: not admissible".to_string(), r)
            } else if let Some(r) = derived_by(adm::PHI_UNKNOWN, &t) {
                ("Φ gate: undetermined".to_string(), r)
            } else {
                (
                    "Φ gate: admissible".to_string(),
                    crate::registry::PHI_EXISTS.to_string(),
                )
            };
            rec.gate_status.insert(p, status.clone());
            rec.verdicts.entry(p).or_insert(status);
        }
        for v in adm_rules.violations.iter().rev() {
            let word = match tables.entry(&v.code).map(|e| e.category) {
                Some(semantics::Category::Undetermined) => "undetermined",
                _ => "inadmissible",
            };
            for t in db.get(&v.relation).into_iter().flatten() {
                if let Some(rule) = derived_by(&v.relation, t) {
                    rec.verdicts
                        .insert(t[0] as usize, (format!("{word} ({})", v.relation), rule));
                }
            }
        }
    }

    if record_all {
        for (rel, tuples) in &db {
            let input = adm_rules.inputs.iter().any(|i| &i.name == rel);
            for t in tuples {
                let fact = show(rel, t);
                if input {
                    rec.facts.push(match notes.get(&(rel.clone(), *t)) {
                        Some(n) => format!("{fact}  — {n}"),
                        None => fact,
                    });
                    continue;
                }
                if let Some((rule, prem)) = adm_rules
                    .rules()
                    .filter(|r| &r.head.rel == rel)
                    .find_map(|r| der.derivation(r, t).map(|f| (r, f)))
                {
                    rec.derived.push(Derived {
                        fact,
                        rule: rule.id.clone(),
                        cite: rule.cite.clone(),
                        premises: prem.iter().map(|(r, ft)| show(r, ft)).collect(),
                    });
                }
            }
        }
    }

    // The first violation relation with a tuple decides.
    for v in &adm_rules.violations {
        let Some(t) = db.get(&v.relation).and_then(|r| r.iter().next()) else {
            continue;
        };
        let cols = adm_rules
            .columns
            .get(&v.relation)
            .cloned()
            .unwrap_or_default();
        let ents: Vec<Entity> = t
            .iter()
            .enumerate()
            .map(|(i, x)| entity(cols.get(i).copied().unwrap_or(Column::Proc), *x))
            .collect();
        let Some((rule, prem)) = adm_rules
            .rules()
            .filter(|r| r.head.rel == v.relation)
            .find_map(|r| der.derivation(r, t).map(|f| (r, f)))
        else {
            continue;
        };
        let mut msg = v.message.clone();
        for (i, e) in ents.iter().enumerate() {
            msg = msg.replace(&format!("{{{i}}}"), &e.name);
        }
        let mut d = Diagnostic::new(tables, &v.code, Some((&rule.id, &rule.cite)), msg).labelled(
            v.labels.iter().map(|(col, label)| Label {
                span: ents.get(*col).map(|e| e.span).unwrap_or_default(),
                message: label.clone(),
            }),
        );
        let body: Vec<String> = prem.iter().map(|(r, ft)| show(r, ft)).collect();
        let derived = crate::diag::derived_note(&rule.id, &show(&v.relation, t), &body);
        d.notes.push(derived.clone());
        rec.stop_derivation = Some(derived);
        // Why the input facts behind it hold, one level down.
        let mut why: Vec<String> = Vec::new();
        let mut frontier: Vec<(String, Tuple)> = prem.clone();
        let mut seen = BTreeSet::new();
        while let Some((r, ft)) = frontier.pop() {
            if !seen.insert((r.clone(), ft)) || seen.len() > 64 {
                continue;
            }
            if let Some(n) = notes.get(&(r.clone(), ft)) {
                why.push(n.clone());
            }
            if let Some(sub) = adm_rules
                .rules()
                .filter(|x| x.head.rel == r)
                .find_map(|x| der.derivation(x, &ft))
            {
                frontier.extend(sub);
            }
        }
        why.sort();
        why.dedup();
        d.notes.extend(why);
        // A Φ process behind the verdict that has no solution: show its set.
        for (i, x) in t.iter().enumerate() {
            if cols.get(i) != Some(&Column::Proc) || i == 0 {
                continue;
            }
            if let Some(Gate::NonExistent { mus }) = rec.gates.get(&(*x as usize)) {
                for (span, _) in mus {
                    d.secondary.push(Label {
                        span: *span,
                        message: "in the minimal inadmissible set".into(),
                    });
                }
            }
        }
        if let Some(h) = &v.help {
            d.help = Some(h.clone());
        }
        d.notes.push("no effect of this run occurred".into());
        rec.stop = Some(v.relation.clone());
        return (Some(d), rec);
    }
    (None, rec)
}

/// The existence question of a Φ gate: every parameter unknown.
fn gate(
    tables: &Tables,
    c: &Compiled<'_>,
    p: usize,
    budget: Option<u64>,
    pool: &mut phi::Pool,
) -> Gate {
    let given = vec![None; c.procs[p].params.len()];
    let q = match phi::question(tables, c, p, &given) {
        Ok(q) => q,
        Err(r) => return Gate::Undetermined(r),
    };
    match phi::resolve(tables, &q, budget, pool) {
        phi::Resolution::Exists { args, scope } => {
            let info = &c.procs[p];
            let parts: Vec<String> = info
                .params
                .iter()
                .zip(args)
                .map(|((n, d), v)| {
                    let v = phi::name_shapes(v, &d.ty, c, info.forge);
                    format!("{n} = {}", v.render())
                })
                .collect();
            Gate::Exists {
                witness: format!("{} ({scope})", parts.join(", ")),
            }
        }
        phi::Resolution::NonExistent {
            mus, constraints, ..
        } => Gate::NonExistent {
            mus: mus
                .iter()
                .map(|i| (constraints[*i].span, constraints[*i].text.clone()))
                .collect(),
        },
        phi::Resolution::Undetermined(r) => Gate::Undetermined(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Admission's body facts as the check sums them are what walking
    /// every statement gives (the oracle), for small and large bodies of
    /// each regime, with every kind of statement and effect the tables
    /// cost.
    #[test]
    fn body_facts_summed_by_the_check_are_the_walked_ones() {
        let mut text =
            String::from("dir 0.1;\nforge F {\n  proc K f() -> i64 {\n    return 1;\n  }\n");
        // Bodies of n + 1 or n + 2 statements.
        let sizes = [3, 1021, 1031];
        for (k, n) in sizes.iter().enumerate() {
            text.push_str(&format!("  proc K k{k}() -> i64 {{\n    let v = 1;\n"));
            for i in 0..*n {
                text.push_str(&match i % 6 {
                    0 => format!("    let a{i} = v Add 1;\n"),
                    1 => "    constrain v Gt 0;\n".into(),
                    2 => "    emit v;\n".into(),
                    3 => "    observe v;\n".into(),
                    4 => "    seal v;\n".into(),
                    _ => format!("    call f() -> b{i};\n"),
                });
            }
            text.push_str("    return v;\n  }\n");
            // Each value used once (linear).
            text.push_str(&format!("  proc Q q{k}(v0: i64) -> i64 [linear] {{\n"));
            for i in 1..=*n {
                text.push_str(&format!("    let v{i} = v{} Add 1;\n", i - 1));
            }
            text.push_str(&format!("    return v{n};\n  }}\n"));
            text.push_str(&format!("  proc Φ p{k}(x: i64) {{\n"));
            for _ in 0..*n {
                text.push_str("    constrain x Gt 0;\n");
            }
            text.push_str("    return;\n  }\n");
        }
        text.push_str("}\n");
        let program = dir_grammar::load_str(&text).expect("loads");
        let tables = Tables::defaults().expect("tables");
        let mut ck = Checker::new(&tables);
        let c = crate::validate::compile(&mut ck, &program);
        let Some(c) = c else {
            panic!("{:#?}", ck.take_diags());
        };
        let rows = crate::types::StepRows::by_regime(&tables);
        let walked: (Vec<u64>, Vec<bool>) =
            c.procs.iter().map(|p| walked_facts(p.proc, &rows)).unzip();
        assert_eq!(body_facts(&c), walked);
        assert!(walked.0.iter().any(|c| *c > 0));
    }

    /// `n` Φ processes `g0`, `g1`, ... gating `main`; `gate(g)` writes a
    /// gate's parameters and its statements before `return`.
    fn gates_of_main(n: usize, gate: impl Fn(usize) -> String) -> String {
        let mut text = String::from("dir 0.1;\nforge F {\n");
        for g in 0..n {
            text.push_str(&format!("  proc Φ g{g}{}\n    return;\n  }}\n", gate(g)));
        }
        text.push_str("  proc K main() -> i64 {\n    return 1;\n  }\n");
        for g in 0..n {
            text.push_str(&format!("  bind Φ::g{g} -> K::main;\n"));
        }
        text.push_str("}\n");
        text
    }

    /// Gates that only bound their parameters are answered without the
    /// solver, so they spend nothing of the run's allowance: with it at a
    /// single propagation, 200 of them are still decided (each a solver of
    /// its own, 80 000 took 4.9 s and left the last undetermined).
    #[test]
    fn bounding_gates_spend_nothing_of_the_runs_budget() {
        let text = gates_of_main(200, |g| {
            format!(
                "(x: i64, b: bool) {{\n    constrain x Ge {g};\n    constrain x Le {};\n    constrain x Eq x;",
                g + 5
            )
        });
        let src = crate::Source {
            name: "gates.dir",
            bytes: text.as_bytes(),
        };
        let cfg = crate::RunConfig::new(crate::Mode::Check);
        let mut tables = Tables::defaults().unwrap();
        tables.phi.solver.run_propagations = 1;
        let r = crate::Engine::new(tables).unwrap().run(&src, &cfg);
        assert_eq!(
            r.trace.outcome,
            crate::Outcome::Executed,
            "{:?}",
            r.diagnostics
        );
    }

    /// The Φ questions of a run share one allowance of propagations: each
    /// gate within its own budget added up without bound (20 hard gates ran
    /// past 120 s). Once it is spent, a gate is undetermined, and says why.
    #[test]
    fn phi_gates_share_the_runs_solver_budget() {
        let text = gates_of_main(3, |g| {
            format!("(x: i32, y: i32) {{\n    constrain (x Add y) Gt {g};\n    constrain x Lt y;")
        });
        let src = crate::Source {
            name: "gates.dir",
            bytes: text.as_bytes(),
        };
        let cfg = crate::RunConfig::new(crate::Mode::Check);
        let mut tables = Tables::defaults().unwrap();
        let run = |tables: &Tables| crate::Engine::new(tables.clone()).unwrap().run(&src, &cfg);
        let decided = run(&tables);
        assert_eq!(
            decided.trace.outcome,
            crate::Outcome::Executed,
            "{:?}",
            decided.diagnostics
        );
        // What one gate's question spends, measured.
        let c = {
            let program = dir_grammar::load_str(&text).unwrap();
            let mut ck = Checker::new(&tables);
            let compiled = crate::validate::compile(&mut ck, &program).unwrap();
            let g0 = (0..compiled.procs.len())
                .find(|i| compiled.procs[*i].qname.ends_with("g0"))
                .unwrap();
            let mut pool = phi::Pool::default();
            assert!(matches!(
                gate(&tables, &compiled, g0, None, &mut pool),
                Gate::Exists { .. }
            ));
            pool
        };
        let one = c.spent();
        assert!(one > 0);
        // Room for about one question and a half: a later gate is stopped.
        tables.phi.solver.run_propagations = one + one / 2;
        let stopped = run(&tables);
        assert_eq!(stopped.trace.outcome, crate::Outcome::Undetermined);
        let d = &stopped.diagnostics[0];
        assert!(
            d.notes
                .iter()
                .any(|n| n.contains("the run's solver budget was exhausted")),
            "{d:?}"
        );
    }
    use crate::datalog::Db;

    /// The datafrog evaluation of 10-admission.ron and the naive one agree
    /// on a program with call chains, bindings, clauses and resources.
    #[test]
    fn datafrog_agrees_with_naive_evaluation() {
        let tables = semantics::Tables::defaults().unwrap();
        let rules = &tables.admission;
        let mut facts = datalog::Facts::default();
        for i in &rules.inputs {
            facts.relation(&i.name);
        }
        // Processes 0..12: 0 is the entry, calls form a chain with a branch.
        add(&mut facts, adm::ENTRY, Tuple::of([0]));
        for p in 0..8u32 {
            add(&mut facts, adm::CALLS, Tuple::of([p, p + 1]));
        }
        add(&mut facts, adm::CALLS, Tuple::of([3, 10]));
        add(&mut facts, adm::EFFECT_IN, Tuple::of([10]));
        add(&mut facts, adm::EFFECT_IN, Tuple::of([11]));
        // Bindings: 0: 9 -> 2 (Φ gate, non-existent), 1: 0 -> 3 (effects
        // forbidden, 3 reaches an effect), 2: 11 -> 4 (latency), 3: 12 -> 11
        // (target never reached), 4: 5 -> 6 (witness).
        for (b, s, t) in [(0, 9, 2), (1, 0, 3), (2, 11, 4), (3, 12, 11), (4, 5, 6)] {
            add(&mut facts, adm::BIND, Tuple::of([b, s, t]));
        }
        add(&mut facts, adm::PHI_NONEXISTENT, Tuple::of([9]));
        add(&mut facts, adm::PHI_UNDETERMINED, Tuple::of([12]));
        add(&mut facts, adm::EFFECTS_FORBIDDEN, Tuple::of([1, 0]));
        add(&mut facts, adm::LATENCY_EXCEEDED, Tuple::of([2, 1]));
        add(&mut facts, adm::WITNESS_FORBIDDEN, Tuple::of([4, 2]));
        add(&mut facts, adm::WITNESS_CROSSES, Tuple::of([4]));
        add(&mut facts, adm::RESOURCE_UNAVAILABLE, Tuple::of([7, 0]));
        add(&mut facts, adm::RESOURCE_UNAVAILABLE, Tuple::of([11, 1]));
        add(&mut facts, adm::RESOURCE_UNMET, Tuple::of([8, 2]));
        add(&mut facts, adm::CONSTRAINT_FAILED, Tuple::of([6]));
        for p in 0..6u32 {
            add(&mut facts, adm::REFUSAL_PATH, Tuple::of([p, p + 1]));
        }
        let facts: Db = facts.into_db();
        let (fast, _) = datalog::eval(&rules.strata, &facts, usize::MAX).unwrap();
        let slow = datalog::eval_naive(&rules.strata, &facts);
        assert_eq!(fast, slow);
        assert!(fast["gated"].contains(&[2, 0, 9][..]));
        assert!(fast["contract_broken"].contains(&[3, 1, 0][..]));
        assert!(fast["contract_broken"].contains(&[4, 2, 1][..]));
        assert!(fast["contract_broken"].contains(&[6, 4, 2][..]));
        assert!(fast["resource_missing"].contains(&[7, 0][..]));
        assert!(
            !fast["resource_missing"].contains(&[11, 1][..]),
            "11 is not reached"
        );
        assert!(fast["deadline_missed"].contains(&[8, 2][..]));
        assert!(fast["gate_undetermined"].is_empty(), "11 is not reached");
        assert!(
            fast["refused"].contains(&[0][..]),
            "refusal propagates to callers"
        );

        // Every derived fact is explained by the premises that first derived
        // it: each derived premise appeared in an earlier round.
        let mut ranks = datalog::Ranks::new();
        let (db, _) =
            datalog::eval_ranked(&rules.strata, facts.clone(), usize::MAX, Some(&mut ranks))
                .unwrap();
        assert_eq!(db, fast);
        let der = datalog::Deriver::new(&db, Some(&ranks));
        let mut explained = 0;
        for r in rules.rules() {
            for t in db.get(&r.head.rel).into_iter().flatten() {
                let Some(prem) = rules
                    .rules()
                    .filter(|x| x.head.rel == r.head.rel)
                    .find_map(|x| der.derivation(x, t))
                else {
                    panic!("no derivation of {}({t:?})", r.head.rel);
                };
                let head = ranks
                    .get(&r.head.rel, t)
                    .expect("a derived fact has a rank");
                for (rel, pt) in prem {
                    if let Some(pr) = ranks.get(&rel, &pt) {
                        assert!(pr < head, "{rel}({pt:?}) ranks {pr}, not before {head}");
                    }
                }
                explained += 1;
            }
        }
        assert!(explained > 20, "{explained}");
    }
}
