//! The one door to the constraint solver (huub, pinned: a lazy clause
//! generation CP solver with 64-bit integers). Φ resolution states its
//! questions as a `Problem` of integer unknowns and formulas over linear
//! terms; a `Session` builds one solver per question, posting every formula
//! behind a selector literal, and answers queries (a subset of the formulas,
//! bounds on unknowns) through assumptions, so the witness search and the
//! minimal-set search reuse it.
//!
//! Exactness. Before anything reaches the solver, `propagate` tightens the
//! domains in i128 (sound: only values no solution can take are removed),
//! which alone refutes many questions and brings i64 questions within the
//! solver's range. huub's arithmetic is i64 and its linear propagators do
//! not check every intermediate value, so a formula is posted only when
//! every partial sum of every atom, over the domains, stays within
//! ±`SOLVER_LIMIT` (checked in i128); otherwise the query is
//! `Unrepresentable` and the caller searches a box, reporting its scope.
//! Work is counted in conflicts (learned clauses), never time, so budgets
//! are reproducible.

use huub::actions::IntDecisionActions;
use huub::lower::LoweringMap;
use huub::model::expressions::{BoolFormula, IntLinearExp};
use huub::model::{self, Model};
use huub::solver::{
    AssumptionChecker, Decision, IntLitMeaning, Solver, Status, TerminationSignal, Valuation, View,
};
use std::cell::Cell;
use std::rc::Rc;

/// Every domain bound, coefficient and partial sum the solver sees stays
/// within ±2^62: huub computes in i64 without checking every step.
pub const SOLVER_LIMIT: i128 = 1 << 62;

/// `Σ aᵢ·xᵢ + c`, exact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lin {
    pub terms: Vec<(usize, i128)>,
    pub c: i128,
}

impl Lin {
    pub fn constant(c: i128) -> Lin {
        Lin {
            terms: Vec::new(),
            c,
        }
    }

    pub fn var(v: usize) -> Lin {
        Lin {
            terms: vec![(v, 1)],
            c: 0,
        }
    }

    pub fn scale(&self, k: i128) -> Lin {
        let mut out = Lin {
            terms: self.terms.iter().map(|(v, a)| (*v, a * k)).collect(),
            c: self.c * k,
        };
        out.terms.retain(|(_, a)| *a != 0);
        out
    }

    pub fn add(&self, o: &Lin) -> Lin {
        let mut terms = self.terms.clone();
        for (v, a) in &o.terms {
            match terms.iter_mut().find(|(w, _)| w == v) {
                Some((_, b)) => *b += a,
                None => terms.push((*v, *a)),
            }
        }
        terms.retain(|(_, a)| *a != 0);
        terms.sort();
        Lin {
            terms,
            c: self.c + o.c,
        }
    }

    pub fn sub(&self, o: &Lin) -> Lin {
        self.add(&o.scale(-1))
    }
}

/// Relations of a linear term to zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rel {
    Le,
    Eq,
    Ne,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    Const(bool),
    Atom(Lin, Rel),
    And(Vec<Form>),
    Or(Vec<Form>),
}

/// Every assignment over small domains, in lexicographic order (tests).
#[cfg(test)]
pub fn assignments(domains: &[(i64, i64)]) -> Vec<Vec<i64>> {
    let mut out = vec![Vec::new()];
    for (lo, hi) in domains {
        out = out
            .into_iter()
            .flat_map(|p| (*lo..=*hi).map(move |v| [p.clone(), vec![v]].concat()))
            .collect();
    }
    out
}

impl Form {
    /// The formula's truth under an assignment (the reference the solver is
    /// tested against).
    #[cfg(test)]
    pub fn holds(&self, x: &[i64]) -> bool {
        match self {
            Form::Const(b) => *b,
            Form::Atom(l, rel) => {
                let v: i128 = l.terms.iter().map(|(i, a)| a * x[*i] as i128).sum::<i128>() + l.c;
                match rel {
                    Rel::Le => v <= 0,
                    Rel::Eq => v == 0,
                    Rel::Ne => v != 0,
                }
            }
            Form::And(fs) => fs.iter().all(|g| g.holds(x)),
            Form::Or(fs) => fs.iter().any(|g| g.holds(x)),
        }
    }

    pub fn not(&self) -> Form {
        match self {
            Form::Const(b) => Form::Const(!b),
            // ¬(l ≤ 0) ⇔ l ≥ 1 ⇔ 1 - l ≤ 0
            Form::Atom(l, Rel::Le) => Form::Atom(Lin::constant(1).sub(l), Rel::Le),
            Form::Atom(l, Rel::Eq) => Form::Atom(l.clone(), Rel::Ne),
            Form::Atom(l, Rel::Ne) => Form::Atom(l.clone(), Rel::Eq),
            Form::And(fs) => Form::Or(fs.iter().map(Form::not).collect()),
            Form::Or(fs) => Form::And(fs.iter().map(Form::not).collect()),
        }
    }
}

/// A satisfaction question: unknowns with domains, and formulas.
#[derive(Clone, Debug)]
pub struct Problem {
    pub domains: Vec<(i64, i64)>,
    pub formulas: Vec<Form>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Sat(Vec<i64>),
    /// Unsatisfiable; the formulas (indices into the problem) the solver's
    /// refutation used: a subset of the active ones that is itself
    /// unsatisfiable under the same bounds.
    Unsat(Vec<usize>),
    /// Not decided: the budget ran out.
    Unknown(String),
    /// Not posed: the question leaves what the solver represents exactly.
    Unrepresentable(String),
}

/// Flatten top-level conjunctions.
fn conjuncts<'f>(f: &'f Form, out: &mut Vec<&'f Form>) {
    match f {
        Form::And(fs) => fs.iter().for_each(|g| conjuncts(g, out)),
        other => out.push(other),
    }
}

/// Rounds of bounds propagation before giving up on a fixed point (the
/// domains stay sound either way: they only lose values no solution has).
pub const PROPAGATION_ROUNDS: usize = 256;

/// Tighten `domains` by bounds propagation, in i128 so nothing overflows:
/// from every top-level single-unknown atom and every top-level linear
/// `≤`/`=` atom, to a fixed point (or [`PROPAGATION_ROUNDS`]). Returns false
/// when a domain becomes empty: no assignment satisfies the conjunction.
/// Only values no solution can take are removed, so the question is
/// unchanged; this alone refutes `x + y = 1 ∧ x > 0 ∧ y > 0` over any
/// domains, and usually brings i64 questions within the solver's range.
pub fn propagate(forms: &[&Form], domains: &mut [(i128, i128)]) -> bool {
    let mut atoms: Vec<(&Lin, Rel)> = Vec::new();
    for f in forms {
        let mut flat = Vec::new();
        conjuncts(f, &mut flat);
        for g in flat {
            match g {
                Form::Const(false) => return false,
                Form::Atom(l, r) if *r != Rel::Ne => atoms.push((l, *r)),
                _ => {}
            }
        }
    }
    for _ in 0..PROPAGATION_ROUNDS {
        let mut changed = false;
        for (l, r) in &atoms {
            // Σ aᵢxᵢ + c ≤ 0, and for `=` also -Σ aᵢxᵢ - c ≤ 0.
            for sign in [1i128, -1] {
                if sign < 0 && *r != Rel::Eq {
                    continue;
                }
                // Checked: an atom whose sums could leave i128 (absurd
                // coefficients) is simply not used to propagate.
                let term_min = |a: i128, (lo, hi): (i128, i128)| {
                    Some(a.checked_mul(lo)?.min(a.checked_mul(hi)?))
                };
                let total_min = l.terms.iter().try_fold(sign * l.c, |acc, (v, a)| {
                    acc.checked_add(term_min(sign * a, domains[*v])?)
                });
                let Some(total_min) = total_min else { continue };
                if total_min > 0 {
                    return false;
                }
                for (v, a) in &l.terms {
                    let a = sign * a;
                    // a·x ≤ -(total_min - min(a·x)) =: room
                    let Some(own) = term_min(a, domains[*v]) else {
                        continue;
                    };
                    let room = own - total_min;
                    let d = &mut domains[*v];
                    if a > 0 {
                        let hi = room.div_euclid(a);
                        if hi < d.1 {
                            d.1 = hi;
                            changed = true;
                        }
                    } else {
                        // x ≥ room / a, rounded up.
                        let lo = -(room.div_euclid(-a));
                        if lo > d.0 {
                            d.0 = lo;
                            changed = true;
                        }
                    }
                    if d.0 > d.1 {
                        return false;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    true
}

/// Whether an atom can be posted exactly over these domains: its
/// coefficients, constant and every partial sum of its terms (in any order,
/// so the sum of absolute values bounds them all) stay within
/// ±`SOLVER_LIMIT`.
fn safe(lin: &Lin, domains: &[(i128, i128)]) -> bool {
    let mut total = lin.c.abs();
    for (v, a) in &lin.terms {
        let (lo, hi) = domains[*v];
        let m = lo.abs().max(hi.abs());
        let Some(t) = a.abs().checked_mul(m) else {
            return false;
        };
        total = total.saturating_add(t);
        if a.abs() > SOLVER_LIMIT || total > SOLVER_LIMIT {
            return false;
        }
    }
    total <= SOLVER_LIMIT
}

/// The least and greatest values of `lin` over the domains (None when
/// they leave i128).
fn range(lin: &Lin, domains: &[(i128, i128)]) -> Option<(i128, i128)> {
    lin.terms
        .iter()
        .try_fold((lin.c, lin.c), |(lo, hi), (v, a)| {
            let (dl, dh) = domains[*v];
            let (x, y) = (a.checked_mul(dl)?, a.checked_mul(dh)?);
            Some((lo.checked_add(x.min(y))?, hi.checked_add(x.max(y))?))
        })
}

/// The formula with every atom the domains decide replaced by its truth
/// value (evaluability bounds that the domains already guarantee, say), so
/// only what the domains leave open reaches the solver.
fn simplify(f: &Form, domains: &[(i128, i128)]) -> Form {
    match f {
        Form::Atom(l, rel) => match range(l, domains) {
            Some((lo, hi)) => match rel {
                Rel::Le if hi <= 0 => Form::Const(true),
                Rel::Le if lo > 0 => Form::Const(false),
                Rel::Eq if lo > 0 || hi < 0 => Form::Const(false),
                Rel::Eq if lo == 0 && hi == 0 => Form::Const(true),
                Rel::Ne if lo > 0 || hi < 0 => Form::Const(true),
                Rel::Ne if lo == 0 && hi == 0 => Form::Const(false),
                _ => f.clone(),
            },
            None => f.clone(),
        },
        Form::And(fs) => {
            let parts: Vec<Form> = fs.iter().map(|g| simplify(g, domains)).collect();
            if parts.contains(&Form::Const(false)) {
                return Form::Const(false);
            }
            let parts: Vec<Form> = parts
                .into_iter()
                .filter(|g| *g != Form::Const(true))
                .collect();
            if parts.is_empty() {
                Form::Const(true)
            } else {
                Form::And(parts)
            }
        }
        Form::Or(fs) => {
            let parts: Vec<Form> = fs.iter().map(|g| simplify(g, domains)).collect();
            if parts.contains(&Form::Const(true)) {
                return Form::Const(true);
            }
            let parts: Vec<Form> = parts
                .into_iter()
                .filter(|g| *g != Form::Const(false))
                .collect();
            if parts.is_empty() {
                Form::Const(false)
            } else {
                Form::Or(parts)
            }
        }
        Form::Const(_) => f.clone(),
    }
}

/// Whether every multi-term atom of a formula is safe.
fn postable(f: &Form, domains: &[(i128, i128)]) -> bool {
    match f {
        Form::Const(_) => true,
        Form::Atom(l, _) if l.terms.len() <= 1 => true,
        Form::Atom(l, _) => safe(l, domains),
        Form::And(fs) | Form::Or(fs) => fs.iter().all(|g| postable(g, domains)),
    }
}

/// `a·x + c REL 0` for one unknown, as a statement about x (bounds in i128).
enum Unary {
    Const(bool),
    Le(i128),
    Ge(i128),
    Is(i128),
    Not(i128),
}

fn unary(a: i128, c: i128, rel: Rel) -> Unary {
    match rel {
        // a·x ≤ -c
        Rel::Le if a > 0 => Unary::Le((-c).div_euclid(a)),
        Rel::Le => Unary::Ge(-((-c).div_euclid(-a))),
        Rel::Eq | Rel::Ne => {
            let exact = (-c) % a == 0;
            match (rel, exact) {
                (Rel::Eq, true) => Unary::Is(-c / a),
                (Rel::Eq, false) => Unary::Const(false),
                (_, true) => Unary::Not(-c / a),
                (_, false) => Unary::Const(true),
            }
        }
    }
}

/// Deterministic work counting: learned clauses (≈ conflicts).
struct Budget {
    learned: Rc<Cell<u64>>,
    limit: Rc<Cell<u64>>,
}

/// One solver for one question: every formula posted behind its selector.
pub struct Session {
    solver: Option<Solver>,
    vars: Vec<View<i64>>,
    /// Per formula: its selector, or why it could not be posted.
    selectors: Vec<Result<View<bool>, String>>,
    /// Domains the solver was built over (declared ∩ propagated).
    domains: Vec<(i128, i128)>,
    /// The formulas whose propagation narrowed `domains`: a query must
    /// include them all, or the narrowing would not hold for it.
    base: Vec<usize>,
    /// The formulas are unsatisfiable already by propagation (`base`).
    refuted: bool,
    budget: Budget,
}

/// How many solvers were built (tests check one per question).
#[cfg(test)]
thread_local! {
    pub static CONSTRUCTED: Cell<u64> = const { Cell::new(0) };
}

/// Posts formulas into the model, each part guarded by a literal.
struct Poster<'m> {
    m: &'m mut Model,
    vars: &'m [model::View<i64>],
    /// A post refuted at the root: the guard cannot hold.
    failed: bool,
}

impl Poster<'_> {
    fn clause(&mut self, lits: Vec<model::View<bool>>) {
        let f = BoolFormula::Or(lits.into_iter().map(BoolFormula::from).collect());
        self.failed |= self.m.proposition(f).post().is_err();
    }

    /// The literal of a single-unknown atom (domains keep every bound
    /// within ±2^62, so `k ± 1` cannot overflow).
    fn unary(&mut self, l: &Lin, rel: Rel) -> Result<model::View<bool>, bool> {
        let Some(&(v, a)) = l.terms.first() else {
            return Err(match rel {
                Rel::Le => l.c <= 0,
                Rel::Eq => l.c == 0,
                Rel::Ne => l.c != 0,
            });
        };
        let x = self.vars[v];
        let lim = SOLVER_LIMIT;
        Ok(match unary(a, l.c, rel) {
            Unary::Const(b) => return Err(b),
            Unary::Le(k) if k >= lim => return Err(true),
            Unary::Le(k) if k < -lim => return Err(false),
            Unary::Ge(k) if k <= -lim => return Err(true),
            Unary::Ge(k) if k > lim => return Err(false),
            Unary::Is(k) if k.abs() > lim => return Err(false),
            Unary::Not(k) if k.abs() > lim => return Err(true),
            Unary::Le(k) => x.leq(k as i64),
            Unary::Ge(k) => x.geq(k as i64),
            Unary::Is(k) => x.eq(k as i64),
            Unary::Not(k) => x.ne(k as i64),
        })
    }

    /// `guard → f`.
    fn post(&mut self, f: &Form, guard: model::View<bool>) {
        match f {
            Form::Const(true) => {}
            Form::Const(false) => self.clause(vec![!guard]),
            Form::Atom(l, rel) if l.terms.len() <= 1 => match self.unary(l, *rel) {
                Ok(lit) => self.clause(vec![!guard, lit]),
                Err(true) => {}
                Err(false) => self.clause(vec![!guard]),
            },
            Form::Atom(l, rel) => {
                let e: IntLinearExp = l
                    .terms
                    .iter()
                    .map(|(v, a)| IntLinearExp::from(self.vars[*v] * (*a as i64)))
                    .sum();
                let rhs = (-l.c) as i64;
                let lin = self.m.linear(e);
                let r = match rel {
                    Rel::Le => lin.le(rhs).implied_by(guard).post(),
                    Rel::Eq => lin.eq(rhs).implied_by(guard).post(),
                    Rel::Ne => lin.ne(rhs).implied_by(guard).post(),
                };
                self.failed |= r.is_err();
            }
            Form::And(fs) => fs.iter().for_each(|g| self.post(g, guard)),
            Form::Or(fs) => {
                let lits: Vec<model::View<bool>> =
                    fs.iter().map(|_| self.m.new_bool_decision()).collect();
                for (g, l) in fs.iter().zip(&lits) {
                    self.post(g, *l);
                }
                let mut clause = vec![!guard];
                clause.extend(lits);
                self.clause(clause);
            }
        }
    }
}

impl Session {
    /// The solver for `p`, with domains narrowed by `bounds` and by
    /// propagating the formulas `base` (queries must then include `base`).
    pub fn new(p: &Problem, base: &[usize], bounds: &[(usize, i64, i64)]) -> Session {
        let mut domains: Vec<(i128, i128)> = p
            .domains
            .iter()
            .map(|(lo, hi)| (*lo as i128, *hi as i128))
            .collect();
        let budget = Budget {
            learned: Rc::new(Cell::new(0)),
            limit: Rc::new(Cell::new(u64::MAX)),
        };
        let mut refuted = false;
        for (v, lo, hi) in bounds {
            let d = &mut domains[*v];
            *d = (d.0.max(*lo as i128), d.1.min(*hi as i128));
            refuted |= d.0 > d.1;
        }
        let forms: Vec<&Form> = base.iter().map(|i| &p.formulas[*i]).collect();
        refuted = refuted || !propagate(&forms, &mut domains);
        let mut s = Session {
            solver: None,
            vars: Vec::new(),
            selectors: Vec::new(),
            domains,
            base: base.to_vec(),
            refuted,
            budget,
        };
        if refuted {
            return s;
        }
        #[cfg(test)]
        CONSTRUCTED.with(|c| c.set(c.get() + 1));
        let mut m = Model::default();
        let lim = SOLVER_LIMIT;
        let mvars: Vec<model::View<i64>> = s
            .domains
            .iter()
            .map(|(lo, hi)| {
                // Beyond ±2^62 the solver is not exact: the box is visible
                // to `boxed` and decides the scope.
                let (lo, hi) = ((*lo).clamp(-lim, lim) as i64, (*hi).clamp(-lim, lim) as i64);
                m.new_int_decision(lo..=hi)
            })
            .collect();
        let clamped: Vec<(i128, i128)> = s
            .domains
            .iter()
            .map(|(lo, hi)| ((*lo).clamp(-lim, lim), (*hi).clamp(-lim, lim)))
            .collect();
        let mut sel_model = Vec::new();
        for f in &p.formulas {
            let f = &simplify(f, &s.domains);
            if !postable(f, &clamped) {
                sel_model.push(Err(
                    "a constraint's intermediate values can leave the solver's 64-bit range"
                        .to_string(),
                ));
                continue;
            }
            let sel = m.new_bool_decision();
            let mut poster = Poster {
                m: &mut m,
                vars: &mvars,
                failed: false,
            };
            poster.post(f, sel);
            if poster.failed {
                // Refuted on its own at the root: never selectable.
                let _ = m.proposition(BoolFormula::from(!sel)).post();
            }
            sel_model.push(Ok(sel));
        }
        let Ok((mut solver, map)): Result<(Solver, LoweringMap), _> = m.lower().to_solver() else {
            // Every formula is behind a selector, so the model alone cannot
            // be refuted; a refusal here is not an answer.
            return s;
        };
        s.vars = mvars.iter().map(|v| map.get(&mut solver, *v)).collect();
        s.selectors = sel_model
            .into_iter()
            .map(|r| r.map(|b| map.get(&mut solver, b)))
            .collect();
        let l = s.budget.learned.clone();
        solver.set_learn_callback(Some(move |_c: &mut dyn Iterator<Item = Decision<bool>>| {
            l.set(l.get() + 1)
        }));
        let (l, lim) = (s.budget.learned.clone(), s.budget.limit.clone());
        solver.set_terminate_callback(Some(move || {
            if l.get() >= lim.get() {
                TerminationSignal::Terminate
            } else {
                TerminationSignal::Continue
            }
        }));
        s.solver = Some(solver);
        s
    }

    /// Propagation alone refuted the base formulas (under the bounds).
    pub fn refuted(&self) -> bool {
        self.refuted
    }

    /// Whether the solver searches domains narrower than what propagation
    /// left (they reach beyond ±2^62): an unsatisfiable answer is then only
    /// about that box.
    pub fn boxed(&self) -> bool {
        self.domains
            .iter()
            .any(|(lo, hi)| *lo < -SOLVER_LIMIT || *hi > SOLVER_LIMIT)
    }

    /// Decide the formulas `active` (a superset of the session's base) with
    /// the unknowns narrowed by `bounds`, using at most `*work` conflicts
    /// (decremented).
    pub fn query(
        &mut self,
        active: &[usize],
        bounds: &[(usize, i64, i64)],
        work: &mut u64,
    ) -> Answer {
        debug_assert!(self.base.iter().all(|b| active.contains(b)));
        if self.refuted {
            return Answer::Unsat(self.base.clone());
        }
        let mut assumptions = Vec::new();
        let mut owner = Vec::new();
        for i in active {
            match self.selectors.get(*i) {
                Some(Ok(s)) => {
                    assumptions.push(*s);
                    owner.push(Some(*i));
                }
                Some(Err(why)) => return Answer::Unrepresentable(why.clone()),
                None => return Answer::Unknown("the solver could not be initialised".into()),
            }
        }
        let Some(solver) = self.solver.as_mut() else {
            return Answer::Unknown("the solver could not be initialised".into());
        };
        for (v, lo, hi) in bounds {
            let x = self.vars[*v];
            let (dlo, dhi) = self.domains[*v];
            if (*lo as i128) > dhi || (*hi as i128) < dlo || lo > hi {
                // Outside what propagation left: no solution (base ⊆ active).
                return Answer::Unsat(self.base.clone());
            }
            if (*lo as i128) > dlo {
                assumptions.push(x.lit(solver, IntLitMeaning::GreaterEq(*lo)));
                owner.push(None);
            }
            if (*hi as i128) < dhi {
                assumptions.push(x.lit(solver, IntLitMeaning::Less(*hi + 1)));
                owner.push(None);
            }
        }
        self.budget.learned.set(0);
        self.budget.limit.set(*work);
        let vars = &self.vars;
        let mut values = None;
        let mut core = Vec::new();
        let status = solver
            .solve()
            .assuming(assumptions.iter().copied())
            .on_solution(|sol| values = Some(vars.iter().map(|v| Valuation::val(v, sol)).collect()))
            .on_failure(|chk: &dyn AssumptionChecker| {
                core = assumptions
                    .iter()
                    .zip(&owner)
                    .filter(|(a, _)| chk.fail(**a))
                    .filter_map(|(_, o)| *o)
                    .collect()
            })
            .satisfy();
        *work = work.saturating_sub(self.budget.learned.get());
        match (status, values) {
            (Status::Satisfied, Some(v)) => Answer::Sat(v),
            (Status::Unsatisfiable, _) => {
                let mut core: Vec<usize> = core;
                core.extend(self.base.iter().copied());
                core.sort_unstable();
                core.dedup();
                Answer::Unsat(core)
            }
            _ => Answer::Unknown("the solver budget was exhausted".into()),
        }
    }
}
