//! Φ resolution (brief 7): a Φ process entered without values for (some of)
//! its parameters asks whether an assignment of those unknowns exists. The
//! body is evaluated symbolically into linear formulas (`solve`), the solver
//! decides them, the canonical witness comes from successive optimisation in
//! the order of `07-phi.ron`, and non-existence comes with a minimal
//! inadmissible set (deletion-based). Every witness is verified by evaluating
//! the process concretely.

use crate::solve::{self, Form, Lin, Outcome, Pref, Problem, Rel};
use crate::types::Ty;
use crate::validate::Compiled;
use crate::value::Value;
use dir_grammar::model::*;
use dir_grammar::print::expr_to_string;
use dir_grammar::Span;
use semantics::{Action, BooleanOrder, IntegerOrder, PrimKind, Tables};
use std::collections::BTreeMap;

/// A value during symbolic evaluation.
#[derive(Clone, Debug)]
enum Sym {
    Val(Value),
    Int(Lin),
    Bool(Form),
    /// A struct with some unknown fields (fields in declaration order).
    Struct(Vec<(String, Sym)>),
    /// A `let` the solver cannot represent; an error only if a constraint uses it.
    Opaque(Reason),
}

/// An unknown: one leaf of a parameter (`c.x`), in declaration order.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// Parameter index and field path.
    pub param: usize,
    pub path: Vec<String>,
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

struct Builder<'a> {
    c: &'a Compiled<'a>,
    forge: usize,
    leaves: Vec<Leaf>,
    domains: Vec<(i64, i64)>,
}

impl Builder<'_> {
    fn unknown(
        &mut self,
        param: usize,
        path: Vec<String>,
        ty: &Ty,
        range: Option<(i64, i64)>,
        depth: usize,
    ) -> Result<Sym, Reason> {
        if depth > 16 {
            return Err("a parameter's shape nests too deeply for the solver".into());
        }
        match ty {
            Ty::Int(_) => {
                let v = self.domains.len();
                self.domains.push(range.unwrap_or((i64::MIN, i64::MAX)));
                self.leaves.push(Leaf { param, path, kind: LeafKind::Int });
                Ok(Sym::Int(Lin::var(v)))
            }
            Ty::Bool => {
                let v = self.domains.len();
                self.domains.push((0, 1));
                self.leaves.push(Leaf { param, path, kind: LeafKind::Bool });
                // b ⇔ b ≥ 1 ⇔ 1 - b ≤ 0
                Ok(Sym::Bool(Form::Atom(Lin::constant(1).sub(&Lin::var(v)), Rel::Le)))
            }
            Ty::Shape(name) => {
                let shape = self.c.shape(self.forge, name).ok_or_else(|| format!("unknown shape `{name}`"))?;
                let mut fields = Vec::new();
                for (f, d) in &shape.fields {
                    let mut p = path.clone();
                    p.push(f.clone());
                    fields.push((f.clone(), self.unknown(param, p, &d.ty, d.range, depth + 1)?));
                }
                Ok(Sym::Struct(fields))
            }
            other => Err(format!("unknowns of type {other} are beyond the solver (integers, booleans and shapes of them are supported)")),
        }
    }
}

fn as_lin(s: &Sym) -> Option<Lin> {
    match s {
        Sym::Int(l) => Some(l.clone()),
        Sym::Val(Value::Int(i)) => Some(Lin::constant(*i as i128)),
        _ => None,
    }
}

fn as_form(s: &Sym) -> Option<Form> {
    match s {
        Sym::Bool(f) => Some(f.clone()),
        Sym::Val(Value::Bool(b)) => Some(Form::Const(*b)),
        _ => None,
    }
}

fn sym_eq(a: &Sym, b: &Sym) -> Result<Sym, Reason> {
    if let (Sym::Val(x), Sym::Val(y)) = (a, b) {
        return Ok(Sym::Val(Value::Bool(x == y)));
    }
    if let (Some(x), Some(y)) = (as_lin(a), as_lin(b)) {
        return Ok(Sym::Bool(Form::Atom(x.sub(&y), Rel::Eq)));
    }
    if let (Some(f), Some(g)) = (as_form(a), as_form(b)) {
        return Ok(Sym::Bool(Form::Or(vec![
            Form::And(vec![f.clone(), g.clone()]),
            Form::And(vec![f.not(), g.not()]),
        ])));
    }
    let fields = |s: &Sym| -> Option<Vec<(String, Sym)>> {
        match s {
            Sym::Struct(f) => Some(f.clone()),
            Sym::Val(Value::Struct(v)) => Some(
                v.fields
                    .iter()
                    .map(|(n, x)| (n.clone(), Sym::Val(x.clone())))
                    .collect(),
            ),
            _ => None,
        }
    };
    if let (Some(fa), Some(fb)) = (fields(a), fields(b)) {
        let mut parts = Vec::new();
        for ((_, x), (_, y)) in fa.iter().zip(&fb) {
            match sym_eq(x, y)? {
                Sym::Val(Value::Bool(true)) => {}
                Sym::Val(Value::Bool(false)) => return Ok(Sym::Val(Value::Bool(false))),
                other => parts.push(as_form(&other).ok_or("comparison beyond the solver")?),
            }
        }
        return Ok(Sym::Bool(Form::And(parts)));
    }
    Err("an equality the solver does not represent".into())
}

struct Eval<'a> {
    tables: &'a Tables,
    env: BTreeMap<String, Sym>,
    /// The type each arithmetic operator computes in (by operator span).
    widths: &'a BTreeMap<(usize, usize), (String, PrimKind)>,
    /// The unknowns' domains, to skip range conditions that always hold.
    domains: Vec<(i64, i64)>,
    /// Evaluability (§5.2): every arithmetic result over unknowns must stay
    /// within its type, or concrete evaluation faults. Collected per
    /// statement and posed with it.
    side: std::cell::RefCell<Vec<Form>>,
}

impl Eval<'_> {
    fn expr(&self, e: &Expr) -> Result<Sym, Reason> {
        Ok(match &e.kind {
            ExprKind::Int(i) => Sym::Val(Value::Int(*i)),
            ExprKind::Float(f) => Sym::Val(Value::Float(*f)),
            ExprKind::Bool(b) => Sym::Val(Value::Bool(*b)),
            ExprKind::Str(s) => Sym::Val(Value::Str(s.clone())),
            ExprKind::Path(segs) => match self.env.get(&segs.join("::")) {
                Some(Sym::Opaque(why)) => return Err(why.clone()),
                Some(v) => v.clone(),
                None => {
                    return Err(format!(
                        "`{}` is not available to the solver",
                        segs.join("::")
                    ))
                }
            },
            ExprKind::Field { base, field } => match self.expr(base)? {
                Sym::Struct(fields) => fields
                    .into_iter()
                    .find(|(n, _)| n == &field.name)
                    .map(|(_, v)| v)
                    .ok_or_else(|| format!("no field `{}`", field.name))?,
                Sym::Val(v) => Sym::Val(
                    v.field(&field.name)
                        .cloned()
                        .ok_or_else(|| format!("no field `{}`", field.name))?,
                ),
                _ => return Err("field access on a symbolic value".into()),
            },
            ExprKind::Struct { name, fields } => {
                let mut out = Vec::new();
                for (f, fe) in fields {
                    out.push((f.name.clone(), self.expr(fe)?));
                }
                if out.iter().all(|(_, v)| matches!(v, Sym::Val(_))) {
                    let vals = out
                        .into_iter()
                        .map(|(n, v)| match v {
                            Sym::Val(x) => (n, x),
                            _ => (n, Value::Unit),
                        })
                        .collect();
                    Sym::Val(Value::structure(name.name.clone(), vals))
                } else {
                    Sym::Struct(out)
                }
            }
            ExprKind::Call { .. } => {
                return Err(
                    "calls inside a Φ existence question are not supported by the solver yet"
                        .into(),
                )
            }
            ExprKind::Binary {
                op,
                lhs,
                rhs,
                op_span,
            } => {
                let l = self.expr(lhs)?;
                let r = self.expr(rhs)?;
                let v = self.binary(*op, l, r)?;
                if let Sym::Int(lin) = &v {
                    self.within_type(lin, (op_span.start, op_span.end));
                }
                v
            }
        })
    }

    /// Require an arithmetic result to lie in its operator's type, unless
    /// the unknowns' domains already keep it there.
    fn within_type(&self, lin: &Lin, op: (usize, usize)) {
        let (min, max) = match self.widths.get(&op) {
            Some((_, PrimKind::Int { min, max })) => (*min as i128, *max as i128),
            _ => (i64::MIN as i128, i64::MAX as i128),
        };
        let mut lo = lin.c;
        let mut hi = lin.c;
        for (v, a) in &lin.terms {
            let (dl, dh) = self.domains[*v];
            let (x, y) = (a * dl as i128, a * dh as i128);
            lo += x.min(y);
            hi += x.max(y);
        }
        if lo >= min && hi <= max {
            return;
        }
        self.side.borrow_mut().push(Form::And(vec![
            Form::Atom(Lin::constant(min).sub(lin), Rel::Le),
            Form::Atom(lin.sub(&Lin::constant(max)), Rel::Le),
        ]));
    }

    /// The operation of the operator's row (05-types.ron), symbolically.
    fn binary(&self, op: BinOp, l: Sym, r: Sym) -> Result<Sym, Reason> {
        if let (Sym::Val(a), Sym::Val(b)) = (&l, &r) {
            // Concrete operands: the ordinary semantics.
            return crate::exec::apply_op(self.tables, op, a, b)
                .map(Sym::Val)
                .map_err(|f| format!("evaluating constants faults ({f:?})"));
        }
        let meaning = self
            .tables
            .operator(op.word())
            .map(|row| row.meaning)
            .ok_or("an operator without a row in 05-types.ron")?;
        use semantics::OpMeaning::*;
        let lin =
            |s: &Sym, what: &str| as_lin(s).ok_or_else(|| format!("{what} beyond the solver"));
        let form = |s: &Sym| as_form(s).ok_or("logic beyond the solver");
        let both =
            |what: &str| -> Result<(Lin, Lin), Reason> { Ok((lin(&l, what)?, lin(&r, what)?)) };
        let compare = |what: fn(Lin, Lin) -> Form| -> Result<Sym, Reason> {
            let (a, b) = both("comparison")?;
            Ok(Sym::Bool(what(a, b)))
        };
        // Operands are bounded by 2^62 (checked below), so no single
        // operation can overflow the i128 arithmetic of `Lin`.
        let l = match meaning {
            Add => {
                let (a, b) = both("arithmetic")?;
                a.add(&b)
            }
            Subtract => {
                let (a, b) = both("arithmetic")?;
                a.sub(&b)
            }
            Multiply => {
                let (a, b) = both("arithmetic")?;
                if a.terms.is_empty() {
                    b.scale(a.c)
                } else if b.terms.is_empty() {
                    a.scale(b.c)
                } else {
                    return Err("a product of unknowns (non-linear) is beyond the solver".into());
                }
            }
            Divide => return Err("division involving unknowns is beyond the solver".into()),
            LessOrEqual => return compare(|a, b| Form::Atom(a.sub(&b), Rel::Le)),
            Less => return compare(|a, b| Form::Atom(a.sub(&b).add(&Lin::constant(1)), Rel::Le)),
            GreaterOrEqual => return compare(|a, b| Form::Atom(b.sub(&a), Rel::Le)),
            Greater => {
                return compare(|a, b| Form::Atom(b.sub(&a).add(&Lin::constant(1)), Rel::Le))
            }
            And => return Ok(Sym::Bool(Form::And(vec![form(&l)?, form(&r)?]))),
            Or => return Ok(Sym::Bool(Form::Or(vec![form(&l)?, form(&r)?]))),
            Equal => return sym_eq(&l, &r),
        };
        let limit = 1i128 << 62;
        if l.c.abs() > limit || l.terms.iter().any(|(_, k)| k.abs() > limit) {
            return Err("coefficients beyond what the solver represents".into());
        }
        Ok(Sym::Int(l))
    }
}

/// The question a Φ process asks, ready for the solver.
pub struct Question {
    pub leaves: Vec<Leaf>,
    pub problem: Problem,
    pub constraints: Vec<Constraint>,
}

/// Evaluate the body symbolically. `given[i]` is the value of parameter i,
/// or None for an unknown.
pub fn question(
    tables: &Tables,
    c: &Compiled<'_>,
    pi: usize,
    given: &[Option<Value>],
) -> Result<Question, Reason> {
    let info = &c.procs[pi];
    let mut b = Builder {
        c,
        forge: info.forge,
        leaves: Vec::new(),
        domains: Vec::new(),
    };
    let mut ev = Eval {
        tables,
        env: BTreeMap::new(),
        widths: &info.op_width,
        domains: Vec::new(),
        side: Default::default(),
    };
    for (i, (name, d)) in info.params.iter().enumerate() {
        let s = match given.get(i).cloned().flatten() {
            Some(v) => Sym::Val(v),
            None => b.unknown(i, Vec::new(), &d.ty, d.range, 0)?,
        };
        ev.env.insert(name.clone(), s);
    }
    ev.domains = b.domains.clone();
    // The body runs through the Φ step rows (08-phi-steps.ron), the same
    // rows concrete evaluation applies, with symbolic values: `Eval`
    // evaluates, `Bind` binds, `Witness` requires the value not to be false,
    // `Defer` keeps a constraint for the exit row's `CheckConstraints`.
    let steps = &tables.phi_steps;
    let mut parts: Vec<(Form, Constraint)> = Vec::new();
    let mut deferred: Vec<(usize, &Expr)> = Vec::new();
    for (i, s) in info.proc.body.iter().enumerate() {
        let Some(row) = steps
            .steps
            .iter()
            .find(|r| crate::types::is_construct(&r.construct, &s.kind))
        else {
            // Validation admits no statement without a Φ row.
            continue;
        };
        ev.side.borrow_mut().clear();
        let mut reg: Option<Sym> = None;
        let mut witnessed = false;
        for action in &row.actions {
            match action {
                Action::Eval => {
                    reg = Some(match s.kind.evaluated() {
                        Some(e) => ev.expr(e).unwrap_or_else(Sym::Opaque),
                        None => Sym::Val(Value::Unit),
                    })
                }
                Action::Bind => {
                    if let (Some(name), Some(v)) = (s.kind.bound(), &reg) {
                        ev.env.insert(name.name.clone(), v.clone());
                    }
                }
                Action::Defer => {
                    if let StmtKind::Constrain { predicate } = &s.kind {
                        deferred.push((i, predicate));
                    }
                }
                Action::Witness => {
                    let from = s.kind.evaluated().ok_or("a witness of nothing")?;
                    let side = std::mem::take(&mut *ev.side.borrow_mut());
                    match reg.take() {
                        // A predicate must hold (§7.6); a value needs nothing.
                        Some(Sym::Bool(f)) => parts.push(condition(i, from, side, f)),
                        Some(Sym::Val(Value::Bool(b))) => {
                            parts.push(condition(i, from, side, Form::Const(b)))
                        }
                        Some(Sym::Opaque(why)) => return Err(why),
                        _ => {}
                    }
                    witnessed = true;
                    reg = Some(Sym::Opaque(
                        "a PhiWitness is not available to the solver".into(),
                    ));
                }
                Action::Return => break,
                Action::Tick | Action::Record | Action::CheckConstraints => {}
            }
        }
        // What was evaluated must evaluate (§5.2), whether or not a
        // constraint uses it: a condition of its own, named by the statement.
        let side = std::mem::take(&mut *ev.side.borrow_mut());
        if let (false, false, Some(e)) = (side.is_empty(), witnessed, s.kind.evaluated()) {
            if !matches!(reg, Some(Sym::Opaque(_))) {
                let text = match s.kind.bound() {
                    Some(n) => format!("let {} = {}", n.name, expr_to_string(e)),
                    None => format!("{} {}", s.kind.tag().to_lowercase(), expr_to_string(e)),
                };
                parts.push((
                    Form::And(side),
                    Constraint {
                        stmt: i,
                        span: e.span,
                        text: format!("{text} (evaluates without overflow)"),
                        evaluability: true,
                    },
                ));
            }
        }
    }
    if steps.exit.actions.contains(&Action::CheckConstraints) {
        for (i, pred) in deferred {
            ev.side.borrow_mut().clear();
            let f = as_form(&ev.expr(pred)?).ok_or("a constraint that is not boolean")?;
            let side = std::mem::take(&mut *ev.side.borrow_mut());
            parts.push(condition(i, pred, side, f));
        }
    }
    // In body order, as the constraints are written.
    parts.sort_by_key(|(_, c)| c.stmt);
    let (formulas, constraints) = parts.into_iter().unzip();
    Ok(Question {
        leaves: b.leaves,
        problem: Problem {
            domains: b.domains,
            formulas,
        },
        constraints,
    })
}

/// A predicate that must hold, with the evaluability conditions of its
/// arithmetic.
fn condition(stmt: usize, pred: &Expr, mut side: Vec<Form>, f: Form) -> (Form, Constraint) {
    let evaluability = !side.is_empty();
    let form = if side.is_empty() {
        f
    } else {
        side.push(f);
        Form::And(side)
    };
    (
        form,
        Constraint {
            stmt,
            span: pred.span,
            text: expr_to_string(pred),
            evaluability,
        },
    )
}

/// Decide existence with one solver: the canonical witness in the order of
/// 07-phi.ron, or a minimal inadmissible set.
pub fn resolve(tables: &Tables, q: &Question, conflicts_override: Option<u64>) -> Resolution {
    let budget = &tables.phi.solver;
    if q.leaves.len() as u64 > budget.max_unknowns {
        return Resolution::Undetermined(format!(
            "the question has {} unknowns; the solver budget allows {}",
            q.leaves.len(),
            budget.max_unknowns
        ));
    }
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
    let per_query = conflicts_override.unwrap_or(budget.conflicts_per_query);
    let limits = solve::Budget {
        conflicts_per_query: per_query,
        total_conflicts: budget.total_conflicts.max(per_query),
        max_queries: budget.max_queries,
        max_clauses: budget.max_clauses,
    };
    match solve::resolve(&q.problem, &prefs, &limits) {
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
        Outcome::Unknown(r) => Resolution::Undetermined(r),
    }
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

/// Leaf values back into parameter values (unknown parameters only, in order).
fn assemble(q: &Question, values: &[i64]) -> Vec<Value> {
    // Group leaves by parameter, rebuilding shapes field by field.
    fn build(leaves: &[(&Leaf, i64)], depth: usize) -> Value {
        if let [(leaf, v)] = leaves {
            if leaf.path.len() == depth {
                return match leaf.kind {
                    LeafKind::Int => Value::Int(*v),
                    LeafKind::Bool => Value::Bool(*v != 0),
                };
            }
        }
        let mut fields: Vec<(String, Vec<(&Leaf, i64)>)> = Vec::new();
        for (leaf, v) in leaves {
            let name = leaf.path[depth].clone();
            match fields.iter_mut().find(|(n, _)| *n == name) {
                Some((_, group)) => group.push((leaf, *v)),
                None => fields.push((name, vec![(leaf, *v)])),
            }
        }
        Value::structure(
            String::new(),
            fields
                .into_iter()
                .map(|(n, g)| (n, build(&g, depth + 1)))
                .collect(),
        )
    }
    let mut params: Vec<(usize, Vec<(&Leaf, i64)>)> = Vec::new();
    for (leaf, v) in q.leaves.iter().zip(values) {
        match params.iter_mut().find(|(p, _)| *p == leaf.param) {
            Some((_, g)) => g.push((leaf, *v)),
            None => params.push((leaf.param, vec![(leaf, *v)])),
        }
    }
    params.into_iter().map(|(_, g)| build(&g, 0)).collect()
}

/// Give struct values their shape names (assemble does not know them).
pub fn name_shapes(v: Value, ty: &Ty, c: &Compiled<'_>, forge: usize) -> Value {
    match (v, ty) {
        (Value::Struct(s), Ty::Shape(name)) => {
            let shape = c.shape(forge, name);
            let fields = s
                .fields
                .iter()
                .map(|(n, x)| {
                    let fty = shape
                        .and_then(|sh| sh.fields.iter().find(|(f, _)| f == n))
                        .map(|(_, d)| d.ty.clone())
                        .unwrap_or(Ty::Unknown);
                    (n.clone(), name_shapes(x.clone(), &fty, c, forge))
                })
                .collect();
            Value::structure(name.clone(), fields)
        }
        (v, _) => v,
    }
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
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
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
                leaves: (0..n)
                    .map(|i| Leaf {
                        param: i,
                        path: Vec::new(),
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
            match (resolve(&tables, &q, None), best) {
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
