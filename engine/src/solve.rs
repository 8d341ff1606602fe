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
#[cfg(test)]
pub fn propagate(forms: &[&Form], domains: &mut [(i128, i128)]) -> bool {
    propagation(forms, domains) != Propagation::Refuted
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Propagation {
    Refuted,
    /// A fixed point: nothing more follows from bounds.
    Fixpoint,
    /// Still narrowing after the last round (a cycle of constraints
    /// approaching a contradiction step by step, say).
    Capped,
}

/// Bounds propagation (see [`propagate`]), saying how it ended.
fn propagation(forms: &[&Form], domains: &mut [(i128, i128)]) -> Propagation {
    let mut atoms: Vec<(&Lin, Rel)> = Vec::new();
    for f in forms {
        let mut flat = Vec::new();
        conjuncts(f, &mut flat);
        for g in flat {
            match g {
                Form::Const(false) => return Propagation::Refuted,
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
                    return Propagation::Refuted;
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
                        return Propagation::Refuted;
                    }
                }
            }
        }
        if !changed {
            return Propagation::Fixpoint;
        }
    }
    Propagation::Capped
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

/// A row `Σ aᵢxᵢ + c ≤ 0` (terms sorted by unknown, no zero coefficient).
type Row = (Vec<(usize, i128)>, i128);

/// Work caps of [`refute`]: rows kept, and combinations per elimination.
const FM_MAX_ROWS: usize = 2000;
const FM_MAX_PAIRS: usize = 20_000;
/// Coefficients stay far from i128's ends.
const FM_MAX_COEF: i128 = 1 << 96;

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

/// Divide by the coefficients' gcd, rounding the constant the way integer
/// solutions allow: `Σ aᵢxᵢ ≤ -c` becomes `Σ (aᵢ/g)xᵢ ≤ ⌊-c/g⌋`.
fn normalize((terms, c): Row) -> Row {
    let g = terms.iter().fold(0, |g, (_, a)| gcd(g, *a));
    if g <= 1 {
        return (terms, c);
    }
    (
        terms.into_iter().map(|(v, a)| (v, a / g)).collect(),
        -((-c).div_euclid(g)),
    )
}

/// Whether Fourier–Motzkin elimination, with the integer tightening of
/// [`normalize`], derives `0 < 0` from the top-level linear atoms and the
/// domains: a sound refutation over the integers. It catches what bounds
/// propagation only approaches step by step (`x < y ∧ y < x` over wide
/// domains, which would also make the solver's propagation crawl). Bounded
/// by caps; past them it proves nothing.
pub fn refute(forms: &[&Form], domains: &[(i128, i128)]) -> bool {
    let mut rows: Vec<Row> = Vec::new();
    for f in forms {
        let mut flat = Vec::new();
        conjuncts(f, &mut flat);
        for g in flat {
            match g {
                Form::Const(false) => return true,
                Form::Atom(l, Rel::Le) => rows.push((l.terms.clone(), l.c)),
                Form::Atom(l, Rel::Eq) => {
                    rows.push((l.terms.clone(), l.c));
                    let n = l.scale(-1);
                    rows.push((n.terms, n.c));
                }
                _ => {}
            }
        }
    }
    let mut used: Vec<usize> = rows.iter().flat_map(|r| r.0.iter().map(|t| t.0)).collect();
    used.sort_unstable();
    used.dedup();
    for v in &used {
        let (lo, hi) = domains[*v];
        rows.push((vec![(*v, 1)], -hi));
        rows.push((vec![(*v, -1)], lo));
    }
    let mut rows: Vec<Row> = rows.into_iter().map(normalize).collect();
    loop {
        rows.sort();
        rows.dedup();
        if rows.iter().any(|(t, c)| t.is_empty() && *c > 0) {
            return true;
        }
        rows.retain(|(t, _)| !t.is_empty());
        if rows.is_empty() || rows.len() > FM_MAX_ROWS {
            return false;
        }
        // Eliminate the unknown that makes the fewest combinations.
        let mut vars: Vec<usize> = rows.iter().flat_map(|r| r.0.iter().map(|t| t.0)).collect();
        vars.sort_unstable();
        vars.dedup();
        let coef = |r: &Row, v: usize| r.0.iter().find(|t| t.0 == v).map_or(0, |t| t.1);
        let Some((v, pairs)) = vars
            .iter()
            .map(|v| {
                let p = rows.iter().filter(|r| coef(r, *v) > 0).count();
                let n = rows.iter().filter(|r| coef(r, *v) < 0).count();
                (*v, p * n)
            })
            .min_by_key(|(v, pairs)| (*pairs, *v))
        else {
            return false;
        };
        if pairs > FM_MAX_PAIRS {
            return false;
        }
        let (with, mut next): (Vec<Row>, Vec<Row>) =
            rows.into_iter().partition(|r| coef(r, v) != 0);
        for p in with.iter().filter(|r| coef(r, v) > 0) {
            for n in with.iter().filter(|r| coef(r, v) < 0) {
                let (ap, an) = (coef(p, v), -coef(n, v));
                let g = gcd(ap, an);
                let (kp, kn) = (an / g, ap / g);
                let mut terms: Vec<(usize, i128)> = Vec::new();
                let mut ok = true;
                for (w, a) in
                    p.0.iter()
                        .map(|(w, a)| (w, a.checked_mul(kp)))
                        .chain(n.0.iter().map(|(w, a)| (w, a.checked_mul(kn))))
                {
                    let Some(a) = a else {
                        ok = false;
                        break;
                    };
                    match terms.iter_mut().find(|t| t.0 == *w) {
                        Some(t) => match t.1.checked_add(a) {
                            Some(s) => t.1 = s,
                            None => ok = false,
                        },
                        None => terms.push((*w, a)),
                    }
                }
                let c =
                    p.1.checked_mul(kp)
                        .zip(n.1.checked_mul(kn))
                        .and_then(|(x, y)| x.checked_add(y));
                let Some(c) = c.filter(|_| ok) else {
                    return false;
                };
                terms.retain(|t| t.1 != 0);
                terms.sort_unstable();
                if terms.iter().any(|t| t.1.abs() > FM_MAX_COEF) || c.abs() > FM_MAX_COEF {
                    return false;
                }
                next.push(normalize((terms, c)));
            }
        }
        rows = next;
    }
}

/// Whether the formulas are refuted over the domains without search:
/// bounds propagation (narrowing `domains`), then, when propagation is
/// still narrowing at its round limit, Fourier–Motzkin. Exact: both are
/// sound over the integers. Every query goes through it first, so the
/// solver never meets a refutation it could only approach one step at a
/// time.
pub fn presolve(forms: &[&Form], domains: &mut [(i128, i128)]) -> bool {
    match propagation(forms, domains) {
        Propagation::Refuted => true,
        Propagation::Fixpoint => false,
        Propagation::Capped => refute(forms, domains),
    }
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
    /// The question's formulas, for the per-query pre-check.
    formulas: Vec<Form>,
    /// Search near zero first (see `with_probe`).
    probe: bool,
    budget: Budget,
}

// How many solvers were built (tests check one per question).
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
        refuted = refuted || presolve(&forms, &mut domains) || refute(&forms, &domains);
        let mut s = Session {
            solver: None,
            vars: Vec::new(),
            selectors: Vec::new(),
            domains,
            base: base.to_vec(),
            refuted,
            formulas: p.formulas.clone(),
            probe: false,
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

    /// Search a box of ±2^10 first in every query: for the many small
    /// sub-questions of the minimal-set search, where a subset that lost
    /// its bounds leaves the solver wide domains to crawl through.
    pub fn with_probe(mut self) -> Session {
        self.probe = true;
        self
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
                    owner.push(Owner::Formula(*i));
                }
                Some(Err(why)) => return Answer::Unrepresentable(why.clone()),
                None => return Answer::Unknown("the solver could not be initialised".into()),
            }
        }
        let Some(solver) = self.solver.as_mut() else {
            return Answer::Unknown("the solver could not be initialised".into());
        };
        // Formulas outside the query are switched off, not left free: the
        // search must never enforce one of them (a free selector set true
        // could also send propagation crawling through a refuted cycle).
        for (i, sel) in self.selectors.iter().enumerate() {
            if let (Ok(sel), false) = (sel, active.contains(&i)) {
                assumptions.push(!*sel);
                owner.push(Owner::Query);
            }
        }
        for (v, lo, hi) in bounds {
            let x = self.vars[*v];
            let (dlo, dhi) = self.domains[*v];
            if (*lo as i128) > dhi || (*hi as i128) < dlo || lo > hi {
                // Outside what propagation left: no solution (base ⊆ active).
                return Answer::Unsat(self.base.clone());
            }
            if (*lo as i128) > dlo {
                assumptions.push(x.lit(solver, IntLitMeaning::GreaterEq(*lo)));
                owner.push(Owner::Query);
            }
            if (*hi as i128) < dhi {
                assumptions.push(x.lit(solver, IntLitMeaning::Less(*hi + 1)));
                owner.push(Owner::Query);
            }
        }
        // The same exact pre-check as at construction, for this query.
        let mut narrowed = self.domains.clone();
        for (v, lo, hi) in bounds {
            let d = &mut narrowed[*v];
            *d = (d.0.max(*lo as i128), d.1.min(*hi as i128));
        }
        let forms: Vec<&Form> = active.iter().map(|i| &self.formulas[*i]).collect();
        if presolve(&forms, &mut narrowed) {
            let mut core: Vec<usize> = active.to_vec();
            core.sort_unstable();
            return Answer::Unsat(core);
        }
        // First inside a small box around zero (as assumptions): over wide
        // domains the solver's propagation can crawl one value at a time,
        // while most questions have small solutions. A model found there is
        // a model; a refutation that did not use the box is a refutation.
        // Only otherwise is the whole domain searched.
        let mut probe = assumptions.clone();
        let mut probe_owner = owner.clone();
        for (v, x) in self.vars.iter().enumerate().filter(|_| self.probe) {
            let (lo, hi) = narrowed[v];
            if hi - lo > 2 * PROBE_BOX {
                if lo < -PROBE_BOX {
                    probe.push(x.lit(solver, IntLitMeaning::GreaterEq(-PROBE_BOX as i64)));
                    probe_owner.push(Owner::Probe);
                }
                if hi > PROBE_BOX {
                    probe.push(x.lit(solver, IntLitMeaning::Less(PROBE_BOX as i64 + 1)));
                    probe_owner.push(Owner::Probe);
                }
            }
        }
        let probed = probe.len() > assumptions.len();
        if probed {
            match run(solver, &self.vars, &self.budget, &probe, &probe_owner, work) {
                Run::Sat(v) => return Answer::Sat(v),
                Run::Unsat { core, probe: false } => return self.unsat(core),
                Run::Unknown => return Answer::Unknown("the solver budget was exhausted".into()),
                Run::Unsat { probe: true, .. } => {}
            }
        }
        match run(solver, &self.vars, &self.budget, &assumptions, &owner, work) {
            Run::Sat(v) => Answer::Sat(v),
            Run::Unsat { core, .. } => self.unsat(core),
            Run::Unknown => Answer::Unknown("the solver budget was exhausted".into()),
        }
    }

    /// An unsatisfiable answer: the core's formulas and the base (whose
    /// propagation narrowed the domains the refutation used).
    fn unsat(&self, mut core: Vec<usize>) -> Answer {
        core.extend(self.base.iter().copied());
        core.sort_unstable();
        core.dedup();
        Answer::Unsat(core)
    }
}

/// Half-width of the box a query first searches.
const PROBE_BOX: i128 = 1 << 10;

/// What an assumption stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Formula(usize),
    /// A bound of the query, or a formula switched off.
    Query,
    /// The probing box.
    Probe,
}

enum Run {
    Sat(Vec<i64>),
    /// The formulas of the refutation, and whether it used the probe box.
    Unsat {
        core: Vec<usize>,
        probe: bool,
    },
    Unknown,
}

/// One solver call under assumptions, within `*work` conflicts.
fn run(
    solver: &mut Solver,
    vars: &[View<i64>],
    budget: &Budget,
    assumptions: &[View<bool>],
    owner: &[Owner],
    work: &mut u64,
) -> Run {
    budget.learned.set(0);
    budget.limit.set(*work);
    let mut values = None;
    let mut failed: Vec<Owner> = Vec::new();
    let status = solver
        .solve()
        .assuming(assumptions.iter().copied())
        .on_solution(|sol| values = Some(vars.iter().map(|v| Valuation::val(v, sol)).collect()))
        .on_failure(|chk: &dyn AssumptionChecker| {
            failed = assumptions
                .iter()
                .zip(owner)
                .filter(|(a, _)| chk.fail(**a))
                .map(|(_, o)| *o)
                .collect()
        })
        .satisfy();
    *work = work.saturating_sub(budget.learned.get());
    match (status, values) {
        (Status::Satisfied, Some(v)) => Run::Sat(v),
        (Status::Unsatisfiable, _) => Run::Unsat {
            probe: failed.contains(&Owner::Probe),
            core: failed
                .iter()
                .filter_map(|o| match o {
                    Owner::Formula(i) => Some(*i),
                    _ => None,
                })
                .collect(),
        },
        _ => Run::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift: reproducible random problems.
    fn rng(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        }
    }

    fn decide(p: &Problem) -> Answer {
        let all: Vec<usize> = (0..p.formulas.len()).collect();
        Session::new(p, &all, &[]).query(&all, &[], &mut 1_000_000)
    }

    fn atom(terms: Vec<(usize, i128)>, c: i128, rel: Rel) -> Form {
        let mut terms = terms;
        terms.sort();
        terms.dedup_by_key(|t| t.0);
        terms.retain(|t| t.1 != 0);
        Form::Atom(Lin { terms, c }, rel)
    }

    /// Random small problems: the verdict agrees with brute force, every
    /// model satisfies the formulas, and every core is itself refuted.
    #[test]
    fn solver_agrees_with_brute_force() {
        let mut next = rng(0x2545_f491_4f6c_dd1d);
        let mut unsat = 0;
        for _ in 0..300 {
            let n = 1 + next(3) as usize;
            let domains: Vec<(i64, i64)> = (0..n)
                .map(|_| (-(next(5) as i64), next(5) as i64))
                .collect();
            let one = |next: &mut dyn FnMut(u64) -> u64| {
                let k = 1 + next(n as u64) as usize;
                let terms = (0..k)
                    .map(|_| (next(n as u64) as usize, next(7) as i128 - 3))
                    .collect();
                atom(
                    terms,
                    next(13) as i128 - 6,
                    [Rel::Le, Rel::Eq, Rel::Ne][next(3) as usize],
                )
            };
            let nforms = 1 + next(4) as usize;
            let formulas: Vec<Form> = (0..nforms)
                .map(|_| {
                    if next(3) == 0 {
                        Form::Or(vec![one(&mut next), one(&mut next)])
                    } else {
                        one(&mut next)
                    }
                })
                .collect();
            let p = Problem {
                domains: domains.clone(),
                formulas: formulas.clone(),
            };
            let holds = |set: &[usize], x: &[i64]| set.iter().all(|i| formulas[*i].holds(x));
            let all: Vec<usize> = (0..nforms).collect();
            let exists = |set: &[usize]| assignments(&domains).iter().any(|x| holds(set, x));
            match decide(&p) {
                Answer::Sat(m) => {
                    assert!(holds(&all, &m), "model {m:?} violates {p:?}");
                    assert!(m
                        .iter()
                        .zip(&domains)
                        .all(|(v, (lo, hi))| lo <= v && v <= hi));
                }
                Answer::Unsat(core) => {
                    unsat += 1;
                    assert!(!exists(&all), "unsat, brute force finds a model: {p:?}");
                    assert!(!exists(&core), "core {core:?} is satisfiable: {p:?}");
                }
                other => panic!("{other:?} for {p:?}"),
            }
        }
        assert!(unsat > 20 && unsat < 280, "{unsat} unsatisfiable of 300");
    }

    /// i32-wide domains, random linear atoms that hold at a planted point:
    /// always satisfiable, and the model found satisfies every atom.
    #[test]
    fn planted_solutions_are_found_on_i32_wide_domains() {
        let mut next = rng(0x9e37_79b9_7f4a_7c15);
        let wide = (i32::MIN as i64, i32::MAX as i64);
        for _ in 0..200 {
            let n = 2 + next(4) as usize;
            let point: Vec<i64> = (0..n).map(|_| next(1 << 32) as i64 - (1 << 31)).collect();
            let formulas: Vec<Form> = (0..1 + next(5))
                .map(|_| {
                    let terms: Vec<(usize, i128)> = (0..2 + next(2))
                        .map(|_| (next(n as u64) as usize, next(21) as i128 - 10))
                        .collect();
                    let mut t = terms.clone();
                    t.sort();
                    t.dedup_by_key(|x| x.0);
                    let value: i128 = t.iter().map(|(v, a)| a * point[*v] as i128).sum();
                    match next(3) {
                        0 => atom(terms, -value, Rel::Eq),
                        1 => atom(terms, -value - next(1000) as i128, Rel::Le),
                        _ => atom(terms, -value + 1 + next(5) as i128, Rel::Ne),
                    }
                })
                .collect();
            let p = Problem {
                domains: vec![wide; n],
                formulas: formulas.clone(),
            };
            assert!(
                formulas.iter().all(|f| f.holds(&point)),
                "planted point holds"
            );
            match decide(&p) {
                Answer::Sat(m) => assert!(formulas.iter().all(|f| f.holds(&m)), "{m:?} {p:?}"),
                other => panic!("{other:?} for a problem with a planted solution: {p:?}"),
            }
        }
    }

    /// i32-wide domains, planted contradictions (cycles of strict orders,
    /// a sum bounded on both sides the wrong way, even = odd, and the
    /// issue's textbook questions), mixed with satisfiable noise: always
    /// refuted, never undetermined.
    #[test]
    fn planted_contradictions_are_refuted_on_i32_wide_domains() {
        let mut next = rng(0xdead_beef_cafe_f00d);
        let wide = (i32::MIN as i64, i32::MAX as i64);
        for round in 0..120 {
            let n = 3 + next(4) as usize;
            let mut formulas = Vec::new();
            match round % 4 {
                0 => {
                    // x0 < x1 < … < xk < x0 (through random unknowns)
                    let k = 2 + next(n as u64 - 1) as usize;
                    for i in 0..k {
                        let (a, b) = (i, (i + 1) % k);
                        formulas.push(atom(vec![(a, 1), (b, -1)], 1, Rel::Le));
                    }
                }
                1 => {
                    // s ≥ K and 2s ≤ 2K - 2, s a random linear form
                    let terms: Vec<(usize, i128)> =
                        (0..2).map(|i| (i, 1 + next(9) as i128)).collect();
                    let k = next(1 << 20) as i128;
                    let neg: Vec<(usize, i128)> = terms.iter().map(|(v, a)| (*v, -a)).collect();
                    formulas.push(atom(neg, k, Rel::Le));
                    let dbl: Vec<(usize, i128)> = terms.iter().map(|(v, a)| (*v, 2 * a)).collect();
                    formulas.push(atom(dbl, -(2 * k - 2), Rel::Le));
                }
                2 => {
                    // 2x + 4y = odd
                    formulas.push(atom(
                        vec![(0, 2), (1, 4)],
                        1 + 2 * next(1000) as i128,
                        Rel::Eq,
                    ));
                }
                _ => {
                    // a > 5, b < 3, a < b; 3x + 5y = 1, x ≥ 0, y ≥ 0
                    formulas.push(atom(vec![(0, -1)], 6, Rel::Le));
                    formulas.push(atom(vec![(1, 1)], -2, Rel::Le));
                    formulas.push(atom(vec![(0, 1), (1, -1)], 1, Rel::Le));
                    formulas.push(atom(vec![(2, 3), (n - 1, 5)], -1, Rel::Eq));
                }
            }
            // Noise that some assignment satisfies with the rest relaxed.
            formulas.push(atom(vec![(n - 1, 1)], -(next(100) as i128), Rel::Ne));
            let p = Problem {
                domains: vec![wide; n],
                formulas,
            };
            assert!(
                matches!(decide(&p), Answer::Unsat(_)),
                "round {round}: {p:?}"
            );
        }
    }

    #[test]
    fn propagation_refutes_and_narrows_wide_i64_questions() {
        let full = (i64::MIN as i128, i64::MAX as i128);
        // x + y = 1, x > 0, y > 0 over full i64 domains.
        let f = [
            atom(vec![(0, 1), (1, 1)], -1, Rel::Eq),
            atom(vec![(0, -1)], 1, Rel::Le),
            atom(vec![(1, -1)], 1, Rel::Le),
        ];
        let mut d = vec![full; 2];
        assert!(!propagate(&f.iter().collect::<Vec<_>>(), &mut d));
        // x + y = 10^12, x > 0, y > 0: narrowed into the solver's range.
        let f = [
            atom(vec![(0, 1), (1, 1)], -1_000_000_000_000, Rel::Eq),
            atom(vec![(0, -1)], 1, Rel::Le),
            atom(vec![(1, -1)], 1, Rel::Le),
        ];
        let mut d = vec![full; 2];
        assert!(propagate(&f.iter().collect::<Vec<_>>(), &mut d));
        assert_eq!(d, vec![(1, 999_999_999_999); 2]);
    }

    /// Beyond ±2^62 nothing is posted: the query is unrepresentable (the
    /// caller then searches a box and reports its scope), never answered.
    #[test]
    fn the_guard_refuses_what_could_overflow() {
        let full = (i64::MIN, i64::MAX);
        let p = Problem {
            domains: vec![full, full],
            formulas: vec![atom(vec![(0, 1), (1, 1)], -(1 << 62) - 1, Rel::Le)],
        };
        assert!(matches!(decide(&p), Answer::Unrepresentable(_)));
        assert!(!safe(
            &Lin {
                terms: vec![(0, 3)],
                c: 0
            },
            &[(-(1 << 61), 1 << 61)]
        ));
        assert!(safe(
            &Lin {
                terms: vec![(0, 1), (1, 1)],
                c: 0
            },
            &[(-(1 << 61), 1 << 61); 2]
        ));
        assert!(!safe(
            &Lin {
                terms: vec![(0, 1), (1, 1)],
                c: 1
            },
            &[(-(1 << 61), 1 << 61); 2]
        ));
    }

    #[test]
    fn fourier_motzkin_tightens_to_integers() {
        let wide = (i32::MIN as i128, i32::MAX as i128);
        // 1 ≤ 3x - 3y ≤ 2: rationally feasible, no integer solution.
        let f = [
            atom(vec![(0, -3), (1, 3)], 1, Rel::Le),
            atom(vec![(0, 3), (1, -3)], -2, Rel::Le),
        ];
        assert!(refute(&f.iter().collect::<Vec<_>>(), &[wide, wide]));
        // 1 ≤ 3x - 3y ≤ 3 has x = y + 1.
        let f = [
            atom(vec![(0, -3), (1, 3)], 1, Rel::Le),
            atom(vec![(0, 3), (1, -3)], -3, Rel::Le),
        ];
        assert!(!refute(&f.iter().collect::<Vec<_>>(), &[wide, wide]));
    }
}
