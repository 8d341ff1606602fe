//! Φ resolution (brief 7): a Φ process entered without values for (some of)
//! its parameters asks whether an assignment of those unknowns exists. The
//! body runs symbolically through the Φ step rows into formulas over linear
//! terms (`symbolic`); one solver decides them (`solve`): the canonical
//! witness in the order of `07-phi.ron`, or a minimal inadmissible set.
//! An entry's witness is then run concretely (lib.rs).

mod resolve;
mod symbolic;

pub use resolve::*;
pub(crate) use symbolic::*;

use crate::solve::{self, Form, Lin, Outcome, Pref, Problem, Rel};
use crate::types::Ty;
use crate::validate::Compiled;
use crate::value::Value;
use dir_grammar::model::*;
use dir_grammar::print::expr_to_string;
use dir_grammar::Span;
use semantics::{Action, BooleanOrder, IntegerOrder, PrimKind, Tables};
use std::collections::BTreeMap;

/// An unknown: one leaf of a parameter (`c.x`), in declaration order.
#[derive(Clone, Debug)]
pub struct Leaf {
    pub kind: LeafKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafKind {
    Int,
    Bool,
}

/// A constraint of the question, with where it came from.
#[derive(Clone, Debug)]
pub struct Constraint {
    pub stmt: usize,
    pub span: Span,
    pub text: String,
    /// Its formula includes evaluability conditions (no overflow, §5.2).
    pub evaluability: bool,
}

/// Why a question cannot be decided.
pub type Reason = String;

pub enum Resolution {
    /// Existence: the canonical witness (a value per unknown parameter) and
    /// the scope it was decided over (always the declared domains: "exact").
    Exists {
        args: Vec<Value>,
        scope: String,
    },
    /// Non-existence: a minimal inadmissible set (indices into `constraints`).
    NonExistent {
        mus: Vec<usize>,
        constraints: Vec<Constraint>,
        minimal: bool,
    },
    Undetermined(Reason),
}

/// The question a Φ process asks, ready for the solver.
pub struct Question {
    /// How each unknown parameter's value is rebuilt, in parameter order.
    pub templates: Vec<Template>,
    pub leaves: Vec<Leaf>,
    pub problem: Problem,
    pub constraints: Vec<Constraint>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::solve::Lin;

    /// 0, 1, -1, 2, -2, ...
    fn key(v: i64) -> (u64, bool) {
        (v.unsigned_abs(), v < 0)
    }

    /// The canonical witness is the lexicographically first satisfying
    /// assignment in the witness order, and every minimal set is minimal,
    /// on random small problems checked by brute force.
    #[test]
    fn witnesses_and_minimal_sets_match_brute_force() {
        let tables = Tables::defaults().unwrap();
        let mut rng = crate::solve::tests::Rng(0x9e37_79b9_7f4a_7c15);
        let mut next = move |n: u64| rng.next(n);
        let (mut sat, mut unsat) = (0, 0);
        for _ in 0..150 {
            let n = 1 + next(3) as usize;
            let domains: Vec<(i64, i64)> = (0..n)
                .map(|_| (-(next(4) as i64) - 1, next(4) as i64 + 1))
                .collect();
            let nf = 1 + next(4) as usize;
            let formulas: Vec<Form> = (0..nf)
                .map(|_| {
                    let k = 1 + next(n as u64) as usize;
                    let mut terms: Vec<(usize, i128)> = (0..k)
                        .map(|_| (next(n as u64) as usize, next(5) as i128 - 2))
                        .collect();
                    terms.sort();
                    terms.dedup_by_key(|t| t.0);
                    terms.retain(|t| t.1 != 0);
                    let rel = [Rel::Le, Rel::Le, Rel::Eq, Rel::Ne][next(4) as usize];
                    Form::Atom(
                        Lin {
                            terms,
                            c: next(9) as i128 - 4,
                        },
                        rel,
                    )
                })
                .collect();
            let q = Question {
                templates: (0..n).map(Template::Int).collect(),
                leaves: (0..n)
                    .map(|_| Leaf {
                        kind: LeafKind::Int,
                    })
                    .collect(),
                problem: Problem {
                    domains: domains.clone(),
                    formulas: formulas.clone(),
                },
                constraints: (0..nf)
                    .map(|i| Constraint {
                        stmt: i,
                        span: Span::default(),
                        text: format!("#{i}"),
                        evaluability: false,
                    })
                    .collect(),
            };
            let all = crate::solve::assignments(&domains);
            let sat_under = |set: &[usize]| {
                all.iter()
                    .any(|x| set.iter().all(|i| formulas[*i].holds(x)))
            };
            let best = all
                .iter()
                .filter(|x| formulas.iter().all(|f| f.holds(x)))
                .min_by_key(|x| x.iter().map(|v| key(*v)).collect::<Vec<_>>())
                .cloned();
            match (resolve(&tables, &q, None, &mut Pool::default()), best) {
                (Resolution::Exists { args, scope }, Some(b)) => {
                    sat += 1;
                    assert_eq!(scope, "exact");
                    let got: Vec<i64> = args.iter().map(|v| match v {
                        Value::Int(i) => *i,
                        other => panic!("{other:?}"),
                    }).collect();
                    assert_eq!(got, b, "canonical witness of {formulas:?} over {domains:?}");
                }
                (Resolution::NonExistent { mus, minimal, .. }, None) => {
                    unsat += 1;
                    assert!(minimal);
                    assert!(!sat_under(&mus), "the set must be inadmissible");
                    for i in &mus {
                        let rest: Vec<usize> = mus.iter().copied().filter(|j| j != i).collect();
                        assert!(sat_under(&rest), "dropping #{i} must make {mus:?} satisfiable");
                    }
                }
                (r, b) => panic!("disagreement on {formulas:?} over {domains:?}: brute force {b:?}, resolution {}", match r {
                    Resolution::Exists { .. } => "exists",
                    Resolution::NonExistent { .. } => "non-existent",
                    Resolution::Undetermined(_) => "undetermined",
                }),
            }
        }
        assert!(sat > 20 && unsat > 20, "{sat} satisfiable, {unsat} not");
    }
}
