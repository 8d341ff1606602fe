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
use crate::types::{DeclTy, Ty, TyName};
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

/// A binding whose endpoints resolved.
#[derive(Clone, Debug)]
pub struct BindInfo<'p> {
    pub bind: &'p Bind,
    pub source: usize,
    pub target: usize,
}

pub struct ShapeInfo {
    /// The shape's name, shared by every type that names it.
    pub name: TyName,
    pub fields: Vec<(String, DeclTy)>,
    /// Field positions by name (looked up only, never iterated).
    index: Map<String, usize>,
}

impl ShapeInfo {
    pub fn new(name: &str, fields: Vec<(String, DeclTy)>) -> ShapeInfo {
        let index = fields
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i))
            .collect();
        ShapeInfo {
            name: name.into(),
            fields,
            index,
        }
    }

    /// A field's declared type, by name.
    pub fn field(&self, name: &str) -> Option<&DeclTy> {
        self.index_of(name).map(|i| &self.fields[i].1)
    }

    /// A field's position, by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
}

pub struct ProcInfo<'p> {
    pub forge: usize,
    pub proc: &'p Proc,
    /// `Forge::Regime::name`.
    pub qname: String,
    pub params: Vec<(String, DeclTy)>,
    pub ret: Option<DeclTy>,
    /// What each call resolved to (a process, an intrinsic, the earlier
    /// dustrun's `phi_witness`), keyed by the callee's span.
    pub targets: SpanMap<Target>,
    /// Digest of the canonical text of the process's constraint set.
    pub constraint_digest: String,
    /// Every call of another process, in evaluation order of the checker.
    pub sites: Vec<CallSite>,
    /// Types of every name the body binds (for `explain`'s linearity view).
    pub env: NameTypes<'p>,
    /// The type each arithmetic or comparison operator works in, by the
    /// operator's span: i32 arithmetic overflows at the i32 bounds.
    pub op_width: OpWidths,
    /// Float literals of type f32 (by span): evaluated at single precision.
    pub f32_lits: Set<(usize, usize)>,
}

pub struct Compiled<'p> {
    pub program: &'p Program,
    pub procs: Vec<ProcInfo<'p>>,
    /// Shapes per forge.
    pub shapes: Vec<BTreeMap<String, ShapeInfo>>,
    /// Processes by (forge, name), so references resolve in O(1). Only
    /// looked up, never iterated, so its order cannot reach any output.
    pub by_name: Map<(usize, String), Vec<usize>>,
    /// Bindings whose endpoints resolved, in declaration order.
    pub binds: Vec<BindInfo<'p>>,
    /// Binding indices between two processes, keyed both ways (looked up
    /// only, never iterated).
    pub between: Map<(usize, usize), Vec<usize>>,
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

/// Context of the body being checked.
/// The types of the names a process binds, keyed by names borrowed from
/// the program. Only looked up (never iterated for output), so a hash map:
/// an ordered map compared long common prefixes (`v12345`) at every level.
pub type NameTypes<'p> = Map<&'p str, (Ty, Span)>;

/// What validation decided about a node, keyed by the node's span (start,
/// end): looked up by evaluation, never iterated.
pub type SpanMap<V> = Map<(usize, usize), V>;

/// The type each arithmetic or comparison operator of a body works in,
/// by the operator's position (no two operators start at one byte). A
/// body names few widths, so each operator keeps only an index: one entry
/// per operator is the largest table validation leaves for evaluation.
#[derive(Default)]
pub struct OpWidths {
    widths: Vec<(TyName, PrimKind)>,
    at: Map<usize, u32>,
}

impl OpWidths {
    pub fn insert(&mut self, op: Span, width: TyName, kind: PrimKind) {
        let i = match self.widths.iter().position(|(w, _)| *w == width) {
            Some(i) => i,
            None => {
                self.widths.push((width, kind));
                self.widths.len() - 1
            }
        };
        // At most one entry per spelling of a type in the tables.
        self.at.insert(op.start, i as u32);
    }

    pub fn get(&self, op: Span) -> Option<&(TyName, PrimKind)> {
        self.at.get(&op.start).map(|i| &self.widths[*i as usize])
    }
}

pub(crate) struct Scope<'a, 'd> {
    pub(crate) forge: usize,
    pub(crate) proc: usize,
    /// Visible names with their types and where they were bound.
    pub(crate) env: NameTypes<'a>,
    /// Every name the body binds, with its statement index (for "bound later" help).
    pub(crate) all_defs: &'d [(&'a str, usize, Span)],
}

impl Scope<'_, '_> {
    pub(crate) fn lookup(&self, n: &str) -> Option<&(Ty, Span)> {
        self.env.get(n)
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

/// The earlier dustrun's witness constructor, kept for its programs.
pub const PHI_WITNESS: &str = "phi_witness";
