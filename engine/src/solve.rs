//! The one door to the constraint solver (pumpkin-solver, pinned). Φ
//! resolution states its questions as a `Problem` of integer unknowns and
//! formulas over linear terms; every query builds a fresh solver, so answers
//! do not depend on earlier queries.
//!
//! Pumpkin's domains are i32 and its linear propagators compute partial sums
//! in i32: a constraint is posted only when every partial sum it can form over
//! the current domains fits i32 (`safe`); otherwise the query answers
//! `Unknown` instead of risking an overflow. Work is counted in search-loop
//! polls (never time), so budgets are reproducible.

use pumpkin_conflict_resolvers::resolvers::ResolutionResolver;
use pumpkin_solver::core::results::{ProblemSolution, SatisfactionResult};
use pumpkin_solver::core::termination::TerminationCondition;
use pumpkin_solver::core::variables::{DomainId, Literal, TransformableVariable};
use pumpkin_solver::Solver;

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
pub fn assignments(domains: &[(i32, i32)]) -> Vec<Vec<i32>> {
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
    pub fn holds(&self, x: &[i32]) -> bool {
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

/// A satisfaction question: unknowns with i32 domains, and formulas.
#[derive(Clone, Debug)]
pub struct Problem {
    pub domains: Vec<(i32, i32)>,
    pub formulas: Vec<Form>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Sat(Vec<i32>),
    Unsat,
    /// Not decided: the budget ran out.
    Unknown(String),
    /// Not posed: the question leaves what the solver represents (i32).
    Unrepresentable(String),
}

/// Counts polls of the solver's search loop against a budget.
struct Polls<'a> {
    left: &'a mut u64,
    exhausted: bool,
}

impl TerminationCondition for Polls<'_> {
    fn should_stop(&mut self) -> bool {
        if *self.left == 0 {
            self.exhausted = true;
            return true;
        }
        *self.left -= 1;
        false
    }
}

fn fits(v: i128) -> bool {
    v >= i32::MIN as i128 && v <= i32::MAX as i128
}

/// Whether posting a multi-term atom can overflow pumpkin's i32 arithmetic
/// over these domains: each scaled view's bounds, and `rhs - Σ others` for
/// every term (the propagators' partial sums), must fit i32 (for `Eq` also
/// in the mirrored direction).
fn safe(lin: &Lin, rel: Rel, domains: &[(i32, i32)]) -> bool {
    if !fits(lin.c) || !fits(-lin.c) || lin.terms.iter().any(|(_, a)| !fits(*a) || !fits(-*a)) {
        return false;
    }
    let mut ranges = Vec::new();
    for (v, a) in &lin.terms {
        let (lo, hi) = domains[*v];
        let (x, y) = (a * lo as i128, a * hi as i128);
        if !fits(x) || !fits(y) || (rel == Rel::Eq && (!fits(-x) || !fits(-y))) {
            return false;
        }
        ranges.push((x.min(y), x.max(y)));
    }
    let total_lo: i128 = ranges.iter().map(|r| r.0).sum();
    let total_hi: i128 = ranges.iter().map(|r| r.1).sum();
    let rhs = -lin.c;
    ranges.iter().all(|(lo, hi)| {
        let (others_lo, others_hi) = (total_lo - lo, total_hi - hi);
        let ok = fits(rhs - others_lo) && fits(rhs - others_hi);
        ok && (rel != Rel::Eq || (fits(-rhs + others_lo) && fits(-rhs + others_hi)))
    })
}

fn atoms<'f>(f: &'f Form, out: &mut Vec<(&'f Lin, Rel)>) {
    match f {
        Form::Atom(l, r) if l.terms.len() > 1 => out.push((l, *r)),
        Form::And(fs) | Form::Or(fs) => fs.iter().for_each(|g| atoms(g, out)),
        _ => {}
    }
}

/// Whether every multi-term atom of these formulas is safe over `domains`
/// (single-term atoms become domain bounds or predicates, always exact).
pub fn representable(formulas: &[&Form], domains: &[(i32, i32)]) -> bool {
    let mut all = Vec::new();
    for f in formulas {
        atoms(f, &mut all);
    }
    all.iter().all(|(l, r)| safe(l, *r, domains))
}

/// `a·x + c REL 0` for one unknown, as an exact statement about x.
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

/// Flatten top-level conjunctions.
fn conjuncts<'f>(f: &'f Form, out: &mut Vec<&'f Form>) {
    match f {
        Form::And(fs) => fs.iter().for_each(|g| conjuncts(g, out)),
        other => out.push(other),
    }
}

fn clamp(v: i128) -> i32 {
    v.clamp(i32::MIN as i128, i32::MAX as i128) as i32
}

struct Poster<'s> {
    solver: &'s mut Solver,
    vars: &'s [DomainId],
    tag: pumpkin_solver::core::proof::ConstraintTag,
}

impl Poster<'_> {
    /// A literal equivalent to a single-unknown (or constant) atom.
    fn unary_literal(&mut self, l: &Lin, rel: Rel) -> Literal {
        use pumpkin_solver::core::predicate;
        let Some(&(v, a)) = l.terms.first() else {
            let holds = match rel {
                Rel::Le => l.c <= 0,
                Rel::Eq => l.c == 0,
                Rel::Ne => l.c != 0,
            };
            return if holds {
                self.solver.get_true_literal()
            } else {
                self.solver.get_false_literal()
            };
        };
        let x = self.vars[v];
        let pred = match unary(a, l.c, rel) {
            Unary::Const(true) => return self.solver.get_true_literal(),
            Unary::Const(false) => return self.solver.get_false_literal(),
            Unary::Le(b) if b >= i32::MAX as i128 => return self.solver.get_true_literal(),
            Unary::Le(b) if b < i32::MIN as i128 => return self.solver.get_false_literal(),
            Unary::Ge(b) if b <= i32::MIN as i128 => return self.solver.get_true_literal(),
            Unary::Ge(b) if b > i32::MAX as i128 => return self.solver.get_false_literal(),
            Unary::Is(b) | Unary::Not(b) if !fits(b) => {
                return if matches!(unary(a, l.c, rel), Unary::Is(_)) {
                    self.solver.get_false_literal()
                } else {
                    self.solver.get_true_literal()
                }
            }
            Unary::Le(b) => {
                let b = b as i32;
                predicate![x <= b]
            }
            Unary::Ge(b) => {
                let b = b as i32;
                predicate![x >= b]
            }
            Unary::Is(b) => {
                let b = b as i32;
                predicate![x == b]
            }
            Unary::Not(b) => {
                let b = b as i32;
                predicate![x != b]
            }
        };
        self.solver.new_literal_for_predicate(pred, self.tag)
    }

    fn post(&mut self, f: &Form, guard: Option<Literal>) {
        match f {
            Form::Const(true) => {}
            Form::Const(false) => {
                let clause: Vec<_> = guard
                    .map(|g| (!g).get_true_predicate())
                    .into_iter()
                    .collect();
                self.solver.add_clause(clause, self.tag);
            }
            Form::Atom(l, rel) if l.terms.len() <= 1 => {
                let lit = self.unary_literal(l, *rel);
                let mut clause = vec![lit.get_true_predicate()];
                if let Some(g) = guard {
                    clause.push((!g).get_true_predicate());
                }
                self.solver.add_clause(clause, self.tag);
            }
            Form::Atom(l, rel) => {
                let terms: Vec<_> = l
                    .terms
                    .iter()
                    .map(|(v, a)| self.vars[*v].scaled(*a as i32))
                    .collect();
                let rhs = (-l.c) as i32;
                let tag = self.tag;
                macro_rules! add {
                    ($c:expr) => {
                        match guard {
                            Some(g) => self.solver.add_constraint($c).implied_by(g),
                            None => self.solver.add_constraint($c).post(),
                        }
                    };
                }
                match rel {
                    Rel::Le => add!(pumpkin_constraints::less_than_or_equals(terms, rhs, tag)),
                    Rel::Eq => add!(pumpkin_constraints::equals(terms, rhs, tag)),
                    Rel::Ne => add!(pumpkin_constraints::not_equals(terms, rhs, tag)),
                }
            }
            Form::And(fs) => fs.iter().for_each(|g| self.post(g, guard)),
            Form::Or(fs) => {
                let lits: Vec<Literal> = fs.iter().map(|_| self.solver.new_literal()).collect();
                for (g, l) in fs.iter().zip(&lits) {
                    self.post(g, Some(*l));
                }
                let mut clause: Vec<_> = lits.iter().map(|l| l.get_true_predicate()).collect();
                if let Some(g) = guard {
                    clause.push((!g).get_true_predicate());
                }
                self.solver.add_clause(clause, self.tag);
            }
        }
    }
}

/// Decide the formulas `active` of `p` with the unknowns' domains narrowed by
/// `bounds`. Uses at most `*polls` search-loop polls, decrementing it.
pub fn solve(
    p: &Problem,
    active: &[usize],
    bounds: &[(usize, i32, i32)],
    polls: &mut u64,
) -> Answer {
    let mut domains = p.domains.clone();
    for (v, lo, hi) in bounds {
        let d = &mut domains[*v];
        *d = ((*lo).max(d.0), (*hi).min(d.1));
        if d.0 > d.1 {
            return Answer::Unsat;
        }
    }
    // Top-level single-unknown atoms become exact domain bounds.
    let mut flat = Vec::new();
    for i in active {
        conjuncts(&p.formulas[*i], &mut flat);
    }
    let mut forms: Vec<&Form> = Vec::new();
    for f in flat {
        match f {
            Form::Const(true) => {}
            Form::Const(false) => return Answer::Unsat,
            Form::Atom(l, rel) if l.terms.len() == 1 && *rel != Rel::Ne => {
                let (v, a) = l.terms[0];
                let d = &mut domains[v];
                match unary(a, l.c, *rel) {
                    Unary::Le(b) if b < d.0 as i128 => return Answer::Unsat,
                    Unary::Ge(b) if b > d.1 as i128 => return Answer::Unsat,
                    Unary::Le(b) => d.1 = d.1.min(clamp(b)),
                    Unary::Ge(b) => d.0 = d.0.max(clamp(b)),
                    Unary::Is(b) if fits(b) => *d = (d.0.max(b as i32), d.1.min(b as i32)),
                    Unary::Const(true) | Unary::Not(_) => {}
                    _ => return Answer::Unsat,
                }
                if d.0 > d.1 {
                    return Answer::Unsat;
                }
            }
            other => forms.push(other),
        }
    }
    // Pumpkin tracks predicates by domain width, which must itself fit i32.
    if domains
        .iter()
        .any(|(lo, hi)| *hi as i64 - *lo as i64 > i32::MAX as i64)
    {
        return Answer::Unrepresentable(
            "an unknown's domain is wider than the solver's i32 range".into(),
        );
    }
    if !representable(&forms, &domains) {
        return Answer::Unrepresentable(
            "a constraint's intermediate values can leave the solver's i32 range".into(),
        );
    }
    let mut solver = Solver::default();
    let vars: Vec<DomainId> = domains
        .iter()
        .map(|(lo, hi)| solver.new_bounded_integer(*lo, *hi))
        .collect();
    let tag = solver.new_constraint_tag();
    let mut poster = Poster {
        solver: &mut solver,
        vars: &vars,
        tag,
    };
    for f in &forms {
        poster.post(f, None);
    }
    let mut brancher = solver.default_brancher();
    let mut resolver = ResolutionResolver::default();
    let mut term = Polls {
        left: polls,
        exhausted: false,
    };
    let result = solver.satisfy(&mut brancher, &mut term, &mut resolver);
    let answer = match result {
        SatisfactionResult::Satisfiable(s) => Answer::Sat(
            vars.iter()
                .map(|v| s.solution().get_integer_value(*v))
                .collect(),
        ),
        SatisfactionResult::Unsatisfiable(..) => Answer::Unsat,
        SatisfactionResult::Unknown(..) => {
            Answer::Unknown("the solver budget was exhausted".into())
        }
    };
    if term.exhausted {
        return Answer::Unknown("the solver budget was exhausted".into());
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(terms: &[(usize, i128)], c: i128) -> Form {
        Form::Atom(
            Lin {
                terms: terms.to_vec(),
                c,
            },
            Rel::Le,
        )
    }

    #[test]
    fn decides_small_problems() {
        let full = (i32::MIN, i32::MAX);
        // x ≥ 11 ∧ x ≤ -1: unsatisfiable.
        // Unary constraints narrow a full domain exactly before the solver sees it.
        let p = Problem {
            domains: vec![full],
            formulas: vec![le(&[(0, -1)], 11), le(&[(0, 1)], 1)],
        };
        assert_eq!(solve(&p, &[0, 1], &[], &mut 100_000), Answer::Unsat);
        // x ≥ 11 alone is satisfiable, and the model satisfies it.
        match solve(&p, &[0], &[], &mut 100_000) {
            Answer::Sat(m) => assert!(m[0] >= 11),
            other => panic!("{other:?}"),
        }
        // Disjunction: x ≤ -5 ∨ x ≥ 5, with x ∈ [-1, 6] forces x ∈ {5, 6}.
        let p = Problem {
            domains: vec![(-1, 6)],
            formulas: vec![Form::Or(vec![le(&[(0, 1)], 5), le(&[(0, -1)], 5)])],
        };
        match solve(&p, &[0], &[], &mut 100_000) {
            Answer::Sat(m) => assert!(m[0] >= 5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_what_could_overflow() {
        let full = (i32::MIN, i32::MAX);
        // x + y ≥ 11 over two full i32 domains: partial sums (and the
        // domains' widths) leave i32.
        let p = Problem {
            domains: vec![full, full],
            formulas: vec![le(&[(0, -1), (1, -1)], 11)],
        };
        assert!(matches!(
            solve(&p, &[0], &[], &mut 100_000),
            Answer::Unrepresentable(_)
        ));
        // The same within ±2^29 is fine.
        let b = 1 << 29;
        assert!(matches!(
            solve(&p, &[0], &[(0, -b, b), (1, -b, b)], &mut 100_000),
            Answer::Sat(_)
        ));
    }
}

#[cfg(test)]
mod agreement {
    use super::*;

    /// Random small problems: the solver's verdict agrees with brute force,
    /// and every model it returns satisfies the formulas.
    #[test]
    fn solver_agrees_with_brute_force() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut unsat = 0;
        for _ in 0..300 {
            let nvars = 1 + next(3) as usize;
            let domains: Vec<(i32, i32)> = (0..nvars)
                .map(|_| (-(next(5) as i32), next(5) as i32))
                .collect();
            let atom = |next: &mut dyn FnMut(u64) -> u64| {
                let k = 1 + next(nvars as u64) as usize;
                let mut terms: Vec<(usize, i128)> = (0..k)
                    .map(|_| (next(nvars as u64) as usize, next(7) as i128 - 3))
                    .collect();
                terms.sort();
                terms.dedup_by_key(|t| t.0);
                terms.retain(|t| t.1 != 0);
                let rel = [Rel::Le, Rel::Eq, Rel::Ne][next(3) as usize];
                Form::Atom(
                    Lin {
                        terms,
                        c: next(13) as i128 - 6,
                    },
                    rel,
                )
            };
            let nforms = 1 + next(4) as usize;
            let formulas: Vec<Form> = (0..nforms)
                .map(|_| {
                    if next(3) == 0 {
                        Form::Or(vec![atom(&mut next), atom(&mut next)])
                    } else {
                        atom(&mut next)
                    }
                })
                .collect();
            let p = Problem {
                domains: domains.clone(),
                formulas: formulas.clone(),
            };
            let active: Vec<usize> = (0..nforms).collect();
            // Brute force.
            let exists = assignments(&domains)
                .iter()
                .any(|x| formulas.iter().all(|f| f.holds(x)));
            match solve(&p, &active, &[], &mut 1_000_000) {
                Answer::Sat(m) => {
                    assert!(exists, "solver found a model brute force does not: {p:?}");
                    assert!(
                        formulas.iter().all(|f| f.holds(&m)),
                        "model {m:?} violates {p:?}"
                    );
                    assert!(m
                        .iter()
                        .zip(&domains)
                        .all(|(v, (lo, hi))| lo <= v && v <= hi));
                }
                Answer::Unsat => {
                    unsat += 1;
                    assert!(
                        !exists,
                        "solver says unsat, brute force finds a model: {p:?}"
                    )
                }
                other => panic!("{other:?} for {p:?}"),
            }
        }
        // Both verdicts occur, so the comparison tests something.
        assert!(unsat > 20 && unsat < 280, "{unsat} unsatisfiable of 300");
    }
}
