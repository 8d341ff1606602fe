//! Validation (phase 2): static rules. Names resolve, no rebinding, types fit,
//! regime legality and qualifiers from the tables, return rules, later-version
//! statements, calls and the call graph. Produces the compiled program the
//! evaluator runs, or every static error found.

mod body;
mod callgraph;
mod decls;
mod infer;

pub(crate) use body::*;
pub(crate) use callgraph::*;
pub(crate) use decls::*;
pub(crate) use infer::*;

use crate::diag::{Checker, Diagnostic};
use crate::types::{DeclTy, Ty, TyName, TyNames};
use crate::{Map, Set};
use dir_grammar::model::*;
use dir_grammar::print::expr_to_string;
use dir_grammar::Span;
use semantics::{Construct, OpClass, PrimKind, Requirement, Tables, Verdict};
use std::collections::{BTreeMap, BTreeSet};

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

/// Every process's call sites in one list, by caller (each caller's in
/// the checker's evaluation order). The passes over the whole call graph
/// (cycles, depth, reached effects, static costs, reach) walk this dense
/// list rather than a vector in each process's record: with 100 000
/// processes, a record each was a cache miss each, in every pass.
#[derive(Clone, Debug)]
pub struct CallSites {
    /// Where each process's sites start in `sites`; one more entry than
    /// processes whose sites are recorded.
    start: Vec<u32>,
    sites: Vec<CallSite>,
}

impl CallSites {
    /// An empty list with room for `procs` processes.
    pub(crate) fn with_capacity(procs: usize) -> CallSites {
        let mut start = Vec::with_capacity(procs + 1);
        start.push(0);
        CallSites {
            start,
            sites: Vec::new(),
        }
    }

    /// Records the sites of process `pi`, the next one: processes are
    /// recorded in order, each once, or every later process would be
    /// given the sites of another.
    pub(crate) fn push(&mut self, pi: usize, sites: Vec<CallSite>) {
        debug_assert_eq!(self.start.len() - 1, pi, "call sites recorded out of order");
        self.sites.extend(sites);
        // Inputs are at most 64 MiB: far fewer than 2^32 sites.
        self.start.push(self.sites.len() as u32);
    }

    /// The call sites of process `pi` (none if it has not been recorded).
    pub fn of(&self, pi: usize) -> &[CallSite] {
        match (
            self.start.get(pi),
            pi.checked_add(1).and_then(|e| self.start.get(e)),
        ) {
            (Some(&a), Some(&b)) => &self.sites[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Every site, with its caller, callers in order.
    pub fn all(&self) -> impl Iterator<Item = (usize, &CallSite)> + '_ {
        self.start.windows(2).enumerate().flat_map(move |(pi, w)| {
            self.sites[w[0] as usize..w[1] as usize]
                .iter()
                .map(move |s| (pi, s))
        })
    }

    /// How many sites in all.
    #[cfg(test)]
    pub(crate) fn count(&self) -> usize {
        self.sites.len()
    }

    /// How many processes have their sites recorded.
    pub(crate) fn recorded(&self) -> usize {
        self.start.len() - 1
    }
}

#[cfg(test)]
mod procs_by_name_tests {
    use super::{ProcsByName, Regime};

    /// Processes are found by forge and name, filtered by regime when one
    /// is asked for, in the order recorded; a second process of the same
    /// forge, name and regime is told the first one.
    #[test]
    fn processes_are_found_by_forge_name_and_regime() {
        let mut t = ProcsByName::with_capacity(2);
        assert_eq!(t.insert(0, "f", 0, Regime::K), None);
        assert_eq!(t.insert(0, "f", 1, Regime::Q), None);
        assert_eq!(t.insert(1, "f", 2, Regime::K), None);
        assert_eq!(t.insert(0, "g", 3, Regime::Phi), None);
        // Grown past its capacity, and a second `K::f` in forge 0.
        assert_eq!(t.insert(0, "f", 4, Regime::K), Some(0));
        assert_eq!(t.get(0, "f", None).as_slice(), &[0, 1, 4]);
        assert_eq!(t.get(0, "f", Some(Regime::K)).as_slice(), &[0, 4]);
        assert_eq!(t.get(0, "f", Some(Regime::Q)).as_slice(), &[1]);
        assert!(t.get(0, "f", Some(Regime::Phi)).is_empty());
        assert_eq!(t.get(1, "f", None).as_slice(), &[2]);
        assert_eq!(t.get(0, "g", Some(Regime::Phi)).as_slice(), &[3]);
        assert!(t.get(1, "g", None).is_empty());
        assert!(t.get(0, "h", None).is_empty());
    }
}

#[cfg(test)]
mod call_sites_tests {
    use super::{CallSite, CallSites};
    use dir_grammar::Span;

    fn site(callee: usize) -> CallSite {
        CallSite {
            callee,
            span: Span::new(callee, callee + 1),
            args_witness: false,
            result_witness: false,
            in_predicate: false,
        }
    }

    /// Each process gets exactly the sites recorded for it, a process
    /// without sites (first, middle, last) none, a process past the end
    /// none; `all` lists them by caller, in order.
    #[test]
    fn each_process_gets_its_own_sites() {
        let empty = CallSites::with_capacity(0);
        assert!(empty.of(0).is_empty());
        assert_eq!(empty.all().count(), 0);
        assert_eq!(empty.recorded(), 0);

        let lists: Vec<Vec<usize>> =
            vec![vec![], vec![2, 3], vec![], vec![0], vec![1, 1, 4], vec![]];
        let mut cs = CallSites::with_capacity(lists.len());
        for (pi, l) in lists.iter().enumerate() {
            cs.push(pi, l.iter().map(|&c| site(c)).collect());
        }
        assert_eq!(cs.recorded(), lists.len());
        for (pi, l) in lists.iter().enumerate() {
            let got: Vec<usize> = cs.of(pi).iter().map(|s| s.callee).collect();
            assert_eq!(&got, l, "process {pi}");
        }
        assert!(cs.of(lists.len()).is_empty());
        assert!(cs.of(usize::MAX).is_empty());
        let all: Vec<(usize, usize)> = cs.all().map(|(pi, s)| (pi, s.callee)).collect();
        let want: Vec<(usize, usize)> = lists
            .iter()
            .enumerate()
            .flat_map(|(pi, l)| l.iter().map(move |&c| (pi, c)))
            .collect();
        assert_eq!(all, want);
        assert_eq!(cs.count(), want.len());
    }
}

/// A binding whose endpoints resolved.
#[derive(Clone, Debug)]
pub struct BindInfo<'p> {
    pub bind: &'p Bind,
    pub source: usize,
    pub target: usize,
}

pub struct ShapeInfo {
    /// The shape's name. (Values share their names through `Rc`s that
    /// evaluation makes from these once per run, `exec::ShapeNames`: the
    /// checked program holds none, so that it can be read by two threads.)
    pub name: std::sync::Arc<str>,
    /// The shape's name as types carry it.
    pub ty: TyName,
    pub fields: Vec<(String, DeclTy)>,
    /// The fields' names.
    pub names: Vec<std::sync::Arc<str>>,
    /// Field positions by name (looked up only, never iterated).
    index: Map<String, usize>,
}

/// Fields a shape has up to which a name is found by comparing names.
const SCANNED_FIELDS: usize = 8;

impl ShapeInfo {
    pub fn new(name: &str, ty: TyName, fields: Vec<(String, DeclTy)>) -> ShapeInfo {
        let index = fields
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i))
            .collect();
        ShapeInfo {
            name: name.into(),
            ty,
            names: fields.iter().map(|(n, _)| n.as_str().into()).collect(),
            fields,
            index,
        }
    }

    /// A field's declared type, by name.
    pub fn field(&self, name: &str) -> Option<&DeclTy> {
        self.index_of(name).map(|i| &self.fields[i].1)
    }

    /// Whether a struct literal gives every field once, in the shape's
    /// order (what a compiler writes): then each value is its field's
    /// as it comes, with no search.
    pub fn given_in_order(&self, fields: Fields<'_>) -> bool {
        fields.len() == self.names.len()
            && fields
                .iter()
                .zip(&self.names)
                .all(|((f, _), n)| f.name == &**n)
    }

    /// A field's position, by name. Most shapes have a few fields, found
    /// by comparing names sooner than by hashing one (a struct literal
    /// asks for each of its fields when checked and when evaluated).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        if self.names.len() <= SCANNED_FIELDS {
            return self.names.iter().position(|n| **n == *name);
        }
        self.index.get(name).copied()
    }
}

pub struct ProcInfo<'p> {
    pub forge: usize,
    pub proc: &'p Proc,
    /// `Forge::Regime::name` (inline up to 24 bytes: no allocation for
    /// each process of a program of many).
    pub qname: dir_grammar::model::Name,
    pub params: Vec<(String, DeclTy)>,
    pub ret: Option<DeclTy>,
    /// What each call resolved to (a process, an intrinsic, the earlier
    /// dustrun's `phi_witness`), keyed by the callee's span.
    pub targets: Targets,
    /// Digest of the canonical text of the process's constraint set,
    /// computed when first asked for (a witness is built): most processes
    /// never need it.
    constraint_digest: std::sync::OnceLock<String>,
    /// Types of every name the body binds (for `explain`'s linearity view).
    pub env: NameTypes<'p>,
    /// The type each arithmetic or comparison operator works in, by the
    /// operator's span: i32 arithmetic overflows at the i32 bounds.
    pub op_width: OpWidths,
    /// The slot (in `env`) of the name each statement binds, by statement.
    pub bind_slots: BindSlots,
    /// Float literals of type f32 (by span): evaluated at single precision.
    pub f32_lits: Set<(usize, usize)>,
    /// Statements of the body by kind: the room evaluation makes for what
    /// one run of the body records (growing lists by doubling touched
    /// twice their final memory, and fresh memory is what runs pay for).
    pub counts: StmtCounts,
}

/// How many of a body's statements are constraints, effects, and bind a
/// name.
#[derive(Clone, Copy, Debug, Default)]
pub struct StmtCounts {
    pub constraints: usize,
    pub effects: usize,
    pub bindings: usize,
    /// What the body's statements cost under the step table's cost model
    /// (`StepRows::tick_cost`, admission's static cost), summed by the
    /// body's check (0 until then): admission would otherwise walk every
    /// statement again on one core after the evaluation, each body a cache
    /// miss or more once a program has 100 000 processes (12 ms of its
    /// check).
    pub tick_cost: u64,
}

impl StmtCounts {
    /// A body's counts (what checking sizes its name table by and
    /// evaluation its records by).
    pub fn of(body: &[Stmt]) -> StmtCounts {
        let mut n = StmtCounts::default();
        // `tick_cost` is the check's to sum.
        for s in body {
            match &s.kind {
                StmtKind::Constrain { .. } => n.constraints += 1,
                StmtKind::Effect { .. } => n.effects += 1,
                k => n.bindings += usize::from(k.bound().is_some()),
            }
        }
        n
    }
}

impl ProcInfo<'_> {
    /// Digest of the canonical text of the process's constraint set
    /// (`program` holds the process).
    pub fn constraint_digest(&self, program: &Program) -> &str {
        self.constraint_digest.get_or_init(|| {
            let constraints: Vec<String> = self
                .proc
                .body
                .iter()
                .filter_map(|s| match &s.kind {
                    StmtKind::Constrain { predicate } => {
                        Some(expr_to_string(program.expr(*predicate)))
                    }
                    _ => None,
                })
                .collect();
            semantics::sha256(constraints.join("\n").as_bytes())
        })
    }
}

// The checked program is read by more than one thread (the plan for the
// last factor in docs/performance.md): nothing in it may be an `Rc`.
const _: () = {
    const fn shared<T: Sync>() {}
    shared::<Compiled<'static>>();
};

pub struct Compiled<'p> {
    pub program: &'p Program,
    pub procs: Vec<ProcInfo<'p>>,
    /// Shapes per forge.
    pub shapes: Vec<BTreeMap<String, ShapeInfo>>,
    /// Processes by (forge, name), so references resolve in O(1).
    pub by_name: ProcsByName,
    /// Bindings whose endpoints resolved, in declaration order.
    pub binds: Vec<BindInfo<'p>>,
    /// Binding indices between two processes, either way.
    pub between: Between,
    /// The names the program's types carry.
    pub ty_names: TyNames,
    /// Every call that resolved to a process (itself included), by caller.
    pub sites: CallSites,
    /// Each process's regime, by process. The whole-program passes ask
    /// for little else of most processes: a dense list of them, instead
    /// of the process record and its declaration (two cache misses per
    /// process and pass once a program has 100 000).
    pub regimes: Vec<Regime>,
}

impl Compiled<'_> {
    pub fn shape(&self, forge: usize, name: &str) -> Option<&ShapeInfo> {
        self.shapes.get(forge).and_then(|m| m.get(name))
    }

    /// The shape a type names, in `forge`.
    pub fn shape_ty(&self, forge: usize, name: TyName) -> Option<&ShapeInfo> {
        self.shape(forge, self.ty_names.text(name))
    }

    /// Bindings connecting `a` and `b`, in either direction, in
    /// declaration order.
    pub fn binds_between(&self, a: usize, b: usize) -> impl Iterator<Item = usize> + '_ {
        self.between.of(a, b)
    }
}

/// The bindings between two processes, either way: `[a, b, binding]`,
/// sorted, searched by `(a, b)`. (A hash map of the pairs, for a program of
/// 150 000 bindings, held 300 000 entries in 17 MB, a cache miss per
/// insert; this list is 3.6 MB, built by one sort.)
#[derive(Default)]
pub struct Between(Vec<[u32; 3]>);

impl Between {
    /// Of each binding's source and target, in declaration order.
    pub fn new(binds: impl ExactSizeIterator<Item = (usize, usize)>) -> Between {
        // Indices of a 64 MiB input fit in u32 (a binding takes bytes).
        let n = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let mut v = Vec::with_capacity(2 * binds.len());
        for (k, (source, target)) in binds.enumerate() {
            v.push([n(source), n(target), n(k)]);
            if source != target {
                v.push([n(target), n(source), n(k)]);
            }
        }
        v.sort_unstable();
        Between(v)
    }

    /// The bindings between `a` and `b`, in declaration order.
    pub fn of(&self, a: usize, b: usize) -> impl Iterator<Item = usize> + '_ {
        let key = |e: &[u32; 3]| (e[0] as usize, e[1] as usize);
        let from = self.0.partition_point(|e| key(e) < (a, b));
        self.0[from..]
            .iter()
            .take_while(move |e| key(e) == (a, b))
            .map(|e| e[2] as usize)
    }
}

pub fn regime_of(r: Regime) -> semantics::Regime {
    match r {
        Regime::K => semantics::Regime::K,
        Regime::Q => semantics::Regime::Q,
        Regime::Phi => semantics::Regime::Phi,
    }
}

/// Processes a reference can name (nearly always one): inline.
pub type Procs = smallvec::SmallVec<[usize; 2]>;

/// Processes by forge and name, each with its regime. An entry holds the
/// name itself (inline up to 24 bytes) and the regimes, so a lookup reads
/// no process record (each a cache miss once a program has 100 000
/// processes). The entries are kept in the order of their first process's
/// declaration, and hashed as their numbers in a table of 4 bytes each: a
/// program of 100 000 processes has a table within a core's own cache (the
/// entries themselves hashed in place were 7 MB, and every lookup two
/// misses: 60 ms of its 430 ms check), and references that follow the
/// declarations read entries near each other.
/// Looked up only, never iterated, so its seeded hasher cannot reach any
/// output.
pub struct ProcsByName {
    /// Each entry's number, hashed by its forge and name.
    table: hashbrown::HashTable<u32>,
    entries: Vec<ByName>,
    hasher: foldhash::fast::RandomState,
}

struct ByName {
    forge: usize,
    name: dir_grammar::model::Name,
    procs: smallvec::SmallVec<[(u32, Regime); 2]>,
}

impl ProcsByName {
    pub(crate) fn with_capacity(n: usize) -> ProcsByName {
        ProcsByName {
            table: hashbrown::HashTable::with_capacity(n),
            entries: Vec::with_capacity(n),
            hasher: Default::default(),
        }
    }

    fn hash(hasher: &foldhash::fast::RandomState, forge: usize, name: &str) -> u64 {
        std::hash::BuildHasher::hash_one(hasher, (forge, name))
    }

    /// Records process `i` (of `regime`) under its forge and name; the
    /// process recorded first under the same name and regime, if any (a
    /// second definition).
    pub(crate) fn insert(
        &mut self,
        forge: usize,
        name: &str,
        i: usize,
        regime: Regime,
    ) -> Option<usize> {
        let ProcsByName {
            table,
            entries,
            hasher,
        } = self;
        // Inputs are at most 64 MiB: far fewer than 2^32 processes.
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        let next = u32::try_from(entries.len()).unwrap_or(u32::MAX);
        let at = *table
            .entry(
                Self::hash(hasher, forge, name),
                |e| {
                    let e = &entries[*e as usize];
                    e.forge == forge && e.name == name
                },
                |e| {
                    let e = &entries[*e as usize];
                    Self::hash(hasher, e.forge, &e.name)
                },
            )
            .or_insert(next)
            .get();
        if at == next {
            entries.push(ByName {
                forge,
                name: name.into(),
                procs: smallvec::SmallVec::new(),
            });
        }
        let procs = &mut entries[at as usize].procs;
        let first = procs
            .iter()
            .find(|(_, r)| *r == regime)
            .map(|(j, _)| *j as usize);
        procs.push((i, regime));
        first
    }

    /// The processes named `name` in `forge`, of `regime` if given, in
    /// declaration order.
    pub fn get(&self, forge: usize, name: &str, regime: Option<Regime>) -> Procs {
        self.table
            .find(Self::hash(&self.hasher, forge, name), |e| {
                let e = &self.entries[*e as usize];
                e.forge == forge && e.name == name
            })
            .map(|e| {
                self.entries[*e as usize]
                    .procs
                    .iter()
                    .filter(|(_, r)| regime.is_none_or(|want| want == *r))
                    .map(|(i, _)| *i as usize)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The types of the names a process binds, keyed by names borrowed from
/// the program, in binding order (parameters first): a name's position is
/// its slot, validation marks each use with it, and evaluation keeps
/// values by slot. Iteration follows binding order.
#[derive(Default)]
pub struct NameTypes<'p> {
    /// Who bound each slot, a parameter or a statement: the name and its
    /// span, borrowed (a pointer a slot, where a copy of each was 24 bytes,
    /// in memory every body of a large program touches afresh).
    binders: Vec<&'p Ident>,
    types: Vec<Ty>,
    /// Slots by name. None while the body binds at most `SCANNED` names,
    /// which a search of `binders` finds as fast: most processes are small,
    /// and a table each was an allocation per process of a large program.
    /// (Boxed: absent in most processes, it is 40 bytes in every one.)
    index: Option<Box<Index<'p>>>,
}

/// A body's names hashed.
enum Index<'p> {
    /// As they are bound (`names::NameIndex`, of slots).
    Growing(crate::names::NameIndex),
    /// All of them before any is bound, by binder: past `WHOLE_NAMES` names.
    Whole(BodyNames<'p>),
}

/// Bodies binding more names than this have them hashed all at once
/// (`BodyNames`): their table outgrows a core's own cache (2 MiB), and
/// each name hashed as it was bound was a miss to main memory (500 000
/// names: 60–80 ms of a 200 ms check, 30 ms hashed at once). Smaller
/// tables are filled faster as the names are bound, beside the rest of
/// the check (100 000 names: 4 ms faster).
pub const WHOLE_NAMES: usize = 1 << 18;

/// Who binds a name of a body: the parameter, or the statement, of that
/// index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binder {
    Param(usize),
    Stmt(usize),
}

/// A body's names by binder number (parameters first, then statements by
/// index), hashed all at once before the body is checked
/// (`NameIndex::of_all`): hashed one by one as the check bound them, each
/// was a miss to main memory once the table outgrew the caches (500 000
/// names: 60–80 ms of a 200 ms check).
struct BodyNames<'p> {
    params: &'p [Field],
    body: &'p [Stmt],
    /// Each name to its first binder's number.
    first: crate::names::NameIndex,
    /// The binders whose name an earlier one binds, with that one's number,
    /// by number (each is an error: few).
    again: Vec<(u32, u32)>,
    /// By the number of a name's first binder: the name's slot plus one,
    /// once bound (zero: not yet; a list the allocator hands out zeroed).
    slots: Vec<u32>,
}

impl<'p> BodyNames<'p> {
    /// `names`: how many names the body binds (parameters included).
    fn new(params: &'p [Field], body: &'p [Stmt], names: usize) -> BodyNames<'p> {
        let n = params.len() + body.len();
        let number = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let named = params
            .iter()
            .enumerate()
            .map(|(i, f)| (number(i), f.name.name.as_str()))
            .chain(body.iter().enumerate().filter_map(|(i, s)| {
                let b = s.kind.bound()?;
                Some((number(params.len() + i), b.name.as_str()))
            }));
        let name = |i: usize| binder_name(params, body, i);
        let (first, again) = crate::names::NameIndex::of_all(names, named, name);
        BodyNames {
            params,
            body,
            first,
            again,
            slots: vec![0; n],
        }
    }

    fn number(&self, b: Binder) -> Option<usize> {
        match b {
            Binder::Param(i) => (i < self.params.len()).then_some(i),
            Binder::Stmt(i) => (i < self.body.len()).then(|| self.params.len() + i),
        }
    }

    /// The name binder `i` (a number) binds.
    fn name(&self, i: usize) -> Option<&'p str> {
        binder_name(self.params, self.body, i)
    }

    /// The number of the first binder of the name binder `i` binds.
    fn first_of(&self, i: usize) -> usize {
        if self.again.is_empty() {
            return i;
        }
        let key = u32::try_from(i).unwrap_or(u32::MAX);
        match self.again.binary_search_by_key(&key, |(k, _)| *k) {
            Ok(at) => self.again[at].1 as usize,
            Err(_) => i,
        }
    }

    /// Binds the name of binder number `k` in `slot`, unless bound before:
    /// then its slot.
    fn bind(&mut self, k: usize, slot: usize) -> Option<usize> {
        let first = self.first_of(k);
        let at = self.slots.get_mut(first)?;
        match at.checked_sub(1) {
            Some(prev) => Some(prev as usize),
            None => {
                *at = u32::try_from(slot + 1).unwrap_or(0);
                None
            }
        }
    }

    /// The slot `n` is bound in, if bound yet.
    fn slot(&self, n: &str) -> Option<usize> {
        let first = self.first.find(n, |i| self.name(i))?;
        let s = *self.slots.get(first)?;
        s.checked_sub(1).map(|s| s as usize)
    }
}

/// The name binder number `i` of a body binds.
fn binder_name<'p>(params: &'p [Field], body: &'p [Stmt], i: usize) -> Option<&'p str> {
    match i.checked_sub(params.len()) {
        None => params.get(i).map(|f| f.name.name.as_str()),
        Some(s) => body.get(s)?.kind.bound().map(|b| b.name.as_str()),
    }
}

/// The slot (in `NameTypes`) of the name each statement of a body binds,
/// by statement: four bytes a statement (an `Option<u32>` took eight, in
/// memory every large body touches afresh).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BindSlots(Vec<u32>);

impl BindSlots {
    /// A statement that binds nothing (no slot comes near it: a slot is a
    /// name bound by a statement of an input of at most 64 MiB).
    const NONE: u32 = u32::MAX;

    /// Room for a body of `n` statements, none binding anything yet (the
    /// list is written as the statements are met, so that its pages can be
    /// faulted in ahead of the writer: `populate`).
    pub fn with_capacity(n: usize) -> BindSlots {
        BindSlots(Vec::with_capacity(n))
    }

    /// Statement `at` binds `slot` (`None`: nothing, as a name bound twice).
    pub fn set(&mut self, at: usize, slot: Option<usize>) {
        let slot = slot
            .and_then(|s| u32::try_from(s).ok())
            .filter(|s| *s != Self::NONE);
        if self.0.len() <= at {
            self.0.resize(at + 1, Self::NONE);
        }
        if let Some(s) = self.0.get_mut(at) {
            *s = slot.unwrap_or(Self::NONE);
        }
    }

    /// The room the list is still to be written in.
    pub(crate) fn room(&self) -> (usize, usize) {
        crate::populate::room(&self.0)
    }

    /// The slot statement `at` binds.
    #[inline]
    pub fn get(&self, at: usize) -> Option<usize> {
        self.0
            .get(at)
            .copied()
            .filter(|s| *s != Self::NONE)
            .map(|s| s as usize)
    }
}

/// Names a body binds before its name table is hashed.
const SCANNED: usize = 8;

impl<'p> NameTypes<'p> {
    /// The table of a body with these parameters, binding `names` names
    /// (its parameters' included): room for each, a hash table of them
    /// past `SCANNED`, filled all at once past `whole` (`WHOLE_NAMES`).
    pub fn of_body(params: &'p [Field], body: &'p [Stmt], names: usize, whole: usize) -> Self {
        let index = if names > whole {
            Some(Index::Whole(BodyNames::new(params, body, names)))
        } else {
            (names > SCANNED).then(|| Index::Growing(crate::names::NameIndex::with_capacity(names)))
        };
        NameTypes {
            binders: Vec::with_capacity(names),
            types: Vec::with_capacity(names),
            index: index.map(Box::new),
        }
    }

    pub fn len(&self) -> usize {
        self.binders.len()
    }

    /// The room the table's lists are still to be written in.
    pub(crate) fn rooms(&self) -> [(usize, usize); 2] {
        [
            crate::populate::room(&self.binders),
            crate::populate::room(&self.types),
        ]
    }

    /// Who bound each slot, in slot order.
    pub(crate) fn binders(&self) -> &[&'p Ident] {
        &self.binders
    }

    /// The name in slot `i`.
    #[inline]
    fn name(&self, i: usize) -> Option<&'p str> {
        self.binders.get(i).map(|b| b.name.as_str())
    }

    /// The slot of `n`.
    pub fn get_index_of(&self, n: &str) -> Option<usize> {
        match &self.index {
            None => self.binders.iter().position(|m| m.name == n),
            Some(index) => {
                // Most uses name what was bound just before (names are
                // bound once, so the slot holding `n` is its slot).
                if self.binders.last().is_some_and(|m| m.name == n) {
                    return Some(self.binders.len() - 1);
                }
                match &**index {
                    Index::Growing(index) => index.find(n, |i| self.name(i)),
                    Index::Whole(index) => index.slot(n),
                }
            }
        }
    }

    /// The type of `n` and where it was bound.
    pub fn get(&self, n: &str) -> Option<(&Ty, Span)> {
        self.get_index_of(n)
            .map(|i| (&self.types[i], self.binders[i].span))
    }

    /// The slot of `n` with its type.
    pub fn get_full(&self, n: &str) -> Option<(usize, &Ty)> {
        self.get_index_of(n).map(|i| (i, &self.types[i]))
    }

    /// The name in slot `i` with its type.
    pub fn get_index(&self, i: usize) -> Option<(&'p str, &Ty)> {
        Some((self.name(i)?, self.types.get(i)?))
    }

    /// The names in slot order.
    pub fn keys(&self) -> impl Iterator<Item = &'p str> + '_ {
        self.binders.iter().map(|b| b.name.as_str())
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Ty> {
        self.types.iter_mut()
    }

    /// Binds `n`, bound by `by` in the body the table was made for, to `t`
    /// in the next slot, or gives the span `n` was first bound at.
    pub fn bind(&mut self, by: Binder, n: &'p Ident, t: Ty) -> Result<usize, Span> {
        let slot = self.binders.len();
        let binders = &self.binders;
        let name = |j: usize| binders.get(j).map(|b| b.name.as_str());
        let first = match self.index.as_deref_mut() {
            None => binders.iter().position(|m| m.name == n.name),
            Some(Index::Growing(index)) => index.insert(&n.name, slot, name).err(),
            Some(Index::Whole(ix)) => match ix
                .number(by)
                .filter(|k| ix.name(*k) == Some(n.name.as_str()))
            {
                Some(k) => ix.bind(k, slot),
                // Not a binder of that body (never the case in a check,
                // which binds each of its body's binders as it meets it):
                // the names bound so far are hashed again, as bound.
                None => {
                    let mut index = crate::names::NameIndex::with_capacity(binders.capacity());
                    for (i, m) in binders.iter().enumerate() {
                        let _ = index.insert(&m.name, i, name);
                    }
                    let first = index.insert(&n.name, slot, name).err();
                    self.index = Some(Box::new(Index::Growing(index)));
                    first
                }
            },
        };
        if let Some(i) = first {
            return Err(self.binders.get(i).map_or(n.span, |b| b.span));
        }
        self.binders.push(n);
        self.types.push(t);
        Ok(slot)
    }
}

/// The type each arithmetic or comparison operator of a body works in: an
/// operator's mark (`ExprKind::Binary::width`) holds its type's number
/// (`TyName`, of the program's type names, complete before any body is
/// checked), set when the operator is checked or once the body's literal
/// variables are decided. Nothing of a body's is kept beside the marks, so
/// reading a width needs the type names alone.
#[derive(Default)]
pub struct OpWidths;

/// A width an operator works in: its name (for diagnostics) and kind.
pub type Width<'a> = (&'a str, &'a PrimKind);

impl OpWidths {
    /// Marks an operator with its type, a width of `names`.
    pub fn mark(&mut self, mark: &Resolved, width: TyName, names: &TyNames) {
        if names.prim(width).is_none() {
            return mark.clear();
        }
        mark.set(width.number());
    }

    /// The operator's type, by its mark.
    pub fn get<'a>(&self, mark: &Resolved, names: &'a TyNames) -> Option<Width<'a>> {
        Self::numbered(mark.get()?, names)
    }

    /// The width a mark's value names (`get`, for a value read apart).
    pub fn numbered(n: u32, names: &TyNames) -> Option<Width<'_>> {
        let w = TyName::numbered(n);
        Some((names.text(w), names.prim(w)?))
    }
}

/// Context of the body being checked.
pub(crate) struct Scope<'a, 'd> {
    pub(crate) forge: usize,
    pub(crate) proc: usize,
    /// Visible names with their types and where they were bound.
    pub(crate) env: NameTypes<'a>,
    /// The body, for the "bound later" help of an unknown name.
    pub(crate) body: &'d [dir_grammar::Stmt],
    /// The first binding of each name in `body` (statement, name span),
    /// indexed when an unknown name first asks: searching the body per
    /// unknown name made 80 000 of them quadratic (6 s).
    pub(crate) first_bound: std::cell::OnceCell<BTreeMap<&'d str, (usize, Span)>>,
}

impl Scope<'_, '_> {
    /// The statement (index) that binds `n` first in the body, and its
    /// name's span. Only an error asks, so the body is searched then.
    pub(crate) fn bound_later(&self, n: &str) -> Option<(usize, Span)> {
        self.first_bound
            .get_or_init(|| {
                let mut first = BTreeMap::new();
                for (i, s) in self.body.iter().enumerate() {
                    if let Some(b) = s.kind.bound() {
                        first.entry(b.name.as_str()).or_insert((i, b.span));
                    }
                }
                first
            })
            .get(n)
            .copied()
    }

    /// A name's type with its slot.
    pub(crate) fn lookup_slot(&self, n: &str) -> Option<(usize, &Ty)> {
        self.env.get_full(n)
    }

    /// `lookup_slot` of a name whose node may already be marked with its
    /// slot: a mark is trusted only when that slot holds the name (names
    /// are bound once, so the slot holding it is the one a lookup finds).
    /// Constraints are checked at the body's end, when the hash table's
    /// entries for names bound long before are no longer in the caches;
    /// their names are marked as each constraint is met (`premark`).
    pub(crate) fn lookup_marked(&self, n: &str, mark: &Resolved) -> Option<(usize, &Ty)> {
        if let Some(i) = mark.get().map(|i| i as usize) {
            if let Some((m, t)) = self.env.get_index(i) {
                if m == n {
                    return Some((i, t));
                }
            }
        }
        self.lookup_slot(n)
    }

    /// Marks each name of `e` bound so far with its slot (a hint for
    /// `lookup_marked`; the checks that use the names decide as before).
    pub(crate) fn premark(&self, e: dir_grammar::Expr<'_>) {
        e.walk(&mut |e| {
            if let ExprKind::Path(p, mark) = e.kind() {
                if let Some((i, _)) = p.single().and_then(|n| self.lookup_slot(n)) {
                    mark.set(i);
                }
            }
        });
    }
}

/// What a call expression calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Proc(usize),
    /// Index into the intrinsic table.
    Intrinsic(usize),
    /// `phi_witness("digest")`: a witness from a caller-given digest.
    PhiWitness,
}

/// What each call of a body resolved to, by the callee's span: sorted by
/// span, searched. (A hash map each, for a program of many small
/// processes, was an allocation of ~150 bytes per process for a call or two.)
#[derive(Default)]
pub struct Targets(Box<[((usize, usize), Target)]>);

impl Targets {
    /// Of the calls a body makes, in the order checked: a span checked
    /// twice keeps its last target.
    pub fn new(calls: Vec<(Span, Target)>) -> Targets {
        let mut v: Vec<((usize, usize), Target)> = calls
            .into_iter()
            .map(|(s, t)| ((s.start(), s.end()), t))
            .collect();
        // Stable: equal spans stay in the order checked.
        v.sort_by_key(|(k, _)| *k);
        let mut out: Vec<((usize, usize), Target)> = Vec::with_capacity(v.len());
        for e in v {
            match out.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => out.push(e),
            }
        }
        Targets(out.into_boxed_slice())
    }

    /// The target of the call whose callee is at `span`.
    pub fn get(&self, span: Span) -> Option<&Target> {
        let key = (span.start(), span.end());
        self.0
            .binary_search_by_key(&key, |(k, _)| *k)
            .ok()
            .map(|i| &self.0[i].1)
    }
}

/// The earlier dustrun's witness constructor, kept for its programs.
pub const PHI_WITNESS: &str = "phi_witness";

#[cfg(test)]
mod between_tests {
    /// `Between` finds what a search of every binding finds: the
    /// bindings of a pair either way, in declaration order.
    #[test]
    fn between_finds_the_bindings_of_a_pair_either_way() {
        let mut x: u64 = 0x853c_49e6_748f_ea9b;
        let mut binds = Vec::new();
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Few processes: repeats, both directions and self-bindings.
            binds.push(((x % 40) as usize, ((x >> 20) % 40) as usize));
        }
        let between = super::Between::new(binds.iter().copied());
        for a in 0..42 {
            for b in 0..42 {
                let want: Vec<usize> = (0..binds.len())
                    .filter(|k| binds[*k] == (a, b) || binds[*k] == (b, a))
                    .collect();
                assert_eq!(between.of(a, b).collect::<Vec<_>>(), want, "{a} {b}");
            }
        }
    }
}

#[cfg(test)]
mod name_table_tests {
    use super::*;

    /// `NameTypes` against the obvious table (an ordered map to slots, and
    /// vectors by slot) on many bindings and lookups, repeats included.
    #[test]
    fn the_name_table_agrees_with_an_ordered_map() {
        let words: Vec<String> = (0..3000)
            .map(|i: u64| format!("v{}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % 1500))
            .collect();
        // Hashed, with and without parameters.
        check_against_ordered_map(&[], &words);
        check_against_ordered_map(&["p", "v7", "q"], &words);
        // Few names (searched), repeats and a parameter named again.
        let few: Vec<String> = ["a", "b", "a", "c", "b", "d"].map(String::from).to_vec();
        check_against_ordered_map(&[], &few);
        check_against_ordered_map(&["a", "z"], &few);
        // A parameter named twice.
        check_against_ordered_map(&["x", "x"], &words[..20]);
    }

    /// A body of `let`s binding `words` (and an `emit` between each two,
    /// binding nothing), with parameters `params`, bound in order.
    fn check_against_ordered_map(params: &[&str], words: &[String]) {
        let mut text = String::from("dir 0.1;\nforge F {\n  proc K main(");
        let ps: Vec<String> = params.iter().map(|p| format!("{p}: i64")).collect();
        text.push_str(&ps.join(", "));
        text.push_str(") {\n");
        for w in words {
            text.push_str(&format!("    let {w} = 1;\n    emit 1;\n"));
        }
        text.push_str("  }\n}\n");
        let program = dir_grammar::load_str(&text).expect("loads");
        let p = &program.forges[0].procs[0];
        let names = params.len() + words.len();
        // Hashed as bound, and all at once.
        for whole in [usize::MAX, 0] {
            let ours = NameTypes::of_body(&p.params, &p.body, names, whole);
            bind_against_ordered_map(p, params, words, ours);
        }
    }

    fn bind_against_ordered_map<'p>(
        p: &'p Proc,
        params: &[&str],
        words: &[String],
        mut ours: NameTypes<'p>,
    ) {
        let mut slots: BTreeMap<&str, usize> = BTreeMap::new();
        let mut spans: Vec<Span> = Vec::new();
        let binders = p
            .params
            .iter()
            .enumerate()
            .map(|(i, f)| (Binder::Param(i), &f.name));
        let stmts = p.body.iter().enumerate();
        let binders =
            binders.chain(stmts.filter_map(|(i, s)| Some((Binder::Stmt(i), s.kind.bound()?))));
        let names: Vec<&str> = params
            .iter()
            .copied()
            .chain(words.iter().map(|w| w.as_str()))
            .collect();
        for (i, (by, ident)) in binders.enumerate() {
            let w = ident.name.as_str();
            let want = match slots.get(w) {
                Some(s) => Err(spans[*s]),
                None => {
                    slots.insert(w, spans.len());
                    spans.push(ident.span);
                    Ok(spans.len() - 1)
                }
            };
            assert_eq!(ours.bind(by, ident, Ty::Bool), want, "{w}");
            assert_eq!(ours.len(), spans.len());
            // The name just bound (found as the last one, or as bound
            // before), another, and one bound later (not found yet).
            assert_eq!(ours.get_index_of(w), slots.get(w).copied(), "{w}");
            for probe in [names[(i * 7) % names.len()], names[(i + 1) % names.len()]] {
                assert_eq!(
                    ours.get_index_of(probe),
                    slots.get(probe).copied(),
                    "{probe}"
                );
            }
        }
        let keys: Vec<&str> = ours.keys().collect();
        for (w, s) in &slots {
            assert_eq!(keys[*s], *w);
            assert_eq!(ours.get_index(*s), Some((*w, &Ty::Bool)));
            assert_eq!(ours.get_full(w), Some((*s, &Ty::Bool)));
            assert_eq!(ours.get(w), Some((&Ty::Bool, spans[*s])));
        }
        assert_eq!(ours.get("absent"), None);
        assert_eq!(ours.get_index(slots.len()), None);
    }

    /// A name bound by a binder the table was not made for is bound, and
    /// found, as the table hashing names as they are bound finds it: a
    /// later binder of the same name is a second binding.
    #[test]
    fn a_stray_binder_is_found_by_search() {
        let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        let text = format!(
            "dir 0.1;\nforge F {{\n  proc K main() {{\n{}  }}\n}}\n",
            words
                .iter()
                .map(|w| format!("    let {w} = 1;\n"))
                .collect::<String>()
        );
        let program = dir_grammar::load_str(&text).expect("loads");
        let p = &program.forges[0].procs[0];
        let mut ours = NameTypes::of_body(&p.params, &p.body, 40, 0);
        let stray = Ident::new("elsewhere", Span::new(0, 1));
        assert_eq!(ours.bind(Binder::Stmt(3), &stray, Ty::Bool), Ok(0));
        assert_eq!(
            ours.bind(Binder::Stmt(900), &stray, Ty::Bool),
            Err(Span::new(0, 1))
        );
        let bound = p.body[5].kind.bound().expect("a let");
        assert_eq!(ours.bind(Binder::Stmt(5), bound, Ty::Bool), Ok(1));
        assert_eq!(ours.get_index_of("elsewhere"), Some(0));
        assert_eq!(ours.get_index_of("w5"), Some(1));
        assert_eq!(ours.get_index_of("w6"), None);
        // `w7` bound first by a stray binder, then by its own statement.
        let early = Ident::new("w7", Span::new(2, 3));
        assert_eq!(ours.bind(Binder::Stmt(6), &early, Ty::Bool), Ok(2));
        let own = p.body[7].kind.bound().expect("a let");
        assert_eq!(
            ours.bind(Binder::Stmt(7), own, Ty::Bool),
            Err(Span::new(2, 3))
        );
        assert_eq!(ours.get_index_of("w7"), Some(2));
    }
}

#[cfg(test)]
mod shape_tests {
    use super::*;

    /// A field's position is the same whether the shape's names are
    /// compared one by one (few fields) or hashed (many).
    #[test]
    fn fields_are_found_by_name_in_small_and_large_shapes() {
        let tables = semantics::Tables::defaults().expect("tables");
        let names = TyNames::new(&tables);
        let ty = names.get("i64").expect("i64 is a width");
        for n in [0, 1, SCANNED_FIELDS, SCANNED_FIELDS + 1, 40] {
            let fields: Vec<(String, DeclTy)> = (0..n)
                .map(|i| {
                    let d = DeclTy {
                        ty: Ty::Int(ty),
                        name: "i64".into(),
                        range: None,
                    };
                    (format!("f{i}"), d)
                })
                .collect();
            let shape = ShapeInfo::new("S", ty, fields);
            for i in 0..n {
                assert_eq!(shape.index_of(&format!("f{i}")), Some(i), "{n} fields");
                assert_eq!(shape.index.get(&format!("f{i}")).copied(), Some(i));
            }
            for missing in ["f", "g0", &format!("f{n}"), ""] {
                assert_eq!(shape.index_of(missing), None, "{missing} of {n} fields");
            }
        }
    }
}
