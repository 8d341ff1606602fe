//! Static types of the checker, and the construct of each statement.

use dir_grammar::model::{BinOp, StmtKind};
use semantics::Construct;
use std::fmt;

/// The construct (table key) of a statement; None for later statements.
pub fn construct_of(kind: &StmtKind) -> Option<Construct> {
    Some(match kind {
        StmtKind::Let { .. } => Construct::Let,
        StmtKind::Constrain { .. } => Construct::Constrain,
        StmtKind::Prove { .. } => Construct::Prove,
        StmtKind::Return { .. } => Construct::Return,
        StmtKind::Effect { kind, .. } => Construct::Effect(kind.name.to_string()),
        StmtKind::Call { .. } => Construct::Call,
        StmtKind::Later { .. } => return None,
    })
}

/// Whether a statement is of a construct (`construct_of` without allocating).
pub fn is_construct(c: &Construct, kind: &StmtKind) -> bool {
    match (c, kind) {
        (Construct::Effect(k), StmtKind::Effect { kind, .. }) => *k == kind.name,
        (Construct::Effect(_), _) | (_, StmtKind::Effect { .. }) => false,
        (c, kind) => construct_of(kind).as_ref() == Some(c),
    }
}

/// The 05-types.ron row of each DIR operator, resolved once per run rather
/// than by name at every node that applies it.
#[derive(Clone, Copy)]
pub(crate) struct OpRows<'t>([Option<&'t semantics::OperatorRule>; BinOp::ALL.len()]);

impl<'t> OpRows<'t> {
    pub(crate) fn of(tables: &'t semantics::Tables) -> OpRows<'t> {
        OpRows(BinOp::ALL.map(|op| tables.operator(op.word())))
    }

    pub(crate) fn row(&self, op: BinOp) -> Option<&'t semantics::OperatorRule> {
        self.0[op as usize]
    }
}

/// The name inside a type (a width, a shape, a resource type). Checking
/// clones types constantly; a shared name makes a clone a count increment,
/// and a non-atomic one: types never leave the thread of their run.
pub type TyName = std::rc::Rc<str>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// An integer of the named width (`i32`, `i64`): distinct types (§5.2).
    Int(TyName),
    /// A float of the named width (`f32`, `f64`).
    Float(TyName),
    /// An integer literal, or an expression of literals only: untyped until
    /// its context gives it a width (§5.3.1).
    IntLit,
    FloatLit,
    /// A `let` bound to an untyped literal: its type is decided by its uses
    /// (an index into the body's literal variables).
    Var(usize),
    Bool,
    Str,
    Unit,
    /// A shape of the enclosing forge.
    Shape(TyName),
    /// A `prove` witness over a value of the inner type.
    Witness(Box<Ty>),
    /// An explicit Q resource of the named type (`q_alloc(QBit)`).
    Resource(TyName),
    /// The classical record `q_measure` returns.
    Measurement,
    /// Error recovery: the type of an expression that already failed to check.
    Unknown,
}

impl Ty {
    /// Whether a value of type `self` may stand where `other` is expected.
    /// Widths are distinct types; an untyped literal fits every width of its
    /// kind. Literal variables are unified by the checker before this is
    /// asked (an unresolved one fits, as error recovery).
    pub fn fits(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Unknown, _) | (_, Ty::Unknown) | (Ty::Var(_), _) | (_, Ty::Var(_)) => true,
            (Ty::IntLit, Ty::Int(_) | Ty::IntLit) | (Ty::Int(_), Ty::IntLit) => true,
            (Ty::FloatLit, Ty::Float(_) | Ty::FloatLit) | (Ty::Float(_), Ty::FloatLit) => true,
            (Ty::Witness(a), Ty::Witness(b)) => a.fits(b),
            (a, b) => a == b,
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Ty::Int(_) | Ty::Float(_) | Ty::IntLit | Ty::FloatLit | Ty::Var(_) | Ty::Unknown
        )
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Int(n) | Ty::Float(n) => write!(f, "{n}"),
            Ty::IntLit => write!(f, "an integer literal"),
            Ty::FloatLit => write!(f, "a float literal"),
            Ty::Var(_) => write!(f, "a literal-bound value"),
            Ty::Bool => write!(f, "bool"),
            Ty::Str => write!(f, "String"),
            Ty::Unit => write!(f, "Unit"),
            Ty::Shape(s) => write!(f, "{s}"),
            Ty::Witness(t) => write!(f, "PhiWitness<{t}>"),
            Ty::Resource(t) => write!(f, "resource {t}"),
            Ty::Measurement => write!(f, "Measurement"),
            Ty::Unknown => write!(f, "?"),
        }
    }
}

/// A declared type of a place (parameter, field, return) with its range.
#[derive(Clone, Debug)]
pub struct DeclTy {
    pub ty: Ty,
    /// The declared spelling (`i32`, `Int`, `Candidate`).
    pub name: String,
    pub range: Option<(i64, i64)>,
}
