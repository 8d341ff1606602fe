//! Whole-program checks over the call graph: cycles, depth, effects
//! reached from predicates, K→Q linearity across bindings.

#[allow(unused_imports)]
use super::*;

/// Effects a process performs or reaches through calls are subject to its
/// own regime's rows (§6.5.2, §6.5.3): a Q or Φ process that calls a K
/// process which emits would otherwise perform that effect. The regime row
/// of the effect kind decides, as for an effect written in the body.
pub(crate) fn check_reached_effects(ck: &mut Checker<'_>, c: &Compiled<'_>) {
    let tables = ck.tables;
    let n = c.procs.len();
    // Kinds each process reaches, bottom-up over the acyclic call graph.
    // Kind names borrowed from the program: a process's set is merged into
    // each caller's, and copying names made that a copy per effect.
    let mut reach: Vec<Option<BTreeSet<&str>>> = vec![None; n];
    // Only two kinds of call need what their callee reaches: calls inside
    // predicates, and calls by a process whose regime forbids some effect
    // (04-regimes.ron). A program of K processes calling K processes asks
    // for none, and pays for none.
    let forbids = [Regime::K, Regime::Q, Regime::Phi].map(|r| {
        let r = regime_of(r);
        tables.regimes.statements.iter().any(|row| {
            row.regime == r
                && matches!(row.construct, Construct::Effect(_))
                && row.verdict == Verdict::Forbidden
        })
    });
    let forbidding = |r: Regime| match r {
        Regime::K => forbids[0],
        Regime::Q => forbids[1],
        Regime::Phi => forbids[2],
    };
    let needed = c.regimes.iter().enumerate().flat_map(|(pi, r)| {
        let all = forbidding(*r);
        c.sites
            .of(pi)
            .iter()
            .filter(move |s| all || s.in_predicate)
            .map(|s| s.callee)
    });
    for start in needed {
        let mut stack = vec![(start, false)];
        while let Some((p, done)) = stack.pop() {
            if reach[p].is_some() {
                continue;
            }
            if !done {
                stack.push((p, true));
                stack.extend(
                    c.sites
                        .of(p)
                        .iter()
                        .filter(|s| reach[s.callee].is_none())
                        .map(|s| (s.callee, false)),
                );
                continue;
            }
            let mut kinds: BTreeSet<&str> = c.procs[p]
                .proc
                .body
                .iter()
                .filter_map(|s| match &s.kind {
                    StmtKind::Effect { kind, .. } => Some(kind.name.as_str()),
                    _ => None,
                })
                .collect();
            for s in c.sites.of(p) {
                if let Some(k) = &reach[s.callee] {
                    kinds.extend(k.iter().copied());
                }
            }
            reach[p] = Some(kinds);
        }
    }
    for (pi, p) in c.procs.iter().enumerate() {
        // Predicates are side-effect free (§7.2, §7.5.2) in every regime.
        for s in c.sites.of(pi).iter().filter(|s| s.in_predicate) {
            let Some(k) = reach[s.callee].as_ref().and_then(|k| k.iter().next()) else {
                continue;
            };
            ck.error(
                crate::registry::PRED_PURE,
                s.span,
                format!("reaches effect `{k}` in `{}`", c.procs[s.callee].qname),
                format!(
                    "a call inside a constraint or `prove` of `{}` reaches effect `{k}`",
                    p.qname
                ),
            )
            .notes
            .push("constraints and `prove` sources are side-effect free (§7.2, §7.5.2): nothing in a predicate is ever performed".into());
        }
        if !forbidding(c.regimes[pi]) {
            continue;
        }
        let regime = regime_of(c.regimes[pi]);
        let mut reported = BTreeSet::new();
        for s in c.sites.of(pi).iter().filter(|s| !s.in_predicate) {
            let Some(kinds) = &reach[s.callee] else {
                continue;
            };
            for &k in kinds {
                let Some(row) = tables.regimes.statements.iter().find(|r| {
                    r.regime == regime && matches!(&r.construct, Construct::Effect(e) if e == k)
                }) else {
                    continue;
                };
                // Only a Forbidden row reports: `forbids` above (which
                // decides whose calls are looked at) must ask the same.
                if row.verdict != Verdict::Forbidden || !reported.insert(k) {
                    continue;
                }
                let construct = row.construct.clone();
                ck.fire(&row.id);
                let what = semantics::construct_name(&construct);
                let d = forbidden_construct(tables, row, &construct, p.proc)
                    .at(
                        s.span,
                        format!("this call reaches {what} in `{}`", c.procs[s.callee].qname),
                    )
                    .also(
                        p.proc.regime_span,
                        format!("the process is {}", p.proc.regime.symbol()),
                    )
                    .note(format!(
                        "an effect reached through calls is performed by `{}` itself (§6.5)",
                        c.procs[pi].qname
                    ))
                    .help_opt(row.help.as_ref());
                ck.push(d);
            }
        }
    }
}

/// Whether a call between `a` and `b` crosses a binding whose contract
/// enforces linearity.
pub(crate) fn crosses_enforcing(tables: &Tables, c: &Compiled<'_>, a: usize, b: usize) -> bool {
    c.binds_between(a, b).any(|k| {
        enforced(
            tables,
            c.binds[k].bind,
            semantics::AttrMeaning::LinearityEnforced,
        ) == Some(true)
    })
}

/// K processes on the K side of a binding that enforces linearity with a Q
/// process (§10.5.2, brief 4.1): values they pass to Q are moved; values
/// they receive from Q (as a call's result, or as parameters when Q calls
/// them) stay linear. Decided by the linearity rules after every body is
/// checked, since a K process's parameters depend on its Q callers.
pub(crate) fn check_k_linearity(ck: &mut Checker<'_>, c: &Compiled<'_>) {
    // Only a value that crosses to or from a Q process is linear: without
    // a Q process there is nothing to decide (and no body to walk again).
    if !c.regimes.contains(&Regime::Q) {
        return;
    }
    let tables = ck.tables;
    // K processes a Q process calls across an enforcing binding.
    let mut linear_params: BTreeSet<usize> = BTreeSet::new();
    for (qi, q) in c.procs.iter().enumerate() {
        if q.proc.regime != Regime::Q {
            continue;
        }
        for s in c.sites.of(qi) {
            if c.procs[s.callee].proc.regime == Regime::K
                && crosses_enforcing(tables, c, qi, s.callee)
            {
                linear_params.insert(s.callee);
            }
        }
    }
    for (pi, p) in c.procs.iter().enumerate() {
        if p.proc.regime != Regime::K {
            continue;
        }
        let moves: BTreeSet<(usize, usize)> = c
            .sites
            .of(pi)
            .iter()
            // Only Q values are linear: what crosses to or from a Q process.
            .filter(|s| c.procs[s.callee].proc.regime == Regime::Q)
            .filter(|s| crosses_enforcing(tables, c, pi, s.callee))
            .map(|s| (s.span.start(), s.span.end()))
            .collect();
        // A binding that holds a value received across: the call itself,
        // or a struct literal with it in a field.
        fn carries(e: Expr<'_>, moves: &BTreeSet<(usize, usize)>) -> bool {
            match e.kind() {
                ExprKind::Call { callee_span, .. } => {
                    moves.contains(&(callee_span.start(), callee_span.end()))
                }
                ExprKind::Struct { fields, .. } => fields.iter().any(|(_, f)| carries(f, moves)),
                _ => false,
            }
        }
        let mut linear: BTreeSet<String> = p
            .proc
            .body
            .iter()
            .filter_map(|s| match &s.kind {
                StmtKind::Let { name, expr }
                | StmtKind::Call {
                    call: expr,
                    result: Some(name),
                } if carries(c.program.expr(*expr), &moves) => Some(name.name.to_string()),
                _ => None,
            })
            .collect();
        if linear_params.contains(&pi) {
            linear.extend(p.params.iter().map(|(n, _)| n.clone()));
        }
        crate::linearity::check_k_moves(ck, c, pi, &p.env, moves, linear);
    }
}

/// Deepest call chain the evaluator accepts (it recurses once per call).
pub const MAX_CALL_DEPTH: usize = 256;

/// The call graph is acyclic here; its longest chain must stay bounded.
pub(crate) fn check_depth(ck: &mut Checker<'_>, c: &Compiled<'_>) {
    let n = c.procs.len();
    let mut indeg = vec![0usize; n];
    for (_, s) in c.sites.all() {
        indeg[s.callee] += 1;
    }
    let adj = |v: usize| c.sites.of(v).iter().map(|s| s.callee);
    let mut order: Vec<usize> = (0..n).filter(|v| indeg[*v] == 0).collect();
    let mut i = 0;
    while i < order.len() {
        let v = order[i];
        i += 1;
        for w in adj(v) {
            indeg[w] -= 1;
            if indeg[w] == 0 {
                order.push(w);
            }
        }
    }
    let mut depth = vec![1usize; n];
    for &v in order.iter().rev() {
        depth[v] = 1 + adj(v).map(|w| depth[w]).max().unwrap_or(0);
    }
    if let Some(v) = (0..n).find(|v| depth[*v] > MAX_CALL_DEPTH) {
        ck.error(
            crate::registry::CALL_DEPTH,
            c.procs[v].proc.name.span,
            format!("starts a chain of {} nested processes", depth[v]),
            format!(
                "the call chain from `{}` nests {} processes ({} calls); the limit is {MAX_CALL_DEPTH} processes",
                c.procs[v].qname,
                depth[v],
                depth[v] - 1
            ),
        );
    }
}

/// Processes of a cycle named in its message; a longer cycle shows its two
/// ends around how many are left out.
const CYCLE_SHOWN: usize = 8;

/// Returns whether the call graph is acyclic.
pub(crate) fn check_cycles(ck: &mut Checker<'_>, c: &Compiled<'_>) -> bool {
    let mut acyclic = true;
    let n = c.procs.len();
    // Iterative DFS with colours; report each cycle once, at its first edge.
    let mut colour = vec![0u8; n];
    // Where each process on the DFS stack sits in it: a back edge finds its
    // cycle's start without a search (searched, and the whole cycle named,
    // 16 000 processes each calling the first took 5 s and 1.9 GB).
    let mut at = vec![0usize; n];
    for start in 0..n {
        if colour[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = 1;
        at[start] = 0;
        while let Some(&mut (v, ref mut i)) = stack.last_mut() {
            if let Some(site) = c.sites.of(v).get(*i) {
                let (w, span) = (site.callee, site.span);
                *i += 1;
                match colour[w] {
                    0 => {
                        colour[w] = 1;
                        at[w] = stack.len();
                        stack.push((w, 0));
                    }
                    1 => {
                        let cycle = &stack[at[w].min(stack.len())..];
                        let name = |x: usize| c.procs[x].qname.as_str();
                        let mut names: Vec<String> = Vec::new();
                        if cycle.len() <= CYCLE_SHOWN {
                            names.extend(cycle.iter().map(|(x, _)| name(*x).to_string()));
                        } else {
                            let half = CYCLE_SHOWN / 2;
                            names.extend(cycle[..half].iter().map(|(x, _)| name(*x).to_string()));
                            names.push(format!("… {} more …", cycle.len() - 2 * half));
                            names.extend(
                                cycle[cycle.len() - half..]
                                    .iter()
                                    .map(|(x, _)| name(*x).to_string()),
                            );
                        }
                        names.push(name(w).to_string());
                        acyclic = false;
                        ck.error(
                            crate::registry::CALL_NO_RECURSION,
                            span,
                            "this call closes a cycle",
                            format!("recursive call: {}", names.join(" -> ")),
                        );
                    }
                    _ => {}
                }
            } else {
                colour[v] = 2;
                stack.pop();
            }
        }
    }
    acyclic
}
