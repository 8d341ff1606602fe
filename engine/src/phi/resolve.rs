//! Deciding the question (`solve::resolve`), assembling the witness, and
//! reporting the entry's resolution as a trace entry or a diagnostic.

#[allow(unused_imports)]
use super::*;
use crate::diag::{Checker, Diagnostic};
use crate::trace::{MusEntry, PhiTrace};
use crate::{Engine, RunConfig};

/// The propagations a run's Φ questions have spent together, against
/// 07-phi.ron's `run_propagations`.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    spent: u64,
}

impl Pool {
    #[cfg(test)]
    pub(crate) fn spent(&self) -> u64 {
        self.spent
    }
}

/// Decide existence with one solver: the canonical witness in the order of
/// 07-phi.ron, or a minimal inadmissible set. The question may spend its own
/// budget, or what is left of the run's if that is less.
pub(crate) fn resolve(
    tables: &Tables,
    q: &Question,
    conflicts_override: Option<u64>,
    pool: &mut Pool,
) -> Resolution {
    // The unknowns budget was enforced while the question was built.
    let budget = &tables.phi.solver;
    let order = &tables.phi.witness_order;
    let prefs: Vec<Pref> = q
        .leaves
        .iter()
        .map(|leaf| match leaf.kind {
            LeafKind::Bool => Pref::Boolean {
                true_first: order.booleans == BooleanOrder::TrueFirst,
            },
            LeafKind::Int => Pref::Integer {
                negative_first: order.integers == IntegerOrder::NearestZeroNegativeFirst,
            },
        })
        .collect();
    // A question that only bounds its unknowns is answered without the
    // solver (and spends nothing of the run's allowance).
    if let Some(values) = solve::bounds_only(&q.problem, &prefs) {
        return Resolution::Exists {
            args: Vec::new(),
            scope: "exact".into(),
        }
        .with_values(q, &values);
    }
    let per_query = conflicts_override.unwrap_or(budget.conflicts_per_query);
    let limits = solve::Budget {
        conflicts_per_query: per_query,
        total_conflicts: budget.total_conflicts.max(per_query),
        max_queries: budget.max_queries,
        max_clauses: budget.max_clauses,
        max_propagations: budget
            .max_propagations
            .min(budget.run_propagations.saturating_sub(pool.spent)),
    };
    let by_run = limits.max_propagations < budget.max_propagations;
    if by_run && limits.max_propagations == 0 {
        return Resolution::Undetermined(run_spent(budget));
    }
    let outcome = solve::resolve_spending(&q.problem, &prefs, &limits, &mut pool.spent);
    match outcome {
        Outcome::Sat(values) => Resolution::Exists {
            args: Vec::new(),
            scope: "exact".into(),
        }
        .with_values(q, &values),
        Outcome::Unsat { core, minimal } => Resolution::NonExistent {
            mus: core,
            constraints: q.constraints.clone(),
            minimal,
        },
        Outcome::Unknown(_) if by_run && pool.spent >= budget.run_propagations => {
            Resolution::Undetermined(run_spent(budget))
        }
        Outcome::Unknown(r) => Resolution::Undetermined(r),
    }
}

fn run_spent(budget: &semantics::SolverBudget) -> String {
    format!(
        "the run's solver budget was exhausted (its Φ questions together may spend {} propagations)",
        budget.run_propagations
    )
}

impl Resolution {
    fn with_values(self, q: &Question, values: &[i64]) -> Resolution {
        match self {
            Resolution::Exists { scope, .. } => Resolution::Exists {
                args: assemble(q, values),
                scope,
            },
            other => other,
        }
    }
}

/// The unknowns' values back into parameter values (unknown parameters
/// only, in order), shapes field by field, field-less shapes included.
pub(crate) fn assemble(q: &Question, values: &[i64]) -> Vec<Value> {
    fn build(t: &Template, values: &[i64]) -> Value {
        match t {
            Template::Int(v) => Value::Int(values[*v]),
            Template::Bool(v) => Value::Bool(values[*v] != 0),
            Template::Struct(fields) => Value::structure(
                String::new(),
                fields
                    .iter()
                    .map(|(n, t)| (n.as_str().into(), build(t, values)))
                    .collect::<crate::value::Fields>(),
            ),
        }
    }
    q.templates.iter().map(|t| build(t, values)).collect()
}

/// Give struct values their shape names (assemble does not know them).
pub fn name_shapes(v: Value, ty: &Ty, c: &Compiled<'_>, forge: usize) -> Value {
    match (v, ty) {
        (Value::Struct(s), Ty::Shape(name)) => {
            let shape = c.shape_ty(forge, *name);
            let fields = s
                .fields
                .iter()
                .map(|(n, x)| {
                    let fty = shape
                        .and_then(|sh| sh.fields.iter().find(|(f, _)| **f == **n))
                        .map(|(_, d)| d.ty.clone())
                        .unwrap_or(Ty::Unknown);
                    (n.clone(), name_shapes(x.clone(), &fty, c, forge))
                })
                .collect::<crate::value::Fields>();
            // The shape's shared name; its text when the shape is unknown.
            match shape {
                Some(sh) => Value::structure(&*sh.name, fields),
                None => Value::structure(c.ty_names.text(*name), fields),
            }
        }
        (v, _) => v,
    }
}

impl Engine {
    /// Φ resolution of the entry: the witness as full arguments, or the stop.
    #[allow(clippy::type_complexity)]
    pub(crate) fn resolve_phi(
        &self,
        ck: &mut Checker<'_>,
        c: &Compiled<'_>,
        entry: usize,
        given: &[Option<Value>],
        cfg: &RunConfig,
    ) -> Result<(Vec<Value>, PhiTrace), (Box<Diagnostic>, Option<Vec<MusEntry>>)> {
        let info = &c.procs[entry];
        let undetermined = |ck: &mut Checker<'_>, reason: String| {
            ck.fire(crate::registry::PHI_UNDETERMINED);
            let d = Checker::check_diag(
                &self.tables,
                crate::registry::PHI_UNDETERMINED,
                format!("Φ resolution of `{}` is undetermined: {reason}", info.qname),
            )
            .at(
                info.proc.name.span,
                "the existence question of this process",
            )
            .note("dustrun never reports existence or non-existence it has not established");
            (Box::new(d), None)
        };
        let q = match question(&self.tables, c, entry, given) {
            Ok(q) => q,
            Err(r) => return Err(undetermined(ck, r)),
        };
        match resolve(&self.tables, &q, cfg.solver_budget, &mut ck.phi) {
            Resolution::Undetermined(r) => Err(undetermined(ck, r)),
            Resolution::NonExistent {
                mus,
                constraints,
                minimal,
            } => {
                ck.fire(crate::registry::PHI_NONEXISTENT);
                let members: Vec<&Constraint> = mus.iter().map(|i| &constraints[*i]).collect();
                let texts: Vec<String> = members.iter().map(|m| format!("`{}`", m.text)).collect();
                let mut d = Checker::check_diag(
                    &self.tables,
                    crate::registry::PHI_NONEXISTENT,
                    format!(
                        "no assignment of the unknowns of `{}` satisfies its constraints",
                        info.qname
                    ),
                );
                for (k, m) in members.iter().enumerate() {
                    let label = if members.len() == 1 {
                        "cannot hold for any value of the unknowns"
                    } else if k == 0 {
                        "cannot hold together with the others marked"
                    } else {
                        "in the minimal inadmissible set"
                    };
                    d = if k == 0 {
                        d.at(m.span, label)
                    } else {
                        d.also(m.span, label)
                    };
                }
                if members.is_empty() {
                    d = d.at(
                        info.proc.name.span,
                        "the process's own definitions cannot hold",
                    );
                }
                d = d.note(format!(
                    "{} set: {}",
                    if minimal {
                        "minimal inadmissible"
                    } else {
                        "inadmissible"
                    },
                    texts.join(", ")
                ));
                if members.iter().any(|m| m.evaluability) {
                    d = d.note(
                        "arithmetic over the unknowns must stay within its type (§5.2): an assignment that would overflow does not count",
                    );
                }
                d = d.note(if minimal && members.len() == 1 {
                    "on its own it is unsatisfiable over the declared types".to_string()
                } else if minimal {
                    "dropping any one of them makes the rest satisfiable".to_string()
                } else {
                    "the set is inadmissible; its minimality could not be established within the budget".to_string()
                });
                let mus = members
                    .iter()
                    .map(|m| MusEntry {
                        proc: info.qname.to_string(),
                        stmt: m.stmt,
                        predicate: m.text.clone(),
                    })
                    .collect();
                Err((Box::new(d), Some(mus)))
            }
            Resolution::Exists { args, scope } => {
                ck.fire(crate::registry::PHI_EXISTS);
                ck.fire(crate::registry::PHI_WITNESS_ORDER);
                let mut unknown = args.into_iter();
                let mut full = Vec::new();
                let mut witness = serde_json::Map::new();
                for ((name, d), g) in info.params.iter().zip(given) {
                    let v = match g {
                        Some(v) => v.clone(),
                        None => {
                            let v = name_shapes(
                                unknown.next().unwrap_or(Value::Unit),
                                &d.ty,
                                c,
                                info.forge,
                            );
                            witness.insert(name.clone(), v.tagged());
                            v
                        }
                    };
                    full.push(v);
                }
                Ok((
                    full,
                    PhiTrace {
                        witness: serde_json::Value::Object(witness),
                        scope,
                    },
                ))
            }
        }
    }
}
