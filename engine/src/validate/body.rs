//! Process bodies: statement by statement, against the regime table and
//! the scope rules (§5.6, §7.3).

#[allow(unused_imports)]
use super::*;

pub(crate) fn later_span(s: &Stmt) -> Span {
    match &s.kind {
        StmtKind::Later { kind, .. } => kind.span,
        _ => s.span,
    }
}

/// What checking a body finds: calls by callee span, process call sites,
/// and the types of the names it binds.
pub(crate) type Checked<'p> = (
    Vec<(Span, Target)>,
    Vec<CallSite>,
    NameTypes<'p>,
    OpWidths,
    Set<(usize, usize)>,
    BindSlots,
    StmtCounts,
);

/// Checks one body; returns the calls it makes (callee span, target).
/// `populate`: the lists it fills are faulted in on another thread.
pub(crate) fn check_proc<'p>(
    ck: &mut Checker<'_>,
    c: &Compiled<'p>,
    pi: usize,
    populate: bool,
) -> Checked<'p> {
    let errors_before = ck.errors();
    let info = &c.procs[pi];
    let p = info.proc;
    let tables = ck.tables;

    check_qualifiers(ck, p);

    let mut counts = StmtCounts::of(&p.body);
    // The body's static cost, summed where each statement is at hand
    // (admission reads it), under its regime's step table.
    let mut cost = 0u64;
    let mut scope = Scope {
        forge: info.forge,
        proc: pi,
        // Every name the body can bind, known up front: no rehashing.
        env: NameTypes::of_body(
            &p.params,
            &p.body,
            p.params.len() + counts.bindings,
            ck.whole_names_from,
        ),
        body: &p.body,
        first_bound: std::cell::OnceCell::new(),
    };
    for (i, (prm, (_, d))) in p.params.iter().zip(&info.params).enumerate() {
        // A parameter named twice is reported with the signature.
        let _ = scope.env.bind(Binder::Param(i), &prm.name, d.ty.clone());
    }
    let names = &c.ty_names;
    let program = c.program;
    let x = |r: &ExprRoot| program.expr(*r);
    let mut calls = Calls::new(names);
    let mut return_at: Option<Span> = None;
    let mut reported_after_return = false;

    let mut bind_slots = BindSlots::with_capacity(p.body.len());
    // The lists a large body fills as it goes, faulted in on another core.
    let [binders, types] = scope.env.rooms();
    let _populating =
        populate.then(|| crate::populate::beside(&[binders, types, bind_slots.room()]));
    let mut legality_fired = vec![false; tables.regimes.statements.len()];
    // Waiting operators marked as their types are decided (`mark_decided`).
    let (mut ready, mut front) = (0, None);
    for (si, s) in p.body.iter().enumerate() {
        cost = cost.saturating_add(ck.steps[p.regime.index()].tick_cost(&s.kind));
        calls.mark_decided(&mut ready, &mut front);
        if let (Some(rs), false) = (return_at, reported_after_return) {
            reported_after_return = true;
            ck.error(
                crate::registry::RET_LAST,
                s.span,
                "statement after `return`",
                "`return` must be the last statement of a process",
            )
            .secondary
            .push(crate::diag::Label {
                span: rs,
                message: "the process returns here".into(),
            });
        }
        // Regime legality (table 04) or later-version rejection (table 00).
        if !check_legality(ck, p, s, &mut legality_fired) {
            continue;
        }
        match &s.kind {
            StmtKind::Let { name, expr } => {
                let expr = x(expr);
                let t = infer(ck, c, &scope, expr, &mut calls);
                let t = literal_var(&mut calls, t, expr);
                bind_slots.set(si, bind(ck, &mut scope, si, name, t));
            }
            StmtKind::Prove { name, from } => {
                let from = x(from);
                calls.in_predicate = true;
                let t = infer(ck, c, &scope, from, &mut calls);
                calls.in_predicate = false;
                let t = literal_var(&mut calls, t, from);
                bind_slots.set(si, bind(ck, &mut scope, si, name, Ty::witness(t)));
            }
            StmtKind::Effect { payload, .. } => {
                infer(ck, c, &scope, x(payload), &mut calls);
            }
            StmtKind::Call { call, result } => {
                let call = x(call);
                let t = infer(ck, c, &scope, call, &mut calls);
                match result {
                    Some(name) => {
                        let t = literal_var(&mut calls, t, call);
                        bind_slots.set(si, bind(ck, &mut scope, si, name, t));
                    }
                    // In Q a discarded linear value is a linearity error
                    // (the lowering gives it a binding nobody uses).
                    None if t.fits(&Ty::Unit) || p.regime == Regime::Q => {}
                    None => {
                        let target = match call.kind() {
                            ExprKind::Call { callee, .. } => callee.text().to_string(),
                            _ => String::new(),
                        };
                        ck.error(
                            crate::registry::CALL_DISCARD,
                            call.span(),
                            format!("the value ({}) is discarded", t.show(names)),
                            format!("call of `{target}` discards its {} result", t.show(names)),
                        )
                        .help = Some(format!(
                            "name the result: `\"result\": \"y\"` (JSON) or `call {target}(...) -> y;` (text)"
                        ));
                    }
                }
            }
            StmtKind::Return { expr } => {
                return_at = Some(s.span);
                check_return(ck, c, &scope, &mut calls, pi, expr.as_ref().map(x), s.span);
            }
            // Checked with the whole body's names, below.
            StmtKind::Constrain { predicate } => {
                scope.premark(x(predicate));
            }
            StmtKind::Later { .. } => {}
        }
    }
    if let (Some(d), None) = (&info.ret, return_at) {
        ck.error(
            crate::registry::RET_MISSING,
            p.name.span,
            "no `return` in this process",
            format!(
                "process `{}` declares return type `{}` but never returns",
                p.name.name, d.name
            ),
        );
    }
    // Constraints see the whole process (§7.3).
    let scope_all = scope;
    for s in &p.body {
        if let StmtKind::Constrain { predicate } = &s.kind {
            let predicate = x(predicate);
            calls.in_predicate = true;
            let t = infer(ck, c, &scope_all, predicate, &mut calls);
            calls.in_predicate = false;
            if !calls.unify(&t, &Ty::Bool) {
                let t = calls.resolve(&t);
                ck.error(
                    crate::registry::CONSTRAIN_BOOL,
                    predicate.span(),
                    format!("this is {}", t.show(names)),
                    "a constraint's predicate must be boolean",
                );
            }
        }
    }
    // Literal variables no use decided take the default widths (05-types.ron);
    // then every literal-bound `let` and every operator has its type.
    let defaults = &tables.types.literal_defaults;
    let (int_default, float_default) = (names.int_default, names.float_default);
    let mut used_default = false;
    for i in 0..calls.vars.len() {
        if matches!(calls.resolve(&Ty::Var(i)), Ty::Var(_)) {
            let root = match calls.resolve(&Ty::Var(i)) {
                Ty::Var(r) => r,
                _ => i,
            };
            calls.vars[root].1 = Some(match (calls.vars[root].0, int_default, float_default) {
                (true, Some(w), _) => Ty::Int(w),
                (false, _, Some(w)) => Ty::Float(w),
                _ => Ty::Unknown,
            });
            used_default = true;
        }
    }
    if used_default {
        ck.fire(&defaults.id);
    }
    let f32_lits = check_literals(ck, &mut calls);
    for (mark, t) in std::mem::take(&mut calls.ops) {
        let w = match *calls.resolve_ref(&t) {
            Ty::Int(w) | Ty::Float(w) => Some(w),
            Ty::IntLit => int_default,
            Ty::FloatLit => float_default,
            _ => continue,
        };
        if let Some(w) = w {
            calls.op_width.mark(mark, w, names);
        }
    }
    let op_width = std::mem::take(&mut calls.op_width);
    let mut env_types: NameTypes<'p> = scope_all.env;
    for t in env_types.values_mut() {
        *t = calls.resolve(t);
    }
    // Linearity is decided only on bodies that type-check: a misuse of an
    // unknown name would otherwise be reported twice.
    if p.regime == Regime::Q && ck.errors() == errors_before {
        crate::linearity::check(ck, c, pi, &env_types);
    }
    counts.tick_cost = cost;
    (
        calls.list,
        calls.sites,
        env_types,
        op_width,
        f32_lits,
        bind_slots,
        counts,
    )
}

/// Binds the name statement `at` binds; its slot, unless it was bound
/// already (an error).
pub(crate) fn bind<'a>(
    ck: &mut Checker<'_>,
    scope: &mut Scope<'a, '_>,
    at: usize,
    name: &'a Ident,
    t: Ty,
) -> Option<usize> {
    let prev = match scope.env.bind(Binder::Stmt(at), name, t) {
        Ok(slot) => return Some(slot),
        Err(prev) => prev,
    };
    {
        ck.error(
            crate::registry::LET_NO_REBIND,
            name.span,
            "bound again here",
            format!("`{}` is already bound in this process", name.name),
        )
        .secondary
        .push(crate::diag::Label {
            span: prev,
            message: "first bound here".into(),
        });
    }
    None
}

/// The diagnostic of a regime row that forbids a construct in a process
/// (its code, cite, message template and help come from the row).
pub(crate) fn forbidden_construct(
    tables: &Tables,
    row: &semantics::StatementRule,
    construct: &Construct,
    p: &Proc,
) -> Diagnostic {
    let what = semantics::construct_name(construct);
    Diagnostic::new(
        tables,
        row.code.as_deref().unwrap_or("E0101"),
        Some((&row.id, &row.cite)),
        semantics::fill(
            row.message
                .as_deref()
                .unwrap_or("{construct} is not allowed in a {regime} process"),
            &[
                ("construct", &what),
                ("regime", p.regime.symbol()),
                ("proc", &p.name.name),
            ],
        ),
    )
    .help_opt(row.help.as_ref())
}

/// The process's qualifiers against the regime table (§4.3, §4.4.3).
fn check_qualifiers(ck: &mut Checker<'_>, p: &Proc) {
    let regime = regime_of(p.regime);
    let tables = ck.tables;
    for q in &p.qualifiers {
        match tables
            .regimes
            .qualifiers
            .iter()
            .find(|r| r.regime == regime && r.qualifier == q.name)
        {
            Some(r) => {
                ck.fire(&r.id);
                if r.requirement == Requirement::Forbidden {
                    let d = Diagnostic::new(
                        tables,
                        r.code.as_deref().unwrap_or("E0103"),
                        Some((&r.id, &r.cite)),
                        semantics::fill(
                            r.message.as_deref().unwrap_or(
                                "qualifier `{qualifier}` is not allowed on a {regime} process",
                            ),
                            &[
                                ("qualifier", &q.name),
                                ("regime", p.regime.symbol()),
                                ("proc", &p.name.name),
                            ],
                        ),
                    )
                    .at(q.span, "not allowed here")
                    .help_opt(r.help.as_ref());
                    ck.push(d);
                }
            }
            None => {
                ck.error(
                    crate::registry::QUALIFIER_UNKNOWN,
                    q.span,
                    "unknown qualifier",
                    format!("unknown qualifier `{}`", q.name),
                );
            }
        }
    }
    for r in tables
        .regimes
        .qualifiers
        .iter()
        .filter(|r| r.regime == regime && r.requirement == Requirement::Required)
    {
        if !p.qualifiers.iter().any(|q| q.name == r.qualifier) {
            ck.fire(&r.id);
            let d = Diagnostic::new(
                tables,
                r.code.as_deref().unwrap_or("E0102"),
                Some((&r.id, &r.cite)),
                semantics::fill(
                    r.message.as_deref().unwrap_or(
                        "{regime} process `{proc}` lacks the required qualifier `{qualifier}`",
                    ),
                    &[
                        ("qualifier", &r.qualifier),
                        ("regime", p.regime.symbol()),
                        ("proc", &p.name.name),
                    ],
                ),
            )
            .at(p.name.span, format!("`{}` required here", r.qualifier))
            .also(p.regime_span, format!("regime {}", p.regime.symbol()))
            .help_opt(r.help.as_ref());
            ck.push(d);
        }
    }
}

/// Regime legality (04-regimes.ron) of one statement, or its rejection as
/// a statement of a later version (00-profile.ron); false for the latter,
/// whose body is not checked further. `fired` has a flag per row of the
/// regime table: a row decides every statement of its construct, and is
/// recorded the first time.
fn check_legality(ck: &mut Checker<'_>, p: &Proc, s: &Stmt, fired: &mut [bool]) -> bool {
    let regime = regime_of(p.regime);
    let tables = ck.tables;
    let known_effect = |kind: &str| tables.effects.kinds.iter().any(|k| k.kind == kind);
    match &s.kind {
        StmtKind::Later { .. } => {
            let tag = s.kind.tag();
            match tables
                .profile
                .later_statements
                .iter()
                .find(|l| l.statement == tag)
            {
                Some(l) => {
                    ck.fire(&l.id);
                    let d = Diagnostic::new(tables, &l.code, Some((&l.id, &l.cite)), format!("`{tag}` requires a later DPL version (DPL {})", l.since))
                        .at(later_span(s), format!("`{tag}` is a DPL {} statement", l.since))
                        .note(format!("dustrun implements DPL {}; programs that need a later version are rejected, never guessed at", tables.profile.dpl_version));
                    ck.push(d);
                }
                None => {
                    let r = &tables.profile.later_dir;
                    ck.fire(&r.id);
                    let d = Diagnostic::new(
                        tables,
                        &r.code,
                        Some((&r.id, &r.cite)),
                        format!(
                            "`{tag}` is not a DPL {} statement",
                            tables.profile.dpl_version
                        ),
                    )
                    .at(later_span(s), "not supported");
                    ck.push(d);
                }
            }
            return false;
        }
        StmtKind::Effect { kind: ident, .. } if !known_effect(&ident.name) => {
            let (kind, span) = (&ident.name, ident.span);
            let known: Vec<&str> = tables
                .effects
                .kinds
                .iter()
                .map(|k| k.kind.as_str())
                .collect();
            let guess = ck.did_you_mean(kind, known.iter().copied());
            ck.error(
                crate::registry::EFFECT_KIND_UNKNOWN,
                span,
                "unknown effect kind",
                format!("unknown effect kind `{kind}`"),
            )
            .help = Some(match guess {
                Some(g) => format!("{g} (effect kinds are {})", known.join(", ")),
                None => format!("effect kinds are {}", known.join(", ")),
            });
        }
        kind => {
            let rows = &tables.regimes.statements;
            if let Some(ri) = rows
                .iter()
                .position(|r| r.regime == regime && crate::types::is_construct(&r.construct, kind))
            {
                let row = &rows[ri];
                if !std::mem::replace(&mut fired[ri], true) {
                    ck.fire(&row.id);
                }
                if row.verdict == Verdict::Forbidden {
                    let construct = row.construct.clone();
                    let what = semantics::construct_name(&construct);
                    let d = forbidden_construct(tables, row, &construct, p)
                        .at(
                            s.span,
                            format!("{what} in {} process `{}`", p.regime.symbol(), p.name.name),
                        )
                        .also(
                            p.regime_span,
                            format!("the process is {}", p.regime.symbol()),
                        )
                        .help_opt(row.help.as_ref());
                    ck.push(d);
                }
            }
        }
    }
    true
}

/// The return rules (§8.5): a value exactly when a type is declared, of
/// that type.
fn check_return<'p>(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    scope: &Scope<'_, '_>,
    calls: &mut Calls<'_, 'p>,
    pi: usize,
    expr: Option<Expr<'p>>,
    at: Span,
) {
    let info = &c.procs[pi];
    let p = info.proc;
    match (expr, &info.ret) {
        (Some(e), None) => {
            infer(ck, c, scope, e, calls);
            ck.error(
                crate::registry::RET_UNEXPECTED,
                e.span(),
                "value returned here",
                format!(
                    "process `{}` has no return type but returns a value",
                    p.name.name
                ),
            )
            .help = Some("declare the return type, or write `return;`".into());
        }
        (Some(e), Some(d)) => {
            let t = infer(ck, c, scope, e, calls);
            check_literal(calls, e, &d.ty);
            if !calls.unify(&t, &d.ty) {
                let t = calls.resolve(&t);
                let t = t.show(&c.ty_names);
                let rs = p.ret.as_ref().map(|r| r.span).unwrap_or(p.name.span);
                ck.error(
                    crate::registry::RET_TYPE,
                    e.span(),
                    format!("this is {t}"),
                    format!(
                        "process `{}` returns {t}, but declares `{}`",
                        p.name.name, d.name
                    ),
                )
                .secondary
                .push(crate::diag::Label {
                    span: rs,
                    message: "declared here".into(),
                });
            }
        }
        (None, Some(d)) => {
            ck.error(
                crate::registry::RET_MISSING,
                at,
                "returns no value",
                format!(
                    "process `{}` must return a value of type `{}`",
                    p.name.name, d.name
                ),
            );
        }
        (None, None) => {}
    }
}
