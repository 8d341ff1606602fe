//! The Φ question: the body run symbolically through the Φ step rows into
//! formulas over linear terms, with evaluability conditions.

#[allow(unused_imports)]
use super::*;

/// A value during symbolic evaluation.
#[derive(Clone, Debug)]
pub(crate) enum Sym {
    Val(Value),
    Int(Lin),
    Bool(Form),
    /// A struct with some unknown fields (fields in declaration order).
    Struct(Vec<(String, Sym)>),
    /// A value whose evaluation cannot fault and which no constraint can
    /// inspect symbolically (a PhiWitness, its fields).
    Inert,
}

impl Sym {
    /// The value with every formula in it held once (`Form::shared`).
    fn shared(self) -> Sym {
        match self {
            Sym::Bool(f) => Sym::Bool(f.shared()),
            Sym::Struct(fields) => {
                Sym::Struct(fields.into_iter().map(|(n, v)| (n, v.shared())).collect())
            }
            v => v,
        }
    }
}

/// How an unknown parameter's value is rebuilt from the unknowns' values.
#[derive(Clone, Debug)]
pub enum Template {
    Int(usize),
    Bool(usize),
    /// A shape, field by field in declaration order (possibly none).
    Struct(Vec<(String, Template)>),
}

pub(crate) struct Builder<'a> {
    c: &'a Compiled<'a>,
    forge: usize,
    leaves: Vec<Leaf>,
    domains: Vec<(i64, i64)>,
    /// Unknowns the budget allows (07-phi.ron): checked while building, so
    /// a wide shape cannot allocate millions of them first.
    max_unknowns: u64,
}

impl Builder<'_> {
    fn unknown(
        &mut self,
        ty: &Ty,
        range: Option<(i64, i64)>,
        depth: usize,
    ) -> Result<(Sym, Template), Reason> {
        if depth > 16 {
            return Err("a parameter's shape nests too deeply for the solver".into());
        }
        if self.domains.len() as u64 >= self.max_unknowns && matches!(ty, Ty::Int(_) | Ty::Bool) {
            return Err(format!(
                "the question has more than {} unknowns, the solver budget's limit",
                self.max_unknowns
            ));
        }
        match ty {
            Ty::Int(_) => {
                let v = self.domains.len();
                self.domains.push(range.unwrap_or((i64::MIN, i64::MAX)));
                self.leaves.push(Leaf { kind: LeafKind::Int });
                Ok((Sym::Int(Lin::var(v)), Template::Int(v)))
            }
            Ty::Bool => {
                let v = self.domains.len();
                self.domains.push((0, 1));
                self.leaves.push(Leaf { kind: LeafKind::Bool });
                // b ⇔ b ≥ 1 ⇔ 1 - b ≤ 0
                let b = Form::Atom(Lin::constant(1).sub(&Lin::var(v)), Rel::Le);
                Ok((Sym::Bool(b), Template::Bool(v)))
            }
            Ty::Shape(name) => {
                let shape = self.c.shape_ty(self.forge, *name).ok_or_else(|| format!("unknown shape `{}`", self.c.ty_names.text(*name)))?;
                let mut fields = Vec::new();
                let mut template = Vec::new();
                for (f, d) in &shape.fields {
                    let (sym, t) = self.unknown(&d.ty, d.range, depth + 1)?;
                    fields.push((f.clone(), sym));
                    template.push((f.clone(), t));
                }
                Ok((Sym::Struct(fields), Template::Struct(template)))
            }
            other => Err(format!("unknowns of type {} are beyond the solver (integers, booleans and shapes of them are supported)", other.show(&self.c.ty_names))),
        }
    }
}

pub(crate) fn as_lin(s: &Sym) -> Option<Lin> {
    match s {
        Sym::Int(l) => Some(l.clone()),
        Sym::Val(Value::Int(i)) => Some(Lin::constant(*i as i128)),
        _ => None,
    }
}

pub(crate) fn as_form(s: &Sym) -> Option<Form> {
    match s {
        Sym::Bool(f) => Some(f.clone()),
        Sym::Val(Value::Bool(b)) => Some(Form::Const(*b)),
        _ => None,
    }
}

pub(crate) fn sym_eq(a: &Sym, b: &Sym) -> Result<Sym, Reason> {
    if let (Sym::Val(x), Sym::Val(y)) = (a, b) {
        return Ok(Sym::Val(Value::Bool(x == y)));
    }
    if let (Some(x), Some(y)) = (as_lin(a), as_lin(b)) {
        return Ok(Sym::Bool(Form::Atom(x.sub(&y), Rel::Eq)));
    }
    if let (Some(f), Some(g)) = (as_form(a), as_form(b)) {
        // Each operand is used twice: shared, so chains stay linear.
        let (f, g) = (f.shared(), g.shared());
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
                    .map(|(n, x)| (n.to_string(), Sym::Val(x.clone())))
                    .collect(),
            ),
            _ => None,
        }
    };
    if let (Some(fa), Some(fb)) = (fields(a), fields(b)) {
        // Fields pair by name: a struct literal may list them in any order.
        if fa.len() != fb.len() {
            return Ok(Sym::Val(Value::Bool(false)));
        }
        let mut parts = Vec::new();
        for (name, x) in &fa {
            let Some((_, y)) = fb.iter().find(|(n, _)| n == name) else {
                return Ok(Sym::Val(Value::Bool(false)));
            };
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

/// The largest coefficient of an unknown a linear form may carry.
const COEFFICIENT_LIMIT: i128 = 1 << 62;

pub(crate) struct Eval<'a> {
    /// Operator rows (05-types.ron), resolved once, as evaluation does.
    ops: crate::types::OpRows<'a>,
    env: BTreeMap<String, Sym>,
    /// The type each arithmetic operator computes in (by operator span).
    widths: &'a crate::validate::OpWidths,
    /// What each call resolved to (by callee span).
    targets: &'a crate::validate::Targets,
    /// The program and the process's forge, for shapes.
    c: &'a Compiled<'a>,
    forge: usize,
    /// The unknowns' domains, to skip range conditions that always hold.
    domains: Vec<(i64, i64)>,
    /// Evaluability (§5.2): every arithmetic result over unknowns must stay
    /// within its type, or concrete evaluation faults. Collected per
    /// statement and posed with it.
    side: std::cell::RefCell<Vec<Form>>,
}

impl Eval<'_> {
    fn shape(&self, name: &str) -> Option<&crate::validate::ShapeInfo> {
        self.c.shape(self.forge, name)
    }

    fn expr(&self, e: Expr<'_>) -> Result<Sym, Reason> {
        Ok(match e.kind() {
            ExprKind::Int(i) => Sym::Val(Value::Int(i)),
            ExprKind::Float(f) => Sym::Val(Value::Float(f)),
            ExprKind::Bool(b) => Sym::Val(Value::Bool(b)),
            ExprKind::Str(s) => Sym::Val(Value::Str(s.to_string())),
            ExprKind::Path(segs, _) => match self.env.get(segs.text()) {
                Some(v) => v.clone(),
                None => return Err(format!("`{}` is not available to the solver", segs.text())),
            },
            ExprKind::Field { base, field } => match self.expr(base)? {
                Sym::Struct(fields) => fields
                    .into_iter()
                    .find(|(n, _)| *n == field.name)
                    .map(|(_, v)| v)
                    .ok_or_else(|| format!("no field `{}`", field.name))?,
                Sym::Val(v) => Sym::Val(
                    v.field(field.name)
                        .cloned()
                        .ok_or_else(|| format!("no field `{}`", field.name))?,
                ),
                Sym::Inert => Sym::Inert,
                _ => return Err("field access on a symbolic value".into()),
            },
            ExprKind::Struct { name, fields } => {
                let mut out = Vec::new();
                for (f, fe) in fields {
                    out.push((f.name.to_string(), self.expr(fe)?));
                }
                // Fields in the shape's order, as evaluation builds the
                // value (struct equality compares them in order).
                if let Some(shape) = self.shape(name.name) {
                    out.sort_by_key(|(n, _)| shape.fields.iter().position(|(f, _)| f == n));
                }
                if out.iter().all(|(_, v)| matches!(v, Sym::Val(_))) {
                    let vals = out
                        .into_iter()
                        .map(|(n, v)| match v {
                            Sym::Val(x) => (n.as_str().into(), x),
                            _ => (n.as_str().into(), Value::Unit),
                        })
                        .collect::<crate::value::Fields>();
                    Sym::Val(Value::structure(name.name, vals))
                } else {
                    Sym::Struct(out)
                }
            }
            // The earlier dustrun's witness constructor cannot fault.
            ExprKind::Call { callee_span, .. }
                if self.targets.get(callee_span) == Some(&crate::validate::Target::PhiWitness) =>
            {
                Sym::Inert
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
                width,
                ..
            } => {
                let l = self.expr(lhs)?;
                let r = self.expr(rhs)?;
                let at = self.range(width);
                if let (Sym::Val(a), Sym::Val(b)) = (&l, &r) {
                    return Ok(self.constant(op, at, a, b));
                }
                let v = self.binary(op, l, r)?;
                if let Sym::Int(lin) = &v {
                    self.within_type(lin, at);
                }
                v
            }
        })
    }

    /// The range of the operator's type (i64 when no width was recorded).
    fn range(&self, mark: &Resolved) -> (i128, i128) {
        match self.widths.get(mark, &self.c.ty_names) {
            Some((_, PrimKind::Int { min, max })) => (*min as i128, *max as i128),
            _ => (i64::MIN as i128, i64::MAX as i128),
        }
    }

    /// An operation on constants, as concrete evaluation does it, in the
    /// operator's type. A fault (overflow, division by zero) happens on
    /// every evaluation, so the statement's condition becomes false.
    fn constant(&self, op: BinOp, (min, max): (i128, i128), a: &Value, b: &Value) -> Sym {
        match crate::exec::apply_op(self.ops.row(op), a, b) {
            Ok(Value::Int(i)) if (i as i128) < min || (i as i128) > max => {}
            Ok(v) => return Sym::Val(v),
            Err(_) => {}
        }
        self.side.borrow_mut().push(Form::Const(false));
        // Any value of the operation's kind: the condition is false anyway.
        Sym::Val(a.clone())
    }

    /// Require an arithmetic result to lie in its operator's type, unless
    /// the unknowns' domains already keep it there.
    fn within_type(&self, lin: &Lin, (min, max): (i128, i128)) {
        let mut lo = lin.c;
        let mut hi = lin.c;
        for (v, a) in &lin.terms {
            let (dl, dh) = self.domains[*v];
            let (x, y) = (a.saturating_mul(dl as i128), a.saturating_mul(dh as i128));
            lo = lo.saturating_add(x.min(y));
            hi = hi.saturating_add(x.max(y));
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
        let meaning = self
            .ops
            .row(op)
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
        // Coefficients are bounded by 2^62 and constants by 2^64 (checked
        // below, and a factor before scaling), so no operation can overflow
        // the i128 arithmetic of `Lin`.
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
                let factor = |k: i128| -> Result<i128, Reason> {
                    if k.abs() > COEFFICIENT_LIMIT {
                        Err("coefficients beyond what the solver represents (2^62)".into())
                    } else {
                        Ok(k)
                    }
                };
                if a.terms.is_empty() {
                    b.scale(factor(a.c)?)
                } else if b.terms.is_empty() {
                    a.scale(factor(b.c)?)
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
        if l.c.abs() > 1i128 << 64 || l.terms.iter().any(|(_, k)| k.abs() > COEFFICIENT_LIMIT) {
            return Err("coefficients beyond what the solver represents (2^62)".into());
        }
        Ok(Sym::Int(l))
    }
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
        max_unknowns: tables.phi.solver.max_unknowns,
    };
    let mut ev = Eval {
        ops: crate::types::OpRows::of(tables),
        env: BTreeMap::new(),
        widths: &info.op_width,
        targets: &info.targets,
        c,
        forge: info.forge,
        domains: Vec::new(),
        side: Default::default(),
    };
    let mut templates = Vec::new();
    for (i, (name, d)) in info.params.iter().enumerate() {
        let s = match given.get(i).cloned().flatten() {
            Some(v) => Sym::Val(v),
            None => {
                let (s, t) = b.unknown(&d.ty, d.range, 0)?;
                templates.push(t);
                s
            }
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
    let program = c.program;
    let mut deferred: Vec<(usize, Expr<'_>)> = Vec::new();
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
                // Whatever is evaluated must be represented: concrete
                // evaluation runs it whether or not a constraint uses it.
                Action::Eval => {
                    reg = Some(match s.kind.evaluated() {
                        Some(e) => ev.expr(program.expr(e))?,
                        None => Sym::Val(Value::Unit),
                    })
                }
                Action::Bind => {
                    if let (Some(name), Some(v)) = (s.kind.bound(), reg.take()) {
                        // A bound formula is held once however often it is
                        // used, also inside a struct.
                        let v = v.shared();
                        ev.env.insert(name.name.to_string(), v.clone());
                        reg = Some(v);
                    }
                }
                Action::Defer => {
                    if let StmtKind::Constrain { predicate } = &s.kind {
                        deferred.push((i, program.expr(*predicate)));
                    }
                }
                Action::Witness => {
                    let from = program.expr(s.kind.evaluated().ok_or("a witness of nothing")?);
                    let side = std::mem::take(&mut *ev.side.borrow_mut());
                    match reg.take() {
                        // A predicate must hold (§7.6); a value only has to
                        // evaluate.
                        Some(Sym::Bool(f)) => parts.push(condition(i, from, side, f)),
                        Some(Sym::Val(Value::Bool(b))) => {
                            parts.push(condition(i, from, side, Form::Const(b)))
                        }
                        _ if !side.is_empty() => {
                            let (f, mut c) = condition(i, from, side, Form::Const(true));
                            c.text = format!("prove from {} (evaluates without overflow)", c.text);
                            parts.push((f, c));
                        }
                        _ => {}
                    }
                    witnessed = true;
                    reg = Some(Sym::Inert);
                }
                Action::Return => break,
                Action::Tick | Action::Record | Action::CheckConstraints => {}
            }
        }
        // What was evaluated must evaluate (§5.2), whether or not a
        // constraint uses it: a condition of its own, named by the statement.
        let side = std::mem::take(&mut *ev.side.borrow_mut());
        if let (false, false, Some(e)) = (side.is_empty(), witnessed, s.kind.evaluated()) {
            let e = program.expr(e);
            let text = match s.kind.bound() {
                Some(n) => format!("let {} = {}", n.name, expr_to_string(e)),
                None => format!("{} {}", s.kind.tag().to_lowercase(), expr_to_string(e)),
            };
            parts.push((
                Form::And(side),
                Constraint {
                    stmt: i,
                    span: e.span(),
                    text: format!("{text} (evaluates without overflow)"),
                    evaluability: true,
                },
            ));
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
        templates,
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
pub(crate) fn condition(
    stmt: usize,
    pred: Expr<'_>,
    mut side: Vec<Form>,
    f: Form,
) -> (Form, Constraint) {
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
            span: pred.span(),
            text: expr_to_string(pred),
            evaluability,
        },
    )
}
