//! Expression types and call resolution: operators by their 05-types.ron
//! class, literals typed by their context (§5.3.1), intrinsics, calls.

#[allow(unused_imports)]
use super::*;

/// Calls found while checking a body: every callee by span, and the
/// process-to-process call sites with what crosses them.
pub(crate) struct Calls<'t, 'p> {
    pub names: &'t TyNames,
    pub list: Vec<(Span, Target)>,
    pub sites: Vec<CallSite>,
    /// Checking a predicate (`constrain`, `prove` source) right now.
    pub in_predicate: bool,
    /// Literal-bound `let`s: (integer?, resolved type).
    pub vars: Vec<(bool, Option<Ty>)>,
    /// Arithmetic and comparison operators whose operand type waits for
    /// literal variables to be decided.
    pub ops: Vec<(&'p Resolved, Ty)>,
    /// The type each arithmetic or comparison operator works in, by span.
    pub op_width: OpWidths,
    /// Literals that met a type (an operand, a place, a literal-bound
    /// `let`) that is not yet decided, does not hold them, or rounds them
    /// (f32): checked once literal variables are decided.
    pub lits: Vec<(Lit, Span, Ty)>,
}

impl<'t, 'p> Calls<'t, 'p> {
    pub(crate) fn new(names: &'t TyNames) -> Calls<'t, 'p> {
        Calls {
            names,
            list: Vec::new(),
            sites: Vec::new(),
            in_predicate: false,
            vars: Vec::new(),
            ops: Vec::new(),
            op_width: OpWidths,
            lits: Vec::new(),
        }
    }

    /// Record the type an operator works in; decided now when it is a
    /// width, after the body's literal variables otherwise.
    pub(crate) fn operator_type(&mut self, mark: &'p Resolved, t: Ty) {
        match &t {
            Ty::Int(w) | Ty::Float(w) => self.op_width.mark(mark, *w, self.names),
            _ => {
                // Decided with the literal variables: no earlier mark may stand.
                mark.clear();
                self.ops.push((mark, t));
            }
        }
    }

    /// Marks the waiting operators, oldest first, whose type has been
    /// decided since (a literal variable unified with a width), up to the
    /// first still waiting: evaluation beside the check (`exec::Beside`)
    /// reads an operator's width as soon as it is marked. `ready` is how
    /// many are marked, `front` the variable the first waiting one was
    /// last found to wait on (a check that finds it still undecided costs
    /// one lookup; once decided, each operator's chain is walked once, as
    /// the body's end walks it). The body's end marks every operator, as
    /// before.
    pub(crate) fn mark_decided(&mut self, ready: &mut usize, front: &mut Option<usize>) {
        while let Some((mark, t)) = self.ops.get(*ready) {
            let waited;
            let start = match *front {
                Some(v) => {
                    waited = Ty::Var(v);
                    &waited
                }
                None => t,
            };
            let (mark, width) = match self.resolve_ref(start) {
                Ty::Int(w) | Ty::Float(w) => (*mark, *w),
                Ty::Var(v) => {
                    *front = Some(*v);
                    return;
                }
                // Not a width (a literal's type: decided at the body's end).
                _ => return,
            };
            self.op_width.mark(mark, width, self.names);
            *ready += 1;
            *front = None;
        }
    }

    pub(crate) fn push(&mut self, c: (Span, Target)) {
        self.list.push(c);
    }

    /// The type a literal variable stands for, so far.
    pub(crate) fn resolve(&self, t: &Ty) -> Ty {
        self.resolve_ref(t).clone()
    }

    /// `resolve` without a copy, for the checks that only look.
    pub(crate) fn resolve_ref<'a>(&'a self, t: &'a Ty) -> &'a Ty {
        let mut t = t;
        // Each variable points only to an unresolved one or a type: a chain
        // is at most as long as the table.
        for _ in 0..=self.vars.len() {
            match t {
                Ty::Var(i) => match self.vars.get(*i).and_then(|v| v.1.as_ref()) {
                    Some(u) => t = u,
                    None => return t,
                },
                _ => return t,
            }
        }
        t
    }

    /// `resolve` of an owned type: copies only through a variable.
    pub(crate) fn resolved(&self, t: Ty) -> Ty {
        match t {
            Ty::Var(_) => self.resolve(&t),
            t => t,
        }
    }

    /// Make `a` and `b` one type where untyped literals allow it (§5.3.1);
    /// false when they cannot be.
    pub(crate) fn unify(&mut self, a: &Ty, b: &Ty) -> bool {
        let (a, b) = (self.resolve_ref(a), self.resolve_ref(b));
        let open = |t: &Ty| matches!(t, Ty::Var(_) | Ty::Witness(_));
        if !open(a) && !open(b) {
            // Nothing to decide: the common case, without copies.
            return a.fits(b);
        }
        let (a, b) = (a.clone(), b.clone());
        match (&a, &b) {
            (Ty::Var(i), Ty::Var(j)) => {
                if i == j {
                    return true;
                }
                if self.vars[*i].0 != self.vars[*j].0 {
                    return false;
                }
                self.vars[*i].1 = Some(Ty::Var(*j));
                true
            }
            (Ty::Var(i), t) | (t, Ty::Var(i)) => {
                let int = self.vars[*i].0;
                match t {
                    Ty::Int(_) if int => {
                        self.vars[*i].1 = Some(t.clone());
                        true
                    }
                    Ty::Float(_) if !int => {
                        self.vars[*i].1 = Some(t.clone());
                        true
                    }
                    Ty::IntLit => int,
                    Ty::FloatLit => !int,
                    Ty::Unknown => true,
                    _ => false,
                }
            }
            (Ty::Witness(x), Ty::Witness(y)) => {
                let (x, y) = ((**x).clone(), (**y).clone());
                self.unify(&x, &y)
            }
            _ => a.fits(&b),
        }
    }

    /// The more specific of two unified numeric types.
    pub(crate) fn meet(&self, a: &Ty, b: &Ty) -> Ty {
        let (a, b) = (self.resolve_ref(a), self.resolve_ref(b));
        let rank = |t: &Ty| match t {
            Ty::Int(_) | Ty::Float(_) => 3,
            Ty::Var(_) => 2,
            Ty::IntLit | Ty::FloatLit => 1,
            _ => 0,
        };
        if rank(b) > rank(a) {
            b.clone()
        } else {
            a.clone()
        }
    }
}

/// A `let` bound to an untyped literal gets a variable its uses decide.
pub(crate) fn literal_var(calls: &mut Calls, t: Ty, e: Expr<'_>) -> Ty {
    let int = match calls.resolve(&t) {
        Ty::IntLit => true,
        Ty::FloatLit => false,
        other => return other,
    };
    let v = calls.vars.len();
    calls.vars.push((int, None));
    check_literal(calls, e, &Ty::Var(v));
    Ty::Var(v)
}

/// A numeric literal as written.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Lit {
    Int(i64),
    Float(f64),
}

/// A literal written where a type meets it: checked (it must fit, §5.3.1)
/// once every literal variable of the body is decided.
pub(crate) fn check_literal(calls: &mut Calls, e: Expr<'_>, t: &Ty) {
    let lit = match e.kind() {
        ExprKind::Int(v) => Lit::Int(v),
        ExprKind::Float(f) => Lit::Float(f),
        _ => return,
    };
    // A literal that a decided width holds exactly needs no later check
    // (most literals: keeping them all cost memory in proportion to the body).
    let t = calls.resolve_ref(t).clone();
    let settled = match (lit, &t) {
        (Lit::Int(v), Ty::Int(w)) => {
            matches!(calls.names.prim(*w), Some(&PrimKind::Int { min, max }) if (min..=max).contains(&v))
        }
        (Lit::Float(_), Ty::Float(w)) => {
            matches!(
                calls.names.prim(*w),
                Some(PrimKind::Float { single: false })
            )
        }
        _ => false,
    };
    if !settled {
        calls.lits.push((lit, e.span(), t));
    }
}

/// The deferred literal checks; returns the spans of f32 literals (their
/// values are rounded to single precision when evaluated).
pub(crate) fn check_literals(ck: &mut Checker<'_>, calls: &mut Calls) -> Set<(usize, usize)> {
    let mut f32_lits = Set::default();
    for (lit, span, t) in std::mem::take(&mut calls.lits) {
        let t = calls.resolve(&t);
        let kind = match &t {
            Ty::Int(w) | Ty::Float(w) => calls.names.prim(*w).map(|k| (calls.names.text(*w), k)),
            _ => None,
        };
        match (lit, kind) {
            (Lit::Int(v), Some((w, &PrimKind::Int { min, max }))) if v < min || v > max => {
                ck.error(
                    crate::registry::TYPE_LITERAL,
                    span,
                    format!("does not fit `{w}`"),
                    format!("literal {v} does not fit `{w}` ({min}..={max})"),
                );
            }
            (Lit::Float(f), Some((w, &PrimKind::Float { single: true }))) => {
                if (f as f32).is_finite() {
                    f32_lits.insert((span.start(), span.end()));
                } else {
                    ck.error(
                        crate::registry::TYPE_LITERAL,
                        span,
                        format!("does not fit `{w}`"),
                        format!("literal {f} does not fit `{w}` (it is beyond single precision)"),
                    );
                }
            }
            _ => {}
        }
    }
    f32_lits
}

/// The regime intrinsic a call names, when no process of the forge has that name.
pub(crate) fn intrinsic_of<'t>(
    lin: &'t semantics::datalog::Linearity,
    c: &Compiled<'_>,
    forge: usize,
    callee: Path<'_>,
) -> Option<&'t semantics::datalog::Intrinsic> {
    // The intrinsics are a handful of names: asked first, the lookup of
    // the program's processes is made only for a call that names one.
    let i = lin.intrinsic(callee.single()?)?;
    resolve_ref(c, forge, callee.segments())
        .is_empty()
        .then_some(i)
}

pub(crate) fn infer<'p>(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    scope: &Scope<'_, '_>,
    e: Expr<'p>,
    calls: &mut Calls<'_, 'p>,
) -> Ty {
    match e.kind() {
        ExprKind::Int(_) => Ty::IntLit,
        ExprKind::Float(_) => Ty::FloatLit,
        ExprKind::Bool(_) => Ty::Bool,
        ExprKind::Str(_) => Ty::Str,
        ExprKind::Path(segs, mark) => {
            if let Some(n) = segs.single() {
                if let Some((slot, t)) = scope.lookup_marked(n, mark) {
                    mark.set(slot);
                    return t.clone();
                }
                // Not bound here: no earlier mark may stand.
                mark.clear();
                let later = scope.bound_later(n);
                let guess = ck.did_you_mean(n, scope.env.keys());
                let d = ck.error(
                    crate::registry::NAME_UNKNOWN,
                    e.span(),
                    "not found in this scope",
                    format!("unknown identifier `{n}`"),
                );
                d.help = guess;
                if let Some((i, s)) = later {
                    d.secondary.push(crate::diag::Label {
                        span: s,
                        message: format!("`{n}` is bound later, by statement {i}"),
                    });
                    d.help = Some("only constraints see the whole process (§7.3); move the `let` before this use".into());
                }
            } else {
                ck.error(
                    crate::registry::NAME_UNKNOWN,
                    e.span(),
                    "a process is not a value",
                    format!("`{}` is not a value", segs.text()),
                )
                .help = Some("processes are not values (§8.8); call it with `(...)`".into());
            }
            Ty::Unknown
        }
        ExprKind::Binary {
            op,
            op_span,
            lhs,
            rhs,
            width,
        } => {
            // Until decided below, the operator has no type of its own.
            width.clear();
            let l = infer(ck, c, scope, lhs, calls);
            let r = infer(ck, c, scope, rhs, calls);
            let Some(row) = ck.operator(op) else {
                return Ty::Unknown;
            };
            let class = row.class;
            let (l, r) = (calls.resolved(l), calls.resolved(r));
            // Most operators meet an integer of a width and another of the
            // same width or a literal: the general path below would unify
            // and meet them to that width, find nothing to decide, and
            // check the literal against it. The same, without the search.
            if let Some(w) = one_width(&l, &r) {
                if matches!(class, OpClass::Arith | OpClass::Compare) {
                    for (t, e) in [(&l, lhs), (&r, rhs)] {
                        if *t == Ty::IntLit {
                            check_literal(calls, e, &Ty::Int(w));
                        }
                    }
                    calls.op_width.mark(width, w, calls.names);
                    return match class {
                        OpClass::Arith => Ty::Int(w),
                        _ => Ty::Bool,
                    };
                }
            }
            let numeric = l.is_numeric() && r.is_numeric();
            // An arithmetic operator's result is its operands' type (below).
            let (ok, result, need) = match class {
                OpClass::Arith => (
                    numeric && calls.unify(&l, &r),
                    Ty::Unknown,
                    "two numeric operands of one type",
                ),
                OpClass::Compare => (
                    numeric && calls.unify(&l, &r),
                    Ty::Bool,
                    "two numeric operands of one type",
                ),
                OpClass::Logic => (
                    calls.unify(&l, &Ty::Bool) && calls.unify(&r, &Ty::Bool),
                    Ty::Bool,
                    "two bool operands",
                ),
                OpClass::Equality => (
                    calls.unify(&l, &r),
                    Ty::Bool,
                    "two operands of the same type",
                ),
            };
            if ok {
                let mut operands = calls.meet(&l, &r);
                // Arithmetic on literals only is untyped too: a variable,
                // so the use of its result decides the operation's type.
                if class == OpClass::Arith && matches!(operands, Ty::IntLit | Ty::FloatLit) {
                    calls.vars.push((operands == Ty::IntLit, None));
                    operands = Ty::Var(calls.vars.len() - 1);
                }
                let result = if class == OpClass::Arith {
                    operands.clone()
                } else {
                    result
                };
                check_literal(calls, lhs, &operands);
                check_literal(calls, rhs, &operands);
                if matches!(class, OpClass::Arith | OpClass::Compare) {
                    calls.operator_type(width, operands);
                }
                return result;
            }
            let (l, r) = (l.show(&c.ty_names), r.show(&c.ty_names));
            let d = ck.error(
                crate::registry::TYPE_OPERANDS,
                op_span,
                format!("`{}` needs {need}", op.word()),
                format!("`{}` cannot combine {l} and {r}", op.word()),
            );
            d.secondary.push(crate::diag::Label {
                span: lhs.span(),
                message: format!("this is {l}"),
            });
            d.secondary.push(crate::diag::Label {
                span: rhs.span(),
                message: format!("this is {r}"),
            });
            d.notes.push("DPL has no implicit conversion (§5.2)".into());
            if class == OpClass::Arith {
                Ty::Unknown
            } else {
                Ty::Bool
            }
        }
        ExprKind::Field { base, field } => {
            let bt = infer(ck, c, scope, base, calls);
            let bt = calls.resolved(bt);
            match &bt {
                Ty::Unknown => Ty::Unknown,
                Ty::Shape(s) => {
                    let shape = c.shape_ty(scope.forge, *s);
                    match shape.and_then(|sh| sh.field(field.name)) {
                        Some(d) => d.ty.clone(),
                        None => {
                            let s = c.ty_names.text(*s);
                            let fields = shape.map_or(&[][..], |sh| &sh.fields[..]);
                            let names = || fields.iter().map(|(n, _)| n.as_str());
                            let guess = ck.did_you_mean(field.name, names());
                            let known = crate::diag::list_capped(names());
                            ck.error(
                                crate::registry::FIELD_UNKNOWN,
                                field.span,
                                format!("no field `{}` on `{s}`", field.name),
                                format!("shape `{s}` has no field `{}`", field.name),
                            )
                            .help = Some(match guess {
                                Some(g) => format!("{g} (`{s}` has the fields: {known})"),
                                None => format!("`{s}` has the fields: {known}"),
                            });
                            Ty::Unknown
                        }
                    }
                }
                Ty::Measurement | Ty::Resource(_) => match field.name {
                    "resource" if bt == Ty::Measurement => Ty::Str,
                    "id" if bt != Ty::Measurement => Ty::Str,
                    "ty" => Ty::Str,
                    _ => {
                        ck.error(crate::registry::FIELD_UNKNOWN, field.span, "no such field", format!("{} has no field `{}`", bt.show(&c.ty_names), field.name))
                            .help = Some("a Measurement has the fields resource and ty; a resource has id and ty".into());
                        Ty::Unknown
                    }
                },
                Ty::Witness(sub) => match field.name {
                    "kind" | "id" | "proc" | "constraint_digest" => Ty::Str,
                    "subject" => (**sub).clone(),
                    _ => {
                        ck.error(
                            crate::registry::FIELD_UNKNOWN,
                            field.span,
                            "no such witness field",
                            format!("a witness has no field `{}`", field.name),
                        )
                        .help = Some(
                            "witness fields are kind, id, proc, constraint_digest and subject"
                                .into(),
                        );
                        Ty::Unknown
                    }
                },
                other => {
                    let other = other.show(&c.ty_names);
                    ck.error(
                        crate::registry::FIELD_UNKNOWN,
                        field.span,
                        format!("{other} has no fields"),
                        format!("field access `.{}` on a value of type {other}", field.name),
                    );
                    Ty::Unknown
                }
            }
        }
        ExprKind::Call {
            callee,
            callee_span,
            args,
        } => {
            if let Some(t) = infer_intrinsic(ck, c, scope, callee, callee_span, args, calls) {
                return t;
            }
            if callee.single() == Some(PHI_WITNESS)
                && resolve_ref(c, scope.forge, callee.segments()).is_empty()
            {
                // A witness exists only because constraints hold (§7.7):
                // only a Φ process may build one.
                let caller = &c.procs[scope.proc];
                if caller.proc.regime != Regime::Phi {
                    ck.error(
                        crate::registry::INTRINSIC_REGIME,
                        callee_span,
                        "a Φ intrinsic",
                        format!(
                            "`{PHI_WITNESS}` is an intrinsic of the Φ regime, called from {} process `{}`",
                            caller.proc.regime.symbol(),
                            caller.proc.name.name
                        ),
                    )
                    .help = Some("a witness exists only because a Φ process's constraints hold (§7.7): build it in a Φ process with `prove` or `phi_witness`, and bind that process to this one".into());
                    return Ty::Unknown;
                }
                ck.fire(crate::registry::PHI_WITNESS_DIGEST);
                calls.push((callee_span, Target::PhiWitness));
                let tys: Vec<Ty> = args.iter().map(|a| infer(ck, c, scope, a, calls)).collect();
                if tys.len() != 1 || !calls.unify(&tys[0], &Ty::Str) {
                    ck.error(
                        crate::registry::CALL_ARGS,
                        e.span(),
                        "expected one String",
                        "`phi_witness` takes one argument: the constraint digest (a String)",
                    );
                }
                return Ty::witness(Ty::Unit);
            }
            let target = resolve_call(ck, c, scope, callee, callee_span);
            // Reserved intrinsic arguments name types; they are not checked
            // as values while the intrinsic is not implemented.
            if target.is_none() && is_intrinsic(c, scope.forge, callee) {
                return Ty::Unknown;
            }
            let arg_tys: Vec<(Ty, Span)> = args
                .iter()
                .map(|a| (infer(ck, c, scope, a, calls), a.span()))
                .collect();
            let Some(target) = target else {
                return Ty::Unknown;
            };
            calls.push((callee_span, Target::Proc(target)));
            let t = &c.procs[target];
            calls.sites.push(CallSite {
                callee: target,
                span: callee_span,
                args_witness: arg_tys
                    .iter()
                    .any(|(a, _)| carries_witness(c, scope.forge, a)),
                result_witness: t
                    .ret
                    .as_ref()
                    .is_some_and(|d| carries_witness(c, t.forge, &d.ty)),
                in_predicate: calls.in_predicate,
            });
            if t.params.len() != args.len() {
                ck.error(
                    crate::registry::CALL_ARGS,
                    e.span(),
                    format!("{} argument(s) given", args.len()),
                    format!(
                        "`{}` takes {} argument(s), {} given",
                        t.qname,
                        t.params.len(),
                        args.len()
                    ),
                )
                .secondary
                .push(crate::diag::Label {
                    span: t.proc.name.span,
                    message: "defined here".into(),
                });
            } else {
                for (((at, asp), (pn, pd)), ae) in arg_tys.iter().zip(&t.params).zip(args) {
                    check_literal(calls, ae, &pd.ty);
                    if !calls.unify(at, &pd.ty) {
                        let at = calls.resolve(at);
                        ck.error(
                            crate::registry::CALL_ARGS,
                            *asp,
                            format!("this is {}", at.show(&c.ty_names)),
                            format!("argument for `{pn}` of `{}` must be `{}`", t.qname, pd.name),
                        );
                    }
                }
            }
            t.ret.as_ref().map(|d| d.ty.clone()).unwrap_or(Ty::Unit)
        }
        ExprKind::Struct { name, fields } => {
            let Some(shape) = c.shape(scope.forge, name.name) else {
                for (_, fe) in fields.iter() {
                    infer(ck, c, scope, fe, calls);
                }
                let guess =
                    ck.did_you_mean(name.name, c.shapes[scope.forge].keys().map(String::as_str));
                ck.error(
                    crate::registry::SHAPE_UNKNOWN,
                    name.span,
                    "no such shape in this forge",
                    format!("unknown shape `{}`", name.name),
                )
                .help = guess;
                return Ty::Unknown;
            };
            // Most literals give every field once, in the shape's order
            // (the compiler's): each is its field's, with no search, and
            // none can be missing, doubled or strange.
            if shape.given_in_order(fields) {
                for ((_, fe), (fname, d)) in fields.iter().zip(&shape.fields) {
                    let t = infer(ck, c, scope, fe, calls);
                    check_literal(calls, fe, &d.ty);
                    if !calls.unify(&t, &d.ty) {
                        struct_field_type(ck, c, calls, t, fe, fname, name.name, &d.name);
                    }
                }
                return Ty::Shape(shape.ty);
            }
            // Where each field of the shape was given; names the shape lacks
            // (already an error) are remembered apart, by name.
            let mut given: Vec<Option<Span>> = vec![None; shape.fields.len()];
            let mut strangers: Map<&str, Span> = Map::default();
            for (fname, fe) in fields.iter() {
                let t = infer(ck, c, scope, fe, calls);
                let at = shape.index_of(fname.name);
                let prev = match at {
                    Some(i) => given[i],
                    None => strangers.get(fname.name).copied(),
                };
                if let Some(prev) = prev {
                    ck.error(
                        crate::registry::STRUCT_FIELDS,
                        fname.span,
                        "given again here",
                        format!("field `{}` is given twice", fname.name),
                    )
                    .secondary
                    .push(crate::diag::Label {
                        span: prev,
                        message: "first given here".into(),
                    });
                    continue;
                }
                match at {
                    Some(i) => given[i] = Some(fname.span),
                    None => {
                        strangers.insert(fname.name, fname.span);
                    }
                }
                match shape.field(fname.name) {
                    None => {
                        ck.error(
                            crate::registry::STRUCT_FIELDS,
                            fname.span,
                            "not a field of this shape",
                            format!("shape `{}` has no field `{}`", name.name, fname.name),
                        );
                    }
                    Some(d)
                        if !{
                            check_literal(calls, fe, &d.ty);
                            calls.unify(&t, &d.ty)
                        } =>
                    {
                        struct_field_type(ck, c, calls, t, fe, fname.name, name.name, &d.name);
                    }
                    Some(_) => {}
                }
            }
            let missing: Vec<&str> = shape
                .fields
                .iter()
                .zip(&given)
                .filter(|(_, g)| g.is_none())
                .map(|((n, _), _)| n.as_str())
                .collect();
            if !missing.is_empty() {
                ck.error(
                    crate::registry::STRUCT_FIELDS,
                    e.span(),
                    format!("missing {}", missing.join(", ")),
                    format!(
                        "struct literal `{}` lacks field(s) {}",
                        name.name,
                        missing.join(", ")
                    ),
                );
            }
            Ty::Shape(shape.ty)
        }
    }
}

/// The width of two operand types that are one integer width, or an
/// integer width and an untyped integer literal.
fn one_width(l: &Ty, r: &Ty) -> Option<TyName> {
    match (l, r) {
        (Ty::Int(a), Ty::Int(b)) if a == b => Some(*a),
        (Ty::Int(a), Ty::IntLit) | (Ty::IntLit, Ty::Int(a)) => Some(*a),
        _ => None,
    }
}

/// A struct literal's field given a value of another type than its own.
#[allow(clippy::too_many_arguments)]
fn struct_field_type(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    calls: &Calls,
    t: Ty,
    fe: Expr<'_>,
    field: &str,
    shape: &str,
    ty: &str,
) {
    let t = calls.resolve(&t);
    ck.error(
        crate::registry::TYPE_PLACE,
        fe.span(),
        format!("this is {}", t.show(&c.ty_names)),
        format!("field `{field}` of `{shape}` has type `{ty}`"),
    );
}

/// A call to a reserved regime intrinsic (`q_*`, `phi_*`) that no process of
/// the forge defines.
pub(crate) fn is_intrinsic(c: &Compiled<'_>, forge: usize, callee: Path<'_>) -> bool {
    let last = callee.segments().last().unwrap_or("");
    last.starts_with("phi_") && resolve_ref(c, forge, callee.segments()).is_empty()
}

/// Types a call to a regime intrinsic of the table (None: not an intrinsic).
pub(crate) fn infer_intrinsic<'p>(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    scope: &Scope<'_, '_>,
    callee: Path<'_>,
    span: Span,
    args: Args<'p>,
    calls: &mut Calls<'_, 'p>,
) -> Option<Ty> {
    use semantics::datalog::{IntrinsicArg, IntrinsicResult};
    let tables = ck.tables;
    let lin = &tables.linearity;
    let i = intrinsic_of(lin, c, scope.forge, callee)?;
    let idx = lin.intrinsics.iter().position(|x| x.name == i.name)?;
    let caller = &c.procs[scope.proc];
    if regime_of(caller.proc.regime) != i.regime {
        ck.error(
            crate::registry::INTRINSIC_REGIME,
            span,
            format!("a {:?} intrinsic", i.regime),
            format!(
                "`{}` is an intrinsic of the {:?} regime, called from {} process `{}`",
                i.name,
                i.regime,
                caller.proc.regime.symbol(),
                caller.proc.name.name
            ),
        );
        return Some(Ty::Unknown);
    }
    ck.fire(&i.id);
    calls.push((span, Target::Intrinsic(idx)));
    let arg = match args.only() {
        Some(a) => a,
        None => {
            ck.error(
                crate::registry::INTRINSIC_ARG,
                span,
                format!("{} argument(s) given", args.len()),
                format!("`{}` takes exactly one argument", i.name),
            );
            return Some(Ty::Unknown);
        }
    };
    let name = match arg.kind() {
        ExprKind::Path(s, _) if s.single().is_some() => s.text().to_string(),
        _ => {
            let want = if i.arg == IntrinsicArg::TypeName {
                "a type name"
            } else {
                "a binding"
            };
            ck.error(
                crate::registry::INTRINSIC_ARG,
                arg.span(),
                format!("expected {want}"),
                format!("the argument of `{}` must be {want}", i.name),
            );
            return Some(Ty::Unknown);
        }
    };
    let arg_ty = match i.arg {
        IntrinsicArg::TypeName => {
            let known = lin.resource_types.contains(&name) || c.shape(scope.forge, &name).is_some();
            if !known {
                ck.error(
                    crate::registry::INTRINSIC_ARG,
                    arg.span(),
                    "not a resource type or shape",
                    format!(
                        "`{}` needs a shape of this forge or a resource type ({}), found `{name}`",
                        i.name,
                        lin.resource_types.join(", ")
                    ),
                );
                return Some(Ty::Unknown);
            }
            // `known`: interned already (resource types by `TyNames::new`, shapes
            // as the declarations were collected).
            c.ty_names.get(&name).map_or(Ty::Unknown, Ty::Resource)
        }
        IntrinsicArg::Binding => infer(ck, c, scope, arg, calls),
    };
    Some(match i.result {
        IntrinsicResult::Resource => arg_ty,
        IntrinsicResult::SameAsArg => arg_ty,
        IntrinsicResult::Unit => Ty::Unit,
        IntrinsicResult::Measurement => Ty::Measurement,
    })
}

pub(crate) fn resolve_call(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    scope: &Scope<'_, '_>,
    callee: Path<'_>,
    span: Span,
) -> Option<usize> {
    let found = resolve_ref(c, scope.forge, callee.segments());
    let caller = &c.procs[scope.proc];
    let name = callee.text();
    match found.as_slice() {
        [] => {
            let last = callee.segments().last().unwrap_or("");
            let unary = &ck.tables.types.unary;
            if callee.single().is_some() && unary.names.iter().any(|n| n == last) {
                ck.fire(&unary.id);
                let d = Diagnostic::new(
                    ck.tables,
                    &unary.code,
                    Some((&unary.id, &unary.cite)),
                    format!("`{last}(...)` is a unary operator, which DPL v0.1 does not have"),
                )
                .at(span, "unary operator")
                .note("the v0.1 expression grammar (§3.8) has binary operators only")
                .help("write `0 Sub x` for a negation, or `b Eq false` for a logical not");
                ck.push(d);
            } else if is_intrinsic(c, scope.forge, callee) {
                ck.error(crate::registry::INTRINSIC_RESERVED, span, "reserved name", format!("`{last}` is a reserved Φ intrinsic name, and no such intrinsic exists"))
                    .notes
                    .push("names starting with `phi_` are reserved for Φ intrinsics; DPL v0.1 has only `phi_witness`".into());
            } else {
                // Every process is visited, those of other forges too: the
                // suggestion budget pays for each (free, 40 000 unknown
                // calls beside another forge's 40 000 processes took 12 s).
                let guess = ck.did_you_mean_of(
                    last,
                    c.procs
                        .iter()
                        .map(|p| (p.forge == scope.forge).then_some(p.proc.name.name.as_str())),
                );
                ck.error(
                    crate::registry::CALL_UNKNOWN,
                    span,
                    "no such process in this forge",
                    format!("cannot find process `{name}`"),
                )
                .help = guess;
            }
            None
        }
        [one] => {
            let target = &c.procs[*one];
            if target.proc.regime == caller.proc.regime {
                ck.fire(crate::registry::CALL_SAME_REGIME);
                return Some(*one);
            }
            if c.binds_between(scope.proc, *one).next().is_some() {
                ck.fire(crate::registry::CALL_BOUND);
                return Some(*one);
            }
            {
                ck.error(
                    crate::registry::CALL_CROSS_REGIME,
                    span,
                    format!(
                        "{} calls {} without a binding",
                        caller.proc.regime.symbol(),
                        target.proc.regime.symbol()
                    ),
                    format!(
                        "cross-regime call from `{}` to `{}` needs a binding",
                        caller.qname, target.qname
                    ),
                )
                .help = Some(if target.proc.regime == Regime::Phi {
                    format!(
                        "declare a binding between them: `bind {c} -> {t}`, or `bind {t} -> {c}`, which also gates `{cn}` on `{tn}` having an admissible assignment (§10.6.1)",
                        c = format!("{}::{}", caller.proc.regime.symbol(), caller.proc.name.name),
                        t = format!("{}::{}", target.proc.regime.symbol(), target.proc.name.name),
                        cn = caller.proc.name.name,
                        tn = target.proc.name.name,
                    )
                } else {
                    format!(
                        "declare a binding between them, with its contract: `bind {}::{} -> {}::{}` (either direction)",
                        caller.proc.regime.symbol(),
                        caller.proc.name.name,
                        target.proc.regime.symbol(),
                        target.proc.name.name
                    )
                });
            }
            None
        }
        many => {
            let names: Vec<&str> = many.iter().map(|i| c.procs[*i].qname.as_str()).collect();
            ck.error(
                crate::registry::CALL_AMBIGUOUS,
                span,
                "ambiguous",
                format!("`{name}` names several processes: {}", names.join(", ")),
            )
            .help = Some("qualify the call with the regime, e.g. `K::name(...)`".into());
            None
        }
    }
}

/// Whether a value of type `t` is, or contains, a PhiWitness.
pub(crate) fn carries_witness(c: &Compiled<'_>, forge: usize, t: &Ty) -> bool {
    // Each shape is visited once (shapes may nest, even cyclically), so this
    // is linear in the forge's declarations.
    let mut seen: BTreeSet<TyName> = BTreeSet::new();
    let mut stack: Vec<&Ty> = vec![t];
    while let Some(t) = stack.pop() {
        match t {
            Ty::Witness(_) => return true,
            Ty::Shape(s) if seen.insert(*s) => {
                if let Some(sh) = c.shape_ty(forge, *s) {
                    stack.extend(sh.fields.iter().map(|(_, d)| &d.ty));
                }
            }
            _ => {}
        }
    }
    false
}
