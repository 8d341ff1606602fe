//! Declarations: forges, shapes, processes, bindings and their contracts,
//! `uses` clauses; names resolved to indices (`compile` drives the whole
//! validation).

#[allow(unused_imports)]
use super::*;

pub(crate) fn compile<'p>(ck: &mut Checker<'_>, program: &'p Program) -> Option<Compiled<'p>> {
    compile_beside(ck, program, None)
}

/// What evaluates a process while another thread checks it
/// (`exec::Beside`): the process, chosen once the declarations are
/// collected, and its evaluation, run on the calling thread while the
/// process's body is checked on another.
pub(crate) trait BesideCheck {
    /// The process to evaluate beside its check, if any.
    fn entry(&mut self, c: &Compiled<'_>) -> Option<usize>;
    /// Evaluates `pi` while it is checked; `check` says when the check is
    /// over (however it ends) and whether it found an error.
    fn run(&mut self, c: &Compiled<'_>, pi: usize, check: &crate::exec::CheckState);
}

/// The checking thread's stack: what the thread it stands in for has
/// (`dir_grammar::on_parse_stack`, reserved, not committed).
const CHECK_STACK_BYTES: usize = 256 * 1024 * 1024;

/// `compile`, with `beside` evaluating a process while it is checked. Only
/// a program's first check evaluates beside it (every mark unset until the
/// check sets it, which the evaluation relies on).
pub(crate) fn compile_beside<'p>(
    ck: &mut Checker<'_>,
    program: &'p Program,
    beside: Option<&mut dyn BesideCheck>,
) -> Option<Compiled<'p>> {
    let first = program.checked.first();
    let mut beside = beside.filter(|_| first);
    let tables = ck.tables;
    if let Some(v) = &program.version {
        if !tables.profile.dir_versions.iter().any(|x| *x == v.name) {
            let r = &tables.profile.later_dir;
            ck.fire(&r.id);
            let d = Diagnostic::new(tables, &r.code, Some((&r.id, &r.cite)), format!("DIR version {} is not supported", v.name))
                .at(v.span, format!("this executor implements DIR {}", tables.profile.dir_versions.join(", ")))
                .note(format!("dustrun implements DPL {}; input that needs a later version is rejected, never guessed at", tables.profile.dpl_version));
            ck.push(d);
            return None;
        }
    }

    check_later_fields(ck, program);

    // Forges are named once (§12.5).
    let mut forge_names: Map<&str, Span> = Map::default();
    for f in &program.forges {
        match forge_names.get(f.name.name.as_str()) {
            Some(prev) => {
                let prev = *prev;
                ck.error(
                    crate::registry::FORGE_DUPLICATE,
                    f.name.span,
                    "defined again here",
                    format!("forge `{}` is defined twice", f.name.name),
                )
                .secondary
                .push(crate::diag::Label {
                    span: prev,
                    message: "first defined here".into(),
                });
            }
            None => {
                forge_names.insert(&f.name.name, f.name.span);
            }
        }
    }

    let mut ty_names = TyNames::new(tables);
    let shapes = collect_shapes(ck, &mut ty_names, program);
    let (procs, by_name) = signatures(ck, &mut ty_names, program);

    // The large maps of a whole program are sized once: grown by
    // rehashing, a table of 100 000 processes is rebuilt a dozen times.
    let n_procs = procs.len();
    let regimes = procs.iter().map(|p| p.proc.regime).collect();
    let mut compiled = Compiled {
        program,
        procs,
        shapes,
        by_name,
        binds: Vec::new(),
        between: Between::default(),
        ty_names,
        sites: CallSites::with_capacity(n_procs),
        regimes,
    };

    // Binding endpoints resolve inside their forge.
    for (fi, f) in program.forges.iter().enumerate() {
        for b in &f.binds {
            let ends = [&b.source, &b.target].map(|e| resolve_ref(&compiled, fi, e.segments()));
            if let ([s], [t]) = (&ends[0][..], &ends[1][..]) {
                compiled.binds.push(BindInfo {
                    bind: b,
                    source: *s,
                    target: *t,
                });
            }
            check_contract(ck, b);
            for (end, found) in [&b.source, &b.target].into_iter().zip(&ends) {
                if found.is_empty() {
                    ck.error(
                        crate::registry::BIND_RESOLVE,
                        end.span,
                        "no such process in this forge",
                        format!(
                            "binding endpoint `{}` does not name a process of forge `{}`",
                            end.text(),
                            f.name.name
                        ),
                    );
                } else if found.len() > 1 {
                    let names: Vec<&str> = found
                        .iter()
                        .map(|i| compiled.procs[*i].qname.as_str())
                        .collect();
                    ck.error(
                        crate::registry::BIND_AMBIGUOUS,
                        end.span,
                        "names several processes",
                        format!(
                            "binding endpoint `{}` is ambiguous: it names {}",
                            end.text(),
                            names.join(", ")
                        ),
                    )
                    .help = Some("qualify it with the regime, e.g. `K::name`".into());
                }
            }
        }
    }
    compiled.between = Between::new(compiled.binds.iter().map(|b| (b.source, b.target)));
    // Every entity is uniquely identifiable (§12.5): one binding per
    // source and target. The bindings sorted by (source, target) put each
    // pair's declarations together, its first one first.
    let pairs: Vec<(usize, usize)> = compiled
        .binds
        .iter()
        .map(|b| (b.source, b.target))
        .collect();
    let first_of = first_declarations(&pairs);
    for (k, b) in compiled.binds.iter().enumerate() {
        let first = first_of[k];
        if first != k {
            let prev = compiled.binds[first].bind.span;
            ck.error(
                crate::registry::BIND_DUPLICATE,
                b.bind.span,
                "declared again here",
                format!(
                    "binding `{} -> {}` is declared twice",
                    b.bind.source.text(),
                    b.bind.target.text()
                ),
            )
            .secondary
            .push(crate::diag::Label {
                span: prev,
                message: "first declared here".into(),
            });
        }
    }

    for p in &compiled.procs {
        check_uses(ck, p.proc);
    }

    // Bodies.
    let entry = match beside.as_deref_mut() {
        Some(b) if ck.errors() == 0 => b.entry(&compiled),
        _ => None,
    };
    for pi in 0..compiled.procs.len() {
        // (Not once an error is found: the program is rejected, and
        // nothing is evaluated.)
        let checked = match beside
            .as_deref_mut()
            .filter(|_| entry == Some(pi) && ck.errors() == 0)
        {
            Some(b) => check_beside(ck, &compiled, pi, b),
            None => check_proc(ck, &compiled, pi, true),
        };
        let (calls, sites, env, op_width, f32_lits, bind_slots, counts) = checked;
        compiled.procs[pi].bind_slots = bind_slots;
        compiled.procs[pi].counts = counts;
        compiled.procs[pi].f32_lits = f32_lits;
        compiled.sites.push(pi, sites);
        compiled.procs[pi].env = env;
        compiled.procs[pi].op_width = op_width;
        compiled.procs[pi].targets = Targets::new(calls);
    }

    debug_assert_eq!(compiled.sites.recorded(), compiled.procs.len());

    if ck.errors() == 0 {
        check_k_linearity(ck, &compiled);
    }

    if check_cycles(ck, &compiled) {
        check_depth(ck, &compiled);
        check_reached_effects(ck, &compiled);
    }

    if ck.errors() == 0 {
        Some(compiled)
    } else {
        None
    }
}

/// `check_proc` on another thread while `beside` evaluates the process here.
fn check_beside<'p>(
    ck: &mut Checker<'_>,
    c: &Compiled<'p>,
    pi: usize,
    beside: &mut dyn BesideCheck,
) -> super::body::Checked<'p> {
    use std::sync::atomic::Ordering;
    /// Says the check is over however it ends (a panic included): the
    /// evaluation waits on it.
    struct Over<'a>(&'a crate::exec::CheckState);
    impl Drop for Over<'_> {
        fn drop(&mut self) {
            self.0.done.store(true, Ordering::Release);
        }
    }
    let check = crate::exec::CheckState::default();
    let checked = std::thread::scope(|s| {
        let checker = std::thread::Builder::new()
            .name("check".into())
            .stack_size(CHECK_STACK_BYTES)
            .spawn_scoped(s, || {
                let _over = Over(&check);
                let errors = ck.errors();
                // Both cores are busy (checking, evaluating): the check's
                // lists fault where they are written (measured:
                // populating the evaluation's lists pays, the check's not).
                let checked = check_proc(ck, c, pi, false);
                if ck.errors() > errors {
                    check.failed.store(true, Ordering::Relaxed);
                }
                checked
            });
        // No thread (resource limits): checked here, evaluated after.
        let h = checker.ok()?;
        beside.run(c, pi, &check);
        Some(match h.join() {
            Ok(checked) => checked,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    });
    match checked {
        Some(checked) => checked,
        None => check_proc(ck, c, pi, true),
    }
}

/// For each binding, the first binding declared with the same source and
/// target (itself, when it is the first): one sort, whatever the pairs.
fn first_declarations(pairs: &[(usize, usize)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    // Stable: a pair's declarations stay in declaration order.
    order.sort_by_key(|k| pairs[*k]);
    let mut first_of: Vec<usize> = (0..pairs.len()).collect();
    for run in order.chunk_by(|a, b| pairs[*a] == pairs[*b]) {
        for k in run {
            first_of[*k] = run[0];
        }
    }
    first_of
}

/// A lookup-only map with room for `n` entries.
fn map_with_capacity<K, V>(n: usize) -> Map<K, V> {
    Map::with_capacity_and_hasher(n, Default::default())
}

/// Records a definition; a second one of the same key is DEF-DUPLICATE,
/// pointing at both. Returns whether this was the first.
/// (`seen` is only looked up, never iterated: a hash map, which a program
/// of 100 000 processes needs rather than an ordered map of their names.)
pub(crate) fn first_definition<K: std::hash::Hash + Eq>(
    ck: &mut Checker<'_>,
    seen: &mut Map<K, Span>,
    key: K,
    span: Span,
    what: impl Fn() -> String,
) -> bool {
    match seen.get(&key) {
        Some(prev) => {
            duplicate(ck, span, *prev, what);
            false
        }
        None => {
            seen.insert(key, span);
            true
        }
    }
}

/// DEF-DUPLICATE: `what`, defined at `prev`, is defined again at `span`.
fn duplicate(ck: &mut Checker<'_>, span: Span, prev: Span, what: impl Fn() -> String) {
    ck.error(
        crate::registry::DEF_DUPLICATE,
        span,
        "defined again here",
        format!("{} is defined twice", what()),
    )
    .secondary
    .push(crate::diag::Label {
        span: prev,
        message: "first defined here".into(),
    });
}

/// The verdict on a type of a later DPL version (§14.5), from its row:
/// `label` says what the type is, `note` what v0.1 has instead.
fn later_type(
    ck: &mut Checker<'_>,
    row: (&str, &str, &str, &str),
    ty: &Ident,
    label: String,
    note: &str,
) -> DeclTy {
    let (id, code, cite, since) = row;
    ck.fire(id);
    let d = Diagnostic::new(
        ck.tables,
        code,
        Some((id, cite)),
        format!(
            "type `{}` requires a later DPL version (DPL {since})",
            ty.name
        ),
    )
    .at(ty.span, label)
    .note(note);
    ck.push(d);
    DeclTy {
        ty: Ty::Unknown,
        name: ty.name.clone(),
        range: None,
    }
}

pub(crate) fn resolve_decl(
    ck: &mut Checker<'_>,
    ty_names: &mut TyNames,
    shapes: &BTreeSet<&str>,
    ty: &Ident,
) -> DeclTy {
    let tables = ck.tables;
    let wrapped = ty
        .name
        .split_once('[')
        .filter(|(w, _)| dir_grammar::TYPE_WRAPPERS.contains(w));
    if let (Some((wrapper, _)), Some(l)) = (wrapped, &tables.types.later_wrapped) {
        return later_type(
            ck,
            (&l.id, &l.code, &l.cite, &l.since),
            ty,
            format!("a {wrapper}-wrapped type is DPL {} compiler output", l.since),
            "in DPL v0.1 a type is a primitive, a compiler alias or a shape of the forge (§5.2); the regime is the process's, not the type's",
        );
    }
    if let Some(l) = tables
        .types
        .later_types
        .iter()
        .find(|l| l.spelling == ty.name)
    {
        return later_type(
            ck,
            (&l.id, &l.code, &l.cite, &l.since),
            ty,
            format!("`{}` is a DPL {} type", ty.name, l.since),
            "DPL v0.1 integers are i32 and i64 (§5.3)",
        );
    }
    let decl = |ty_: Ty, range: Option<(i64, i64)>| DeclTy {
        ty: ty_,
        name: ty.name.clone(),
        range,
    };
    if let Some(p) = tables.canonical_type(&ty.name) {
        let n = ty_names.intern(&p.name);
        return match p.kind {
            PrimKind::Int { min, max } => decl(Ty::Int(n), Some((min, max))),
            PrimKind::Float { .. } => decl(Ty::Float(n), None),
            PrimKind::Bool => decl(Ty::Bool, None),
            PrimKind::Str => decl(Ty::Str, None),
            PrimKind::Unit => decl(Ty::Unit, None),
        };
    }
    if tables
        .linearity
        .resource_types
        .iter()
        .any(|r| *r == ty.name)
    {
        return decl(Ty::Resource(ty_names.intern(&ty.name)), None);
    }
    if ty.name == tables.types.witness_type {
        return decl(Ty::witness(Ty::Unknown), None);
    }
    if ty.name == MEASUREMENT {
        return decl(Ty::Measurement, None);
    }
    if shapes.contains(ty.name.as_str()) {
        return decl(Ty::Shape(ty_names.intern(&ty.name)), None);
    }
    let known = tables
        .types
        .primitives
        .iter()
        .map(|p| p.name.as_str())
        .chain(tables.types.aliases.iter().map(|a| a.spelling.as_str()))
        .chain(shapes.iter().copied());
    let help = "types are primitive (i32, i64, bool, ...), compiler aliases (Int, Bool, ...) or shapes of this forge";
    let guess = ck.did_you_mean(&ty.name, known);
    ck.error(
        crate::registry::TYPE_UNKNOWN,
        ty.span,
        "unknown type",
        format!("unknown type `{}`", ty.name),
    )
    .help = Some(match guess {
        Some(g) => format!("{g} ({help})"),
        None => help.into(),
    });
    decl(Ty::Unknown, None)
}

/// Processes of forge `fi` a reference names: `name`, `R::name`, `Forge::R::name`.
pub fn resolve_ref<'s>(
    c: &Compiled<'_>,
    fi: usize,
    segs: impl IntoIterator<Item = &'s str>,
) -> Procs {
    let forge_name = c.program.forges[fi].name.name.as_str();
    // At most three segments name a process: more name nothing.
    let mut parts = [""; 3];
    let mut n = 0;
    for s in segs {
        let Some(p) = parts.get_mut(n) else {
            return Procs::new();
        };
        *p = s;
        n += 1;
    }
    let (regime, name) = match &parts[..n] {
        [n] => (None, *n),
        [r, n] => (Some(Regime::parse(r)), *n),
        [f, r, n] if *f == forge_name => (Some(Regime::parse(r)), *n),
        _ => return Procs::new(),
    };
    match regime {
        None => c.by_name.get(fi, name, None),
        Some(Some(r)) => c.by_name.get(fi, name, Some(r)),
        // Not a regime: names no process.
        Some(None) => Procs::new(),
    }
}

/// Contract clauses on standard attributes are well-formed (§10.5.2).
pub(crate) fn check_contract(ck: &mut Checker<'_>, b: &Bind) {
    let tables = ck.tables;
    // Every clause must hold (§10.7): two clauses requiring opposite values
    // of one boolean attribute can never both hold.
    for a in &tables.contracts.attributes {
        let req = bool_clauses(tables, b, a.meaning);
        if let (Some((i, v)), Some((j, _))) =
            (req.first(), req.iter().find(|(_, w)| w != &req[0].1))
        {
            let m = &tables.contracts.malformed;
            ck.fire(&m.id);
            let (ci, cj) = (&b.contract[*i], &b.contract[*j]);
            let d = Diagnostic::new(
                tables,
                m.code.as_deref().unwrap_or("E0141"),
                Some((&m.id, &m.cite)),
                format!(
                    "contract clauses contradict each other: `{}` requires {v}, `{}` requires {}",
                    clause_str(ci),
                    clause_str(cj),
                    !v
                ),
            )
            .at(cj.span, "contradicts the earlier clause")
            .also(ci.span, "earlier clause");
            ck.push(d);
        }
    }
    for cl in &b.contract {
        let Some(attr) = tables.contracts.attribute(&cl.key.name) else {
            continue;
        };
        let ops = tables.contracts.ops_of(attr.value);
        let value_ok = match attr.value {
            semantics::AttrValue::Bool => matches!(cl.value.name.as_str(), "true" | "false"),
            // Decimal digits with an optional `-`, within i64 (no `+5`).
            semantics::AttrValue::Int => {
                let digits = cl.value.name.strip_prefix('-').unwrap_or(&cl.value.name);
                !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && cl.value.name.parse::<i64>().is_ok()
            }
        };
        let want = match attr.value {
            semantics::AttrValue::Bool => "`true` or `false`",
            semantics::AttrValue::Int => "a decimal integer within i64",
        };
        let m = &tables.contracts.malformed;
        let malformed = |message: String| {
            Diagnostic::new(
                tables,
                m.code.as_deref().unwrap_or("E0141"),
                Some((&m.id, &m.cite)),
                message,
            )
        };
        if !value_ok {
            ck.fire(&m.id);
            let d = malformed(format!(
                "contract clause `{} {} {}`: `{}` takes {want}",
                cl.key.name, cl.op.name, cl.value.name, cl.key.name
            ))
            .at(cl.value.span, format!("expected {want}"))
            .also(cl.key.span, format!("standard attribute ({})", attr.id));
            ck.push(d);
        } else if !ops.iter().any(|o| *o == cl.op.name) {
            ck.fire(&m.id);
            let d = malformed(format!(
                "contract clause `{} {} {}`: `{}` is compared with {}",
                cl.key.name,
                cl.op.name,
                cl.value.name,
                cl.key.name,
                ops.join(" ")
            ))
            .at(cl.op.span, "operator not allowed here");
            ck.push(d);
        }
    }
}

pub(crate) fn clause_str(cl: &Clause) -> String {
    format!("{} {} {}", cl.key.name, cl.op.name, cl.value.name)
}

/// `uses` clauses of catalogued resources name their parameters correctly (§8.6).
pub(crate) fn check_uses(ck: &mut Checker<'_>, p: &Proc) {
    use semantics::ParamKind;
    let tables = ck.tables;
    let Some(rule) = tables
        .resources
        .rules
        .iter()
        .find(|r| r.id == crate::registry::RES_ARGS)
    else {
        return;
    };
    for u in &p.uses {
        let Some(res) = tables.resources.resource(&u.resource.name) else {
            continue;
        };
        let mut problems: Vec<(Span, String)> = Vec::new();
        for (i, (k, lit)) in u.args.iter().enumerate() {
            match res.params.iter().find(|q| q.name == k.name) {
                None => problems.push((
                    k.span,
                    format!("`{}` has no parameter `{}`", res.name, k.name),
                )),
                Some(q) => {
                    let ok = matches!(
                        (q.kind, &lit.value),
                        (ParamKind::Int, LitValue::Int(_))
                            | (ParamKind::Bool, LitValue::Bool(_))
                            | (ParamKind::Str, LitValue::String(_))
                    );
                    if !ok {
                        let want = match q.kind {
                            ParamKind::Int => "an integer",
                            ParamKind::Bool => "a boolean",
                            ParamKind::Str => "a string",
                        };
                        problems.push((lit.span, format!("`{}` takes {want} literal", k.name)));
                    }
                    if let (Some(min), LitValue::Int(v)) = (q.min, &lit.value) {
                        if *v < min {
                            problems.push((
                                lit.span,
                                format!("`{}` is at least {min}, not {v}", k.name),
                            ));
                        }
                    }
                    if u.args[..i].iter().any(|(o, _)| o.name == k.name) {
                        problems.push((k.span, format!("`{}` is given twice", k.name)));
                    }
                }
            }
        }
        for q in res.params.iter().filter(|q| q.required) {
            if !u.args.iter().any(|(k, _)| k.name == q.name) {
                problems.push((
                    u.resource.span,
                    format!("`{}` needs `{}`", res.name, q.name),
                ));
            }
        }
        for (span, msg) in problems {
            ck.fire(&rule.id);
            let params: Vec<String> = res
                .params
                .iter()
                .map(|q| {
                    format!(
                        "{}: {:?}{}",
                        q.name,
                        q.kind,
                        if q.required { "" } else { " (optional)" }
                    )
                })
                .collect();
            let d = Diagnostic::new(
                tables,
                rule.code.as_deref().unwrap_or("E0142"),
                Some((&rule.id, &rule.cite)),
                format!("malformed `uses {}` clause: {msg}", res.name),
            )
            .at(span, msg.clone())
            .note(format!("{}({})", res.name, params.join(", ")));
            ck.push(d);
        }
    }
}

/// The value a binding's contract requires of a boolean standard attribute
/// (`== v` requires v, `!= v` requires !v); None when no clause names it.
/// Several clauses on one attribute: any that requires `false` wins, since
/// every clause must hold.
pub fn enforced(tables: &Tables, b: &Bind, meaning: semantics::AttrMeaning) -> Option<bool> {
    bool_clauses(tables, b, meaning)
        .into_iter()
        .map(|(_, v)| v)
        .reduce(|a, b| a && b)
}

/// The clauses of a binding on a boolean attribute with the given meaning,
/// each with the value it requires.
pub fn bool_clauses(
    tables: &Tables,
    b: &Bind,
    meaning: semantics::AttrMeaning,
) -> Vec<(usize, bool)> {
    b.contract
        .iter()
        .enumerate()
        .filter_map(|(i, cl)| {
            let a = tables.contracts.attribute(&cl.key.name)?;
            if a.meaning != meaning {
                return None;
            }
            let v = match cl.value.name.as_str() {
                "true" => true,
                "false" => false,
                _ => return None,
            };
            match cl.op.name.as_str() {
                "==" => Some((i, v)),
                "!=" => Some((i, !v)),
                _ => None,
            }
        })
        .collect()
}

/// Non-empty fields of a later DIR version (§14.5, 00-profile.ron).
fn check_later_fields(ck: &mut Checker<'_>, program: &Program) {
    let tables = ck.tables;
    let later_field = |ck: &mut Checker<'_>, field: &str, j: &dir_grammar::json::Verbatim| {
        let non_empty = !j.is_empty();
        if let Some(r) = tables
            .profile
            .later_fields
            .iter()
            .find(|r| r.field == field)
            .filter(|_| non_empty)
        {
            ck.fire(&r.id);
            let d = Diagnostic::new(
                tables,
                &r.code,
                Some((&r.id, &r.cite)),
                format!("a non-empty `{field}` requires a later DPL version (DPL {})", r.since),
            )
            .at(j.span, format!("`{field}` is a DPL {} field", r.since))
            .note(format!(
                "dustrun implements DPL {}; programs that need a later version are rejected, never guessed at",
                tables.profile.dpl_version
            ));
            ck.push(d);
        }
    };
    if let Some(t) = &program.types {
        later_field(ck, "types", t);
    }
    for f in &program.forges {
        for p in &f.procs {
            if let Some(l) = &p.locals {
                later_field(ck, "locals", l);
            }
        }
    }
}

/// Shapes, per forge: all names first, so fields may name any shape.
/// The shape names of a forge, for type resolution in O(log n).
fn shape_names(f: &Forge) -> BTreeSet<&str> {
    f.shapes.iter().map(|s| s.name.name.as_str()).collect()
}

fn collect_shapes(
    ck: &mut Checker<'_>,
    ty_names: &mut TyNames,
    program: &Program,
) -> Vec<BTreeMap<String, ShapeInfo>> {
    let tables = ck.tables;
    let mut shapes: Vec<BTreeMap<String, ShapeInfo>> = Vec::new();
    for f in &program.forges {
        let mut seen: Map<&str, Span> = map_with_capacity(f.shapes.len());
        for s in &f.shapes {
            let what = || format!("shape `{}`", s.name.name);
            first_definition(ck, &mut seen, s.name.name.as_str(), s.name.span, what);
            // A shape may not take the name of a built-in type: every
            // signature naming it would silently mean the built-in.
            let n = s.name.name.as_str();
            let builtin = tables.canonical_type(n).is_some()
                || tables.linearity.resource_types.iter().any(|r| r == n)
                || n == tables.types.witness_type
                || n == MEASUREMENT;
            if builtin {
                ck.error(
                    crate::registry::DEF_DUPLICATE,
                    s.name.span,
                    "a built-in type has this name",
                    format!("shape `{n}` is defined twice: `{n}` is a built-in type"),
                )
                .help = Some("choose another name for the shape".into());
            }
        }
        let shapes_here = shape_names(f);
        let mut m = BTreeMap::new();
        for s in &f.shapes {
            let mut fields = Vec::new();
            let mut names: Map<&str, Span> = Map::default();
            for fd in &s.fields {
                let what = || format!("field `{}` of shape `{}`", fd.name.name, s.name.name);
                if !first_definition(ck, &mut names, fd.name.name.as_str(), fd.name.span, what) {
                    continue;
                }
                let d = resolve_decl(ck, ty_names, &shapes_here, &fd.ty);
                fields.push((fd.name.name.to_string(), d));
            }
            let ty = ty_names.intern(&s.name.name);
            m.entry(s.name.name.to_string())
                .or_insert_with(|| ShapeInfo::new(&s.name.name, ty, fields));
        }
        shapes.push(m);
    }
    shapes
}

/// Process signatures (names once per regime, parameters once, types
/// resolved), and the processes by name.
fn signatures<'p>(
    ck: &mut Checker<'_>,
    ty_names: &mut TyNames,
    program: &'p Program,
) -> (Vec<ProcInfo<'p>>, ProcsByName) {
    // At most one per process of the program (ProcInfo is large).
    let n = program.forges.iter().map(|f| f.procs.len()).sum();
    let mut procs: Vec<ProcInfo<'p>> = Vec::with_capacity(n);
    // The index by name also finds a second definition: the table of the
    // processes' names is built once.
    let mut by_name = ProcsByName::with_capacity(n);
    for (fi, f) in program.forges.iter().enumerate() {
        let names = shape_names(f);
        for p in &f.procs {
            if let Some(first) = by_name.insert(fi, &p.name.name, procs.len(), p.regime) {
                let prev = procs[first].proc.name.span;
                duplicate(ck, p.name.span, prev, || {
                    format!("process `{}::{}`", p.regime.symbol(), p.name.name)
                });
            }
            let mut params = Vec::new();
            let mut pn: Map<&str, Span> = Map::default();
            for prm in &p.params {
                let what = || format!("parameter `{}`", prm.name.name);
                first_definition(ck, &mut pn, prm.name.name.as_str(), prm.name.span, what);
                params.push((
                    prm.name.name.to_string(),
                    resolve_decl(ck, ty_names, &names, &prm.ty),
                ));
            }
            let ret = p
                .ret
                .as_ref()
                .map(|r| resolve_decl(ck, ty_names, &names, r));
            procs.push(ProcInfo {
                forge: fi,
                proc: p,
                qname: compact_str::format_compact!(
                    "{}::{}::{}",
                    f.name.name,
                    p.regime.symbol(),
                    p.name.name
                ),
                params,
                ret,
                targets: Targets::default(),
                constraint_digest: std::sync::OnceLock::new(),
                env: NameTypes::default(),
                bind_slots: BindSlots::default(),
                counts: StmtCounts::default(),
                op_width: OpWidths,
                f32_lits: Set::default(),
            });
        }
    }
    (procs, by_name)
}

#[cfg(test)]
mod first_declaration_tests {
    /// Each binding's first declaration of its (source, target) is what a
    /// search of the bindings before it finds, bindings either way mixed.
    #[test]
    fn first_declarations_agree_with_a_search() {
        let mut x: u64 = 0x94d0_49bb_1331_11eb;
        let mut pairs = Vec::new();
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            pairs.push(((x % 30) as usize, ((x >> 24) % 30) as usize));
        }
        let first = super::first_declarations(&pairs);
        for (k, p) in pairs.iter().enumerate() {
            let want = pairs.iter().position(|q| q == p).unwrap_or(k);
            assert_eq!(first[k], want, "{k}");
        }
    }
}
