//! Validation (phase 2): static rules. Names resolve, no rebinding, types fit,
//! regime legality and qualifiers from the tables, return rules, later-version
//! statements, calls and the call graph. Produces the compiled program the
//! evaluator runs, or every static error found.

use crate::diag::Diagnostic;
use crate::types::{DeclTy, Ty};
use dir_grammar::model::*;
use dir_grammar::print::expr_to_string;
use dir_grammar::Span;
use semantics::{Construct, OpClass, PrimKind, Requirement, Tables, Verdict};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The built-in record type `q_measure` returns.
pub const MEASUREMENT: &str = "Measurement";

/// A call of one process by another, as validation resolved it.
#[derive(Clone, Debug)]
pub struct CallSite {
    pub callee: usize,
    /// The callee's name as written.
    pub span: Span,
    /// Some argument's type carries a PhiWitness.
    pub args_witness: bool,
    /// The callee's result type carries a PhiWitness.
    pub result_witness: bool,
    /// The call is inside a `constrain` predicate or a `prove` source.
    pub in_predicate: bool,
}

/// A binding whose endpoints resolved.
#[derive(Clone, Debug)]
pub struct BindInfo<'p> {
    pub bind: &'p Bind,
    pub source: usize,
    pub target: usize,
}

pub struct ShapeInfo {
    pub fields: Vec<(String, DeclTy)>,
}

pub struct ProcInfo<'p> {
    pub forge: usize,
    pub proc: &'p Proc,
    /// `Forge::Regime::name`.
    pub qname: String,
    pub params: Vec<(String, DeclTy)>,
    pub ret: Option<DeclTy>,
    /// Resolved call targets, keyed by the callee's span.
    pub calls: BTreeMap<(usize, usize), usize>,
    /// Regime intrinsic calls (index into the intrinsic table), by callee span.
    pub intrinsics: BTreeMap<(usize, usize), usize>,
    /// Calls of the earlier dustrun's `phi_witness("digest")`, by callee span.
    pub phi_witness_calls: BTreeSet<(usize, usize)>,
    /// Digest of the canonical text of the process's constraint set.
    pub constraint_digest: String,
    /// Every call of another process, in evaluation order of the checker.
    pub sites: Vec<CallSite>,
    /// Types of every name the body binds (for `explain`'s linearity view).
    pub env: BTreeMap<String, (Ty, Span)>,
    /// The type each arithmetic or comparison operator works in, by the
    /// operator's span: i32 arithmetic overflows at the i32 bounds.
    pub op_width: BTreeMap<(usize, usize), (String, PrimKind)>,
    /// Float literals of type f32 (by span): evaluated at single precision.
    pub f32_lits: BTreeSet<(usize, usize)>,
}

pub struct Compiled<'p> {
    pub program: &'p Program,
    pub procs: Vec<ProcInfo<'p>>,
    /// Shapes per forge.
    pub shapes: Vec<BTreeMap<String, ShapeInfo>>,
    /// Processes by (forge, name), so references resolve in O(1). Only
    /// looked up, never iterated, so its order cannot reach any output.
    pub by_name: HashMap<(usize, String), Vec<usize>>,
    /// Bindings whose endpoints resolved, in declaration order.
    pub binds: Vec<BindInfo<'p>>,
    /// Binding indices between two processes, keyed both ways (looked up
    /// only, never iterated).
    pub between: HashMap<(usize, usize), Vec<usize>>,
}

impl Compiled<'_> {
    pub fn shape(&self, forge: usize, name: &str) -> Option<&ShapeInfo> {
        self.shapes.get(forge).and_then(|m| m.get(name))
    }

    /// Bindings connecting `a` and `b`, in either direction.
    pub fn binds_between(&self, a: usize, b: usize) -> &[usize] {
        self.between.get(&(a, b)).map(Vec::as_slice).unwrap_or(&[])
    }
}

pub fn regime_of(r: Regime) -> semantics::Regime {
    match r {
        Regime::K => semantics::Regime::K,
        Regime::Q => semantics::Regime::Q,
        Regime::Phi => semantics::Regime::Phi,
    }
}

pub(crate) struct Checker<'t> {
    pub tables: &'t Tables,
    pub diags: Vec<Diagnostic>,
    pub fired: BTreeSet<String>,
}

impl<'t> Checker<'t> {
    pub fn new(tables: &'t Tables) -> Checker<'t> {
        Checker {
            tables,
            diags: Vec::new(),
            fired: BTreeSet::new(),
        }
    }

    pub fn fire(&mut self, id: &str) {
        // Most fires repeat an id already recorded: no allocation then.
        if !self.fired.contains(id) {
            self.fired.insert(id.to_string());
        }
    }

    /// A diagnostic for the check row `id` (its code and cite come from the table).
    pub fn check_diag(tables: &Tables, id: &str, message: impl Into<String>) -> Diagnostic {
        match tables.check(id) {
            Some(c) => Diagnostic::new(
                tables,
                c.code.as_deref().unwrap_or("E0140"),
                Some((&c.id, &c.cite)),
                message,
            ),
            None => Diagnostic::new(tables, "E0140", None, message)
                .note(format!("rule `{id}` is missing from the tables")),
        }
    }

    pub(crate) fn error(
        &mut self,
        id: &str,
        span: Span,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.fire(id);
        let d = Checker::check_diag(self.tables, id, message).at(span, label);
        self.diags.push(d);
        let n = self.diags.len() - 1;
        &mut self.diags[n]
    }
}

/// Context of the body being checked.
struct Scope<'a> {
    forge: usize,
    proc: usize,
    /// Visible names with their types and where they were bound.
    env: BTreeMap<String, (Ty, Span)>,
    /// Every name the body binds, with its statement index (for "bound later" help).
    all_defs: &'a [(String, usize, Span)],
}

impl Scope<'_> {
    fn lookup(&self, n: &str) -> Option<&(Ty, Span)> {
        self.env.get(n)
    }
}

pub(crate) fn compile<'p>(ck: &mut Checker<'_>, program: &'p Program) -> Option<Compiled<'p>> {
    let tables = ck.tables;
    if let Some(v) = &program.version {
        if !tables.profile.dir_versions.iter().any(|x| x == &v.name) {
            let r = &tables.profile.later_dir;
            ck.fire(&r.id);
            let d = Diagnostic::new(tables, &r.code, Some((&r.id, &r.cite)), format!("DIR version {} is not supported", v.name))
                .at(v.span, format!("this executor implements DIR {}", tables.profile.dir_versions.join(", ")))
                .note(format!("dustrun implements DPL {}; input that needs a later version is rejected, never guessed at", tables.profile.dpl_version));
            ck.diags.push(d);
            return None;
        }
    }

    // Non-empty later-version fields (§14.5).
    let later_field = |ck: &mut Checker<'_>, field: &str, j: &dir_grammar::json::Json| {
        let non_empty = !matches!(
            &j.kind,
            dir_grammar::json::JsonKind::Array(a) if a.is_empty()
        ) && !matches!(&j.kind, dir_grammar::json::JsonKind::Null);
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
            ck.diags.push(d);
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

    // Forges are named once (§12.5).
    let mut forge_names: BTreeMap<&str, Span> = BTreeMap::new();
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

    // Shapes, per forge (all names first, so fields may name any shape).
    let mut shapes: Vec<BTreeMap<String, ShapeInfo>> = Vec::new();
    for f in &program.forges {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
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
        let mut m = BTreeMap::new();
        for s in &f.shapes {
            let mut fields = Vec::new();
            let mut names: BTreeMap<&str, Span> = BTreeMap::new();
            for fd in &s.fields {
                let what = || format!("field `{}` of shape `{}`", fd.name.name, s.name.name);
                if !first_definition(ck, &mut names, fd.name.name.as_str(), fd.name.span, what) {
                    continue;
                }
                let d = resolve_decl(ck, f, &fd.ty);
                fields.push((fd.name.name.clone(), d));
            }
            m.entry(s.name.name.clone()).or_insert(ShapeInfo { fields });
        }
        shapes.push(m);
    }

    // Process signatures.
    let mut procs: Vec<ProcInfo<'p>> = Vec::new();
    for (fi, f) in program.forges.iter().enumerate() {
        let mut seen: BTreeMap<(Regime, &str), Span> = BTreeMap::new();
        for p in &f.procs {
            let what = || format!("process `{}::{}`", p.regime.symbol(), p.name.name);
            first_definition(
                ck,
                &mut seen,
                (p.regime, p.name.name.as_str()),
                p.name.span,
                what,
            );
            let mut params = Vec::new();
            let mut pn: BTreeMap<&str, Span> = BTreeMap::new();
            for prm in &p.params {
                let what = || format!("parameter `{}`", prm.name.name);
                first_definition(ck, &mut pn, prm.name.name.as_str(), prm.name.span, what);
                params.push((prm.name.name.clone(), resolve_decl(ck, f, &prm.ty)));
            }
            let ret = p.ret.as_ref().map(|r| resolve_decl(ck, f, r));
            let constraints: Vec<String> = p
                .body
                .iter()
                .filter_map(|s| match &s.kind {
                    StmtKind::Constrain { predicate } => Some(expr_to_string(predicate)),
                    _ => None,
                })
                .collect();
            procs.push(ProcInfo {
                forge: fi,
                proc: p,
                qname: format!("{}::{}::{}", f.name.name, p.regime.symbol(), p.name.name),
                params,
                ret,
                calls: BTreeMap::new(),
                intrinsics: BTreeMap::new(),
                phi_witness_calls: BTreeSet::new(),
                constraint_digest: semantics::sha256(constraints.join("\n").as_bytes()),
                sites: Vec::new(),
                env: BTreeMap::new(),
                op_width: BTreeMap::new(),
                f32_lits: BTreeSet::new(),
            });
        }
    }

    let mut by_name: HashMap<(usize, String), Vec<usize>> = HashMap::new();
    for (i, p) in procs.iter().enumerate() {
        by_name
            .entry((p.forge, p.proc.name.name.clone()))
            .or_default()
            .push(i);
    }
    let mut compiled = Compiled {
        program,
        procs,
        shapes,
        by_name,
        binds: Vec::new(),
        between: HashMap::new(),
    };

    // Binding endpoints resolve inside their forge.
    for (fi, f) in program.forges.iter().enumerate() {
        for b in &f.binds {
            let ends: Vec<Vec<usize>> = [&b.source, &b.target]
                .iter()
                .map(|e| resolve_ref(&compiled, fi, &e.segments))
                .collect();
            if let ([s], [t]) = (ends[0].as_slice(), ends[1].as_slice()) {
                let k = compiled.binds.len();
                compiled.binds.push(BindInfo {
                    bind: b,
                    source: *s,
                    target: *t,
                });
                compiled.between.entry((*s, *t)).or_default().push(k);
                if s != t {
                    compiled.between.entry((*t, *s)).or_default().push(k);
                }
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
    // Every entity is uniquely identifiable (§12.5): one binding per
    // source and target.
    let mut seen_binds: BTreeMap<(usize, usize), Span> = BTreeMap::new();
    for b in &compiled.binds {
        match seen_binds.get(&(b.source, b.target)) {
            Some(prev) => {
                let prev = *prev;
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
            None => {
                seen_binds.insert((b.source, b.target), b.bind.span);
            }
        }
    }

    for p in &compiled.procs {
        check_uses(ck, p.proc);
    }

    // Bodies.
    let mut edges: Vec<(usize, usize, Span)> = Vec::new();
    for pi in 0..compiled.procs.len() {
        let (calls, sites, env, op_width, f32_lits) = check_proc(ck, &compiled, pi);
        compiled.procs[pi].f32_lits = f32_lits;
        compiled.procs[pi].sites = sites;
        compiled.procs[pi].env = env;
        compiled.procs[pi].op_width = op_width;
        for (span, target) in calls {
            match target {
                Target::Proc(callee) => {
                    edges.push((pi, callee, span));
                    compiled.procs[pi]
                        .calls
                        .insert((span.start, span.end), callee);
                }
                Target::PhiWitness => {
                    compiled.procs[pi]
                        .phi_witness_calls
                        .insert((span.start, span.end));
                }
                Target::Intrinsic(i) => {
                    compiled.procs[pi]
                        .intrinsics
                        .insert((span.start, span.end), i);
                }
            }
        }
    }

    if ck.diags.is_empty() {
        check_k_linearity(ck, &compiled);
    }

    if check_cycles(ck, &compiled, &edges) {
        check_depth(ck, &compiled, &edges);
        check_reached_effects(ck, &compiled);
    }

    if ck.diags.is_empty() {
        Some(compiled)
    } else {
        None
    }
}

/// Records a definition; a second one of the same key is DEF-DUPLICATE,
/// pointing at both. Returns whether this was the first.
fn first_definition<K: Ord>(
    ck: &mut Checker<'_>,
    seen: &mut BTreeMap<K, Span>,
    key: K,
    span: Span,
    what: impl Fn() -> String,
) -> bool {
    match seen.get(&key) {
        Some(prev) => {
            let prev = *prev;
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
            false
        }
        None => {
            seen.insert(key, span);
            true
        }
    }
}

fn resolve_decl(ck: &mut Checker<'_>, forge: &Forge, ty: &Ident) -> DeclTy {
    if let Some(l) = ck
        .tables
        .types
        .later_types
        .iter()
        .find(|l| l.spelling == ty.name)
    {
        ck.fire(&l.id);
        let d = Diagnostic::new(
            ck.tables,
            &l.code,
            Some((&l.id, &l.cite)),
            format!(
                "type `{}` requires a later DPL version (DPL {})",
                ty.name, l.since
            ),
        )
        .at(ty.span, format!("`{}` is a DPL {} type", ty.name, l.since))
        .note("DPL v0.1 integers are i32 and i64 (§5.3)");
        ck.diags.push(d);
        return DeclTy {
            ty: Ty::Unknown,
            name: ty.name.clone(),
            range: None,
        };
    }
    if let Some(p) = ck.tables.canonical_type(&ty.name) {
        let (t, range) = match p.kind {
            PrimKind::Int { min, max } => (Ty::Int(p.name.clone()), Some((min, max))),
            PrimKind::Float { .. } => (Ty::Float(p.name.clone()), None),
            PrimKind::Bool => (Ty::Bool, None),
            PrimKind::Str => (Ty::Str, None),
            PrimKind::Unit => (Ty::Unit, None),
        };
        return DeclTy {
            ty: t,
            name: ty.name.clone(),
            range,
        };
    }
    if ck.tables.linearity.resource_types.contains(&ty.name) {
        return DeclTy {
            ty: Ty::Resource(ty.name.clone()),
            name: ty.name.clone(),
            range: None,
        };
    }
    if ty.name == ck.tables.types.witness_type {
        return DeclTy {
            ty: Ty::Witness(Box::new(Ty::Unknown)),
            name: ty.name.clone(),
            range: None,
        };
    }
    if ty.name == MEASUREMENT {
        return DeclTy {
            ty: Ty::Measurement,
            name: ty.name.clone(),
            range: None,
        };
    }
    if forge.shapes.iter().any(|s| s.name.name == ty.name) {
        return DeclTy {
            ty: Ty::Shape(ty.name.clone()),
            name: ty.name.clone(),
            range: None,
        };
    }
    ck.error(crate::registry::TYPE_UNKNOWN, ty.span, "unknown type", format!("unknown type `{}`", ty.name))
        .help = Some("types are primitive (i32, i64, bool, ...), compiler aliases (Int, Bool, ...) or shapes of this forge".into());
    DeclTy {
        ty: Ty::Unknown,
        name: ty.name.clone(),
        range: None,
    }
}

/// Processes of forge `fi` a reference names: `name`, `R::name`, `Forge::R::name`.
pub fn resolve_ref(c: &Compiled<'_>, fi: usize, segs: &[String]) -> Vec<usize> {
    let forge_name = &c.program.forges[fi].name.name;
    let (regime, name) = match segs {
        [n] => (None, n),
        [r, n] => (Some(Regime::parse(r)), n),
        [f, r, n] if f == forge_name => (Some(Regime::parse(r)), n),
        _ => return Vec::new(),
    };
    let Some(found) = c.by_name.get(&(fi, name.to_string())) else {
        return Vec::new();
    };
    found
        .iter()
        .copied()
        .filter(|i| regime.is_none_or(|r| r == Some(c.procs[*i].proc.regime)))
        .collect()
}

/// Calls found while checking a body: every callee by span, and the
/// process-to-process call sites with what crosses them.
pub(crate) struct Calls {
    pub list: Vec<(Span, Target)>,
    pub sites: Vec<CallSite>,
    /// Checking a predicate (`constrain`, `prove` source) right now.
    pub in_predicate: bool,
    /// Literal-bound `let`s: (integer?, resolved type).
    pub vars: Vec<(bool, Option<Ty>)>,
    /// Arithmetic and comparison operators with their operand type.
    pub ops: Vec<(Span, Ty)>,
    /// Literals that met a type (an operand, a place, a literal-bound
    /// `let`), checked against it once literal variables are decided.
    pub lits: Vec<(Lit, Span, Ty)>,
}

impl Calls {
    fn push(&mut self, c: (Span, Target)) {
        self.list.push(c);
    }

    /// The type a literal variable stands for, so far.
    fn resolve(&self, t: &Ty) -> Ty {
        let mut t = t.clone();
        // Each variable points only to an unresolved one or a type: a chain
        // is at most as long as the table.
        for _ in 0..=self.vars.len() {
            match &t {
                Ty::Var(i) => match self.vars.get(*i).and_then(|v| v.1.clone()) {
                    Some(u) => t = u,
                    None => return t,
                },
                _ => return t,
            }
        }
        t
    }

    /// Make `a` and `b` one type where untyped literals allow it (§5.3.1);
    /// false when they cannot be.
    fn unify(&mut self, a: &Ty, b: &Ty) -> bool {
        let (a, b) = (self.resolve(a), self.resolve(b));
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
    fn meet(&self, a: &Ty, b: &Ty) -> Ty {
        let (a, b) = (self.resolve(a), self.resolve(b));
        let rank = |t: &Ty| match t {
            Ty::Int(_) | Ty::Float(_) => 3,
            Ty::Var(_) => 2,
            Ty::IntLit | Ty::FloatLit => 1,
            _ => 0,
        };
        if rank(&b) > rank(&a) {
            b
        } else {
            a
        }
    }
}

/// A `let` bound to an untyped literal gets a variable its uses decide.
fn literal_var(calls: &mut Calls, t: Ty, e: &Expr) -> Ty {
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
fn check_literal(calls: &mut Calls, e: &Expr, t: &Ty) {
    let lit = match e.kind {
        ExprKind::Int(v) => Lit::Int(v),
        ExprKind::Float(f) => Lit::Float(f),
        _ => return,
    };
    calls.lits.push((lit, e.span, t.clone()));
}

/// The deferred literal checks; returns the spans of f32 literals (their
/// values are rounded to single precision when evaluated).
fn check_literals(ck: &mut Checker<'_>, calls: &mut Calls) -> BTreeSet<(usize, usize)> {
    let mut f32_lits = BTreeSet::new();
    for (lit, span, t) in std::mem::take(&mut calls.lits) {
        let t = calls.resolve(&t);
        let kind = match &t {
            Ty::Int(w) | Ty::Float(w) => ck
                .tables
                .canonical_type(w)
                .map(|p| (w.clone(), p.kind.clone())),
            _ => None,
        };
        match (lit, kind) {
            (Lit::Int(v), Some((w, PrimKind::Int { min, max }))) if v < min || v > max => {
                ck.error(
                    crate::registry::TYPE_LITERAL,
                    span,
                    format!("does not fit `{w}`"),
                    format!("literal {v} does not fit `{w}` ({min}..={max})"),
                );
            }
            (Lit::Float(f), Some((w, PrimKind::Float { single: true }))) => {
                if (f as f32).is_finite() {
                    f32_lits.insert((span.start, span.end));
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

/// Contract clauses on standard attributes are well-formed (§10.5.2).
fn check_contract(ck: &mut Checker<'_>, b: &Bind) {
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
            ck.diags.push(d);
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
            ck.diags.push(d);
        } else if !ops.iter().any(|o| o == &cl.op.name) {
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
            ck.diags.push(d);
        }
    }
}

fn clause_str(cl: &Clause) -> String {
    format!("{} {} {}", cl.key.name, cl.op.name, cl.value.name)
}

/// `uses` clauses of catalogued resources name their parameters correctly (§8.6).
fn check_uses(ck: &mut Checker<'_>, p: &Proc) {
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
            ck.diags.push(d);
        }
    }
}

fn later_span(s: &Stmt) -> Span {
    match &s.kind {
        StmtKind::Later { kind, .. } => kind.span,
        _ => s.span,
    }
}

/// What a call expression calls.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    Proc(usize),
    /// Index into the intrinsic table.
    Intrinsic(usize),
    /// `phi_witness("digest")`: a witness from a caller-given digest.
    PhiWitness,
}

/// The earlier dustrun's witness constructor, kept for its programs.
pub const PHI_WITNESS: &str = "phi_witness";

/// The regime intrinsic a call names, when no process of the forge has that name.
pub(crate) fn intrinsic_of<'t>(
    lin: &'t semantics::datalog::Linearity,
    c: &Compiled<'_>,
    forge: usize,
    callee: &[String],
) -> Option<&'t semantics::datalog::Intrinsic> {
    match callee {
        [name] if resolve_ref(c, forge, callee).is_empty() => lin.intrinsic(name),
        _ => None,
    }
}

/// What checking a body finds: calls by callee span, process call sites,
/// and the types of the names it binds.
type Checked = (
    Vec<(Span, Target)>,
    Vec<CallSite>,
    BTreeMap<String, (Ty, Span)>,
    BTreeMap<(usize, usize), (String, PrimKind)>,
    BTreeSet<(usize, usize)>,
);

/// Checks one body; returns the calls it makes (callee span, target).
fn check_proc(ck: &mut Checker<'_>, c: &Compiled<'_>, pi: usize) -> Checked {
    let errors_before = ck.diags.len();
    let info = &c.procs[pi];
    let p = info.proc;
    let regime = regime_of(p.regime);
    let tables = ck.tables;

    // Qualifiers (§4.3, §4.4.3).
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
                    ck.diags.push(d);
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
            ck.diags.push(d);
        }
    }

    let all_defs: Vec<(String, usize, Span)> = p
        .body
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match &s.kind {
            StmtKind::Let { name, .. }
            | StmtKind::Prove { name, .. }
            | StmtKind::Call {
                result: Some(name), ..
            } => Some((name.name.clone(), i, name.span)),
            _ => None,
        })
        .collect();
    let mut scope = Scope {
        forge: info.forge,
        proc: pi,
        env: BTreeMap::new(),
        all_defs: &all_defs,
    };
    for (prm, (_, d)) in p.params.iter().zip(&info.params) {
        scope
            .env
            .entry(prm.name.name.clone())
            .or_insert((d.ty.clone(), prm.name.span));
    }
    let mut calls = Calls {
        list: Vec::new(),
        sites: Vec::new(),
        in_predicate: false,
        vars: Vec::new(),
        ops: Vec::new(),
        lits: Vec::new(),
    };
    let mut return_at: Option<Span> = None;
    let mut reported_after_return = false;

    for s in &p.body {
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
        match crate::types::construct_of(&s.kind) {
            None => {
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
                        ck.diags.push(d);
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
                        ck.diags.push(d);
                    }
                }
                continue;
            }
            Some(Construct::Effect(kind))
                if !tables.effects.kinds.iter().any(|k| k.kind == kind) =>
            {
                let span = match &s.kind {
                    StmtKind::Effect { kind, .. } => kind.span,
                    _ => s.span,
                };
                let known: Vec<&str> = tables
                    .effects
                    .kinds
                    .iter()
                    .map(|k| k.kind.as_str())
                    .collect();
                ck.error(
                    crate::registry::EFFECT_KIND_UNKNOWN,
                    span,
                    "unknown effect kind",
                    format!("unknown effect kind `{kind}`"),
                )
                .help = Some(format!("effect kinds are {}", known.join(", ")));
            }
            Some(construct) => {
                if let Some(row) = tables
                    .regimes
                    .statements
                    .iter()
                    .find(|r| r.regime == regime && r.construct == construct)
                {
                    ck.fire(&row.id);
                    if row.verdict == Verdict::Forbidden {
                        let what = semantics::construct_name(&construct);
                        let d = forbidden_construct(tables, row, &construct, p)
                            .at(
                                s.span,
                                format!(
                                    "{what} in {} process `{}`",
                                    p.regime.symbol(),
                                    p.name.name
                                ),
                            )
                            .also(
                                p.regime_span,
                                format!("the process is {}", p.regime.symbol()),
                            )
                            .help_opt(row.help.as_ref());
                        ck.diags.push(d);
                    }
                }
            }
        }
        match &s.kind {
            StmtKind::Let { name, expr } => {
                let t = infer(ck, c, &scope, expr, &mut calls);
                let t = literal_var(&mut calls, t, expr);
                bind(ck, &mut scope, name, t);
            }
            StmtKind::Prove { name, from } => {
                calls.in_predicate = true;
                let t = infer(ck, c, &scope, from, &mut calls);
                calls.in_predicate = false;
                let t = literal_var(&mut calls, t, from);
                bind(ck, &mut scope, name, Ty::Witness(Box::new(t)));
            }
            StmtKind::Effect { payload, .. } => {
                infer(ck, c, &scope, payload, &mut calls);
            }
            StmtKind::Call { call, result } => {
                let t = infer(ck, c, &scope, call, &mut calls);
                match result {
                    Some(name) => {
                        let t = literal_var(&mut calls, t, call);
                        bind(ck, &mut scope, name, t)
                    }
                    // In Q a discarded linear value is a linearity error
                    // (the lowering gives it a binding nobody uses).
                    None if t.fits(&Ty::Unit) || p.regime == Regime::Q => {}
                    None => {
                        let target = match &call.kind {
                            ExprKind::Call { callee, .. } => callee.join("::"),
                            _ => String::new(),
                        };
                        ck.error(
                            crate::registry::CALL_DISCARD,
                            call.span,
                            format!("the value ({t}) is discarded"),
                            format!("call of `{target}` discards its {t} result"),
                        )
                        .help = Some(format!(
                            "name the result: `\"result\": \"y\"` (JSON) or `call {target}(...) -> y;` (text)"
                        ));
                    }
                }
            }
            StmtKind::Return { expr } => {
                return_at = Some(s.span);
                match (expr, &info.ret) {
                    (Some(e), None) => {
                        infer(ck, c, &scope, e, &mut calls);
                        ck.error(
                            crate::registry::RET_UNEXPECTED,
                            e.span,
                            "value returned here",
                            format!(
                                "process `{}` has no return type but returns a value",
                                p.name.name
                            ),
                        )
                        .help = Some("declare the return type, or write `return;`".into());
                    }
                    (Some(e), Some(d)) => {
                        let t = infer(ck, c, &scope, e, &mut calls);
                        check_literal(&mut calls, e, &d.ty);
                        if !calls.unify(&t, &d.ty) {
                            let t = calls.resolve(&t);
                            let rs = p.ret.as_ref().map(|r| r.span).unwrap_or(p.name.span);
                            ck.error(
                                crate::registry::RET_TYPE,
                                e.span,
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
                            s.span,
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
            StmtKind::Constrain { .. } | StmtKind::Later { .. } => {}
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
    let env_types = scope_all.env.clone();
    for s in &p.body {
        if let StmtKind::Constrain { predicate } = &s.kind {
            calls.in_predicate = true;
            let t = infer(ck, c, &scope_all, predicate, &mut calls);
            calls.in_predicate = false;
            if !calls.unify(&t, &Ty::Bool) {
                let t = calls.resolve(&t);
                ck.error(
                    crate::registry::CONSTRAIN_BOOL,
                    predicate.span,
                    format!("this is {t}"),
                    "a constraint's predicate must be boolean",
                );
            }
        }
    }
    // Literal variables no use decided take the default widths (05-types.ron);
    // then every literal-bound `let` and every operator has its type.
    let defaults = &tables.types.literal_defaults;
    let mut used_default = false;
    for i in 0..calls.vars.len() {
        if matches!(calls.resolve(&Ty::Var(i)), Ty::Var(_)) {
            let root = match calls.resolve(&Ty::Var(i)) {
                Ty::Var(r) => r,
                _ => i,
            };
            calls.vars[root].1 = Some(if calls.vars[root].0 {
                Ty::Int(defaults.integer.clone())
            } else {
                Ty::Float(defaults.float.clone())
            });
            used_default = true;
        }
    }
    if used_default {
        ck.fire(&defaults.id);
    }
    let f32_lits = check_literals(ck, &mut calls);
    let mut op_width: BTreeMap<(usize, usize), (String, PrimKind)> = BTreeMap::new();
    for (span, t) in std::mem::take(&mut calls.ops) {
        let w = match calls.resolve(&t) {
            Ty::Int(w) | Ty::Float(w) => w,
            Ty::IntLit => defaults.integer.clone(),
            Ty::FloatLit => defaults.float.clone(),
            _ => continue,
        };
        if let Some(kind) = tables.canonical_type(&w).map(|p| p.kind.clone()) {
            op_width.insert((span.start, span.end), (w, kind));
        }
    }
    let env_types: BTreeMap<String, (Ty, Span)> = env_types
        .into_iter()
        .map(|(n, (t, s))| (n, (calls.resolve(&t), s)))
        .collect();
    // Linearity is decided only on bodies that type-check: a misuse of an
    // unknown name would otherwise be reported twice.
    if p.regime == Regime::Q && ck.diags.len() == errors_before {
        crate::linearity::check(ck, c, pi, &env_types);
    }
    (calls.list, calls.sites, env_types, op_width, f32_lits)
}

fn bind(ck: &mut Checker<'_>, scope: &mut Scope<'_>, name: &Ident, t: Ty) {
    if let Some((_, prev)) = scope.lookup(&name.name) {
        let prev = *prev;
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
        return;
    }
    scope.env.insert(name.name.clone(), (t, name.span));
}

fn infer(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    scope: &Scope<'_>,
    e: &Expr,
    calls: &mut Calls,
) -> Ty {
    match &e.kind {
        ExprKind::Int(_) => Ty::IntLit,
        ExprKind::Float(_) => Ty::FloatLit,
        ExprKind::Bool(_) => Ty::Bool,
        ExprKind::Str(_) => Ty::Str,
        ExprKind::Path(segs) => {
            if let [n] = segs.as_slice() {
                if let Some((t, _)) = scope.lookup(n) {
                    return t.clone();
                }
                let later = scope
                    .all_defs
                    .iter()
                    .find(|(m, _, _)| m == n)
                    .map(|(_, i, s)| (*i, *s));
                let d = ck.error(
                    crate::registry::NAME_UNKNOWN,
                    e.span,
                    "not found in this scope",
                    format!("unknown identifier `{n}`"),
                );
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
                    e.span,
                    "a process is not a value",
                    format!("`{}` is not a value", segs.join("::")),
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
        } => {
            let l = infer(ck, c, scope, lhs, calls);
            let r = infer(ck, c, scope, rhs, calls);
            let Some(row) = ck.tables.types.operators.iter().find(|o| o.op == op.word()) else {
                return Ty::Unknown;
            };
            ck.fire(&row.id);
            let class = row.class;
            let (l, r) = (calls.resolve(&l), calls.resolve(&r));
            let numeric = l.is_numeric() && r.is_numeric();
            let (ok, result, need) = match class {
                OpClass::Arith => {
                    let ok = numeric && calls.unify(&l, &r);
                    (ok, calls.meet(&l, &r), "two numeric operands of one type")
                }
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
                    calls.ops.push((*op_span, operands));
                }
                return result;
            }
            let d = ck.error(
                crate::registry::TYPE_OPERANDS,
                *op_span,
                format!("`{}` needs {need}", op.word()),
                format!("`{}` cannot combine {l} and {r}", op.word()),
            );
            d.secondary.push(crate::diag::Label {
                span: lhs.span,
                message: format!("this is {l}"),
            });
            d.secondary.push(crate::diag::Label {
                span: rhs.span,
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
            let bt = calls.resolve(&bt);
            match &bt {
                Ty::Unknown => Ty::Unknown,
                Ty::Shape(s) => match c
                    .shape(scope.forge, s)
                    .and_then(|sh| sh.fields.iter().find(|(n, _)| n == &field.name))
                {
                    Some((_, d)) => d.ty.clone(),
                    None => {
                        let known: Vec<String> = c
                            .shape(scope.forge, s)
                            .map(|sh| sh.fields.iter().map(|(n, _)| n.clone()).collect())
                            .unwrap_or_default();
                        ck.error(
                            crate::registry::FIELD_UNKNOWN,
                            field.span,
                            format!("no field `{}` on `{s}`", field.name),
                            format!("shape `{s}` has no field `{}`", field.name),
                        )
                        .help = Some(format!("`{s}` has the fields: {}", known.join(", ")));
                        Ty::Unknown
                    }
                },
                Ty::Measurement | Ty::Resource(_) => match field.name.as_str() {
                    "resource" if bt == Ty::Measurement => Ty::Str,
                    "id" if bt != Ty::Measurement => Ty::Str,
                    "ty" => Ty::Str,
                    _ => {
                        ck.error(crate::registry::FIELD_UNKNOWN, field.span, "no such field", format!("{bt} has no field `{}`", field.name))
                            .help = Some("a Measurement has the fields resource and ty; a resource has id and ty".into());
                        Ty::Unknown
                    }
                },
                Ty::Witness(sub) => match field.name.as_str() {
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
            if let Some(t) = infer_intrinsic(ck, c, scope, callee, *callee_span, args, calls) {
                return t;
            }
            if matches!(callee.as_slice(), [n] if n == PHI_WITNESS)
                && resolve_ref(c, scope.forge, callee).is_empty()
            {
                // A witness exists only because constraints hold (§7.7):
                // only a Φ process may build one.
                let caller = &c.procs[scope.proc];
                if caller.proc.regime != Regime::Phi {
                    ck.error(
                        crate::registry::INTRINSIC_REGIME,
                        *callee_span,
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
                calls.push((*callee_span, Target::PhiWitness));
                let tys: Vec<Ty> = args.iter().map(|a| infer(ck, c, scope, a, calls)).collect();
                if tys.len() != 1 || !calls.unify(&tys[0], &Ty::Str) {
                    ck.error(
                        crate::registry::CALL_ARGS,
                        e.span,
                        "expected one String",
                        "`phi_witness` takes one argument: the constraint digest (a String)",
                    );
                }
                return Ty::Witness(Box::new(Ty::Unit));
            }
            let target = resolve_call(ck, c, scope, callee, *callee_span);
            // Reserved intrinsic arguments name types; they are not checked
            // as values while the intrinsic is not implemented.
            if target.is_none() && is_intrinsic(c, scope.forge, callee) {
                return Ty::Unknown;
            }
            let arg_tys: Vec<(Ty, Span)> = args
                .iter()
                .map(|a| (infer(ck, c, scope, a, calls), a.span))
                .collect();
            let Some(target) = target else {
                return Ty::Unknown;
            };
            calls.push((*callee_span, Target::Proc(target)));
            let t = &c.procs[target];
            calls.sites.push(CallSite {
                callee: target,
                span: *callee_span,
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
                    e.span,
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
                            format!("this is {at}"),
                            format!("argument for `{pn}` of `{}` must be `{}`", t.qname, pd.name),
                        );
                    }
                }
            }
            t.ret.as_ref().map(|d| d.ty.clone()).unwrap_or(Ty::Unit)
        }
        ExprKind::Struct { name, fields } => {
            let Some(shape) = c.shape(scope.forge, &name.name) else {
                for (_, fe) in fields {
                    infer(ck, c, scope, fe, calls);
                }
                ck.error(
                    crate::registry::SHAPE_UNKNOWN,
                    name.span,
                    "no such shape in this forge",
                    format!("unknown shape `{}`", name.name),
                );
                return Ty::Unknown;
            };
            let mut given: BTreeMap<&str, Span> = BTreeMap::new();
            for (fname, fe) in fields {
                let t = infer(ck, c, scope, fe, calls);
                if let Some(prev) = given.get(fname.name.as_str()) {
                    let prev = *prev;
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
                given.insert(&fname.name, fname.span);
                match shape.fields.iter().find(|(n, _)| n == &fname.name) {
                    None => {
                        ck.error(
                            crate::registry::STRUCT_FIELDS,
                            fname.span,
                            "not a field of this shape",
                            format!("shape `{}` has no field `{}`", name.name, fname.name),
                        );
                    }
                    Some((_, d))
                        if !{
                            check_literal(calls, fe, &d.ty);
                            calls.unify(&t, &d.ty)
                        } =>
                    {
                        let t = calls.resolve(&t);
                        ck.error(
                            crate::registry::TYPE_PLACE,
                            fe.span,
                            format!("this is {t}"),
                            format!(
                                "field `{}` of `{}` has type `{}`",
                                fname.name, name.name, d.name
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
            let missing: Vec<&str> = shape
                .fields
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| !given.contains_key(n))
                .collect();
            if !missing.is_empty() {
                ck.error(
                    crate::registry::STRUCT_FIELDS,
                    e.span,
                    format!("missing {}", missing.join(", ")),
                    format!(
                        "struct literal `{}` lacks field(s) {}",
                        name.name,
                        missing.join(", ")
                    ),
                );
            }
            Ty::Shape(name.name.clone())
        }
    }
}

/// A call to a reserved regime intrinsic (`q_*`, `phi_*`) that no process of
/// the forge defines.
fn is_intrinsic(c: &Compiled<'_>, forge: usize, callee: &[String]) -> bool {
    let last = callee.last().map(String::as_str).unwrap_or("");
    last.starts_with("phi_") && resolve_ref(c, forge, callee).is_empty()
}

/// Types a call to a regime intrinsic of the table (None: not an intrinsic).
fn infer_intrinsic(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    scope: &Scope<'_>,
    callee: &[String],
    span: Span,
    args: &[Expr],
    calls: &mut Calls,
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
    let arg = match args {
        [a] => a,
        _ => {
            ck.error(
                crate::registry::INTRINSIC_ARG,
                span,
                format!("{} argument(s) given", args.len()),
                format!("`{}` takes exactly one argument", i.name),
            );
            return Some(Ty::Unknown);
        }
    };
    let name = match &arg.kind {
        ExprKind::Path(s) if s.len() == 1 => s[0].clone(),
        _ => {
            let want = if i.arg == IntrinsicArg::TypeName {
                "a type name"
            } else {
                "a binding"
            };
            ck.error(
                crate::registry::INTRINSIC_ARG,
                arg.span,
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
                    arg.span,
                    "not a resource type or shape",
                    format!(
                        "`{}` needs a shape of this forge or a resource type ({}), found `{name}`",
                        i.name,
                        lin.resource_types.join(", ")
                    ),
                );
                return Some(Ty::Unknown);
            }
            Ty::Resource(name)
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

fn resolve_call(
    ck: &mut Checker<'_>,
    c: &Compiled<'_>,
    scope: &Scope<'_>,
    callee: &[String],
    span: Span,
) -> Option<usize> {
    let found = resolve_ref(c, scope.forge, callee);
    let caller = &c.procs[scope.proc];
    let name = callee.join("::");
    match found.as_slice() {
        [] => {
            let last = callee.last().map(String::as_str).unwrap_or("");
            let unary = &ck.tables.types.unary;
            if callee.len() == 1 && unary.names.iter().any(|n| n == last) {
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
                ck.diags.push(d);
            } else if is_intrinsic(c, scope.forge, callee) {
                ck.error(crate::registry::INTRINSIC_RESERVED, span, "reserved name", format!("`{last}` is a reserved Φ intrinsic name, and no such intrinsic exists"))
                    .notes
                    .push("names starting with `phi_` are reserved for Φ intrinsics; DPL v0.1 has only `phi_witness`".into());
            } else {
                ck.error(
                    crate::registry::CALL_UNKNOWN,
                    span,
                    "no such process in this forge",
                    format!("cannot find process `{name}`"),
                );
            }
            None
        }
        [one] => {
            let target = &c.procs[*one];
            if target.proc.regime == caller.proc.regime {
                ck.fire(crate::registry::CALL_SAME_REGIME);
                return Some(*one);
            }
            if !c.binds_between(scope.proc, *one).is_empty() {
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

/// Effects a process performs or reaches through calls are subject to its
/// own regime's rows (§6.5.2, §6.5.3): a Q or Φ process that calls a K
/// process which emits would otherwise perform that effect. The regime row
/// of the effect kind decides, as for an effect written in the body.
fn check_reached_effects(ck: &mut Checker<'_>, c: &Compiled<'_>) {
    let tables = ck.tables;
    let n = c.procs.len();
    // Kinds each process reaches, bottom-up over the acyclic call graph.
    let mut reach: Vec<Option<BTreeSet<String>>> = vec![None; n];
    for start in 0..n {
        let mut stack = vec![(start, false)];
        while let Some((p, done)) = stack.pop() {
            if reach[p].is_some() {
                continue;
            }
            if !done {
                stack.push((p, true));
                stack.extend(
                    c.procs[p]
                        .sites
                        .iter()
                        .filter(|s| reach[s.callee].is_none())
                        .map(|s| (s.callee, false)),
                );
                continue;
            }
            let mut kinds: BTreeSet<String> = c.procs[p]
                .proc
                .body
                .iter()
                .filter_map(|s| match &s.kind {
                    StmtKind::Effect { kind, .. } => Some(kind.name.clone()),
                    _ => None,
                })
                .collect();
            for s in &c.procs[p].sites {
                if let Some(k) = &reach[s.callee] {
                    kinds.extend(k.iter().cloned());
                }
            }
            reach[p] = Some(kinds);
        }
    }
    for (pi, p) in c.procs.iter().enumerate() {
        // Predicates are side-effect free (§7.2, §7.5.2) in every regime.
        for s in p.sites.iter().filter(|s| s.in_predicate) {
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
        let regime = regime_of(p.proc.regime);
        let mut reported = BTreeSet::new();
        for s in p.sites.iter().filter(|s| !s.in_predicate) {
            let Some(kinds) = &reach[s.callee] else {
                continue;
            };
            for k in kinds {
                let construct = Construct::Effect(k.clone());
                let Some(row) = tables
                    .regimes
                    .statements
                    .iter()
                    .find(|r| r.regime == regime && r.construct == construct)
                else {
                    continue;
                };
                if row.verdict != Verdict::Forbidden || !reported.insert(k.clone()) {
                    continue;
                }
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
                ck.diags.push(d);
            }
        }
    }
}

/// Whether a call between `a` and `b` crosses a binding whose contract
/// enforces linearity.
fn crosses_enforcing(tables: &Tables, c: &Compiled<'_>, a: usize, b: usize) -> bool {
    c.binds_between(a, b).iter().any(|k| {
        enforced(
            tables,
            c.binds[*k].bind,
            semantics::AttrMeaning::LinearityEnforced,
        ) == Some(true)
    })
}

/// K processes on the K side of a binding that enforces linearity with a Q
/// process (§10.5.2, brief 4.1): values they pass to Q are moved; values
/// they receive from Q (as a call's result, or as parameters when Q calls
/// them) stay linear. Decided by the linearity rules after every body is
/// checked, since a K process's parameters depend on its Q callers.
fn check_k_linearity(ck: &mut Checker<'_>, c: &Compiled<'_>) {
    let tables = ck.tables;
    // K processes a Q process calls across an enforcing binding.
    let mut linear_params: BTreeSet<usize> = BTreeSet::new();
    for (qi, q) in c.procs.iter().enumerate() {
        if q.proc.regime != Regime::Q {
            continue;
        }
        for s in &q.sites {
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
        let moves: BTreeSet<(usize, usize)> = p
            .sites
            .iter()
            // Only Q values are linear: what crosses to or from a Q process.
            .filter(|s| c.procs[s.callee].proc.regime == Regime::Q)
            .filter(|s| crosses_enforcing(tables, c, pi, s.callee))
            .map(|s| (s.span.start, s.span.end))
            .collect();
        // A binding that holds a value received across: the call itself,
        // or a struct literal with it in a field.
        fn carries(e: &Expr, moves: &BTreeSet<(usize, usize)>) -> bool {
            match &e.kind {
                ExprKind::Call { callee_span, .. } => {
                    moves.contains(&(callee_span.start, callee_span.end))
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
                } if carries(expr, &moves) => Some(name.name.clone()),
                _ => None,
            })
            .collect();
        if linear_params.contains(&pi) {
            linear.extend(p.params.iter().map(|(n, _)| n.clone()));
        }
        crate::linearity::check_k_moves(ck, c, pi, &p.env, moves, linear);
    }
}

/// The diagnostic of a regime row that forbids a construct in a process
/// (its code, cite, message template and help come from the row).
fn forbidden_construct(
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

/// Deepest call chain the evaluator accepts (it recurses once per call).
pub const MAX_CALL_DEPTH: usize = 256;

/// The call graph is acyclic here; its longest chain must stay bounded.
fn check_depth(ck: &mut Checker<'_>, c: &Compiled<'_>, edges: &[(usize, usize, Span)]) {
    let n = c.procs.len();
    let mut indeg = vec![0usize; n];
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (a, b, _) in edges {
        adj[*a].push(*b);
        indeg[*b] += 1;
    }
    let mut order: Vec<usize> = (0..n).filter(|v| indeg[*v] == 0).collect();
    let mut i = 0;
    while i < order.len() {
        let v = order[i];
        i += 1;
        for &w in &adj[v] {
            indeg[w] -= 1;
            if indeg[w] == 0 {
                order.push(w);
            }
        }
    }
    let mut depth = vec![1usize; n];
    for &v in order.iter().rev() {
        depth[v] = 1 + adj[v].iter().map(|w| depth[*w]).max().unwrap_or(0);
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

/// Returns whether the call graph is acyclic.
fn check_cycles(ck: &mut Checker<'_>, c: &Compiled<'_>, edges: &[(usize, usize, Span)]) -> bool {
    let mut acyclic = true;
    let n = c.procs.len();
    let mut adj: Vec<Vec<(usize, Span)>> = vec![Vec::new(); n];
    for (a, b, s) in edges {
        adj[*a].push((*b, *s));
    }
    // Iterative DFS with colours; report each cycle once, at its first edge.
    let mut colour = vec![0u8; n];
    for start in 0..n {
        if colour[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = 1;
        while let Some(&mut (v, ref mut i)) = stack.last_mut() {
            if *i < adj[v].len() {
                let (w, span) = adj[v][*i];
                *i += 1;
                match colour[w] {
                    0 => {
                        colour[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => {
                        let pos = stack.iter().position(|(x, _)| *x == w).unwrap_or(0);
                        let mut names: Vec<&str> = stack[pos..]
                            .iter()
                            .map(|(x, _)| c.procs[*x].qname.as_str())
                            .collect();
                        names.push(c.procs[w].qname.as_str());
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

/// Whether a value of type `t` is, or contains, a PhiWitness.
fn carries_witness(c: &Compiled<'_>, forge: usize, t: &Ty) -> bool {
    // Each shape is visited once (shapes may nest, even cyclically), so this
    // is linear in the forge's declarations.
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&Ty> = vec![t];
    while let Some(t) = stack.pop() {
        match t {
            Ty::Witness(_) => return true,
            Ty::Shape(s) if seen.insert(s.as_str()) => {
                if let Some(sh) = c.shape(forge, s) {
                    stack.extend(sh.fields.iter().map(|(_, d)| &d.ty));
                }
            }
            _ => {}
        }
    }
    false
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
