//! Static types of the checker.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    Unit,
    /// A shape of the enclosing forge.
    Shape(String),
    /// A `prove` witness over a value of the inner type.
    Witness(Box<Ty>),
    /// An explicit Q resource of the named type (`q_alloc(QBit)`).
    Resource(String),
    /// The classical record `q_measure` returns.
    Measurement,
    /// Error recovery: the type of an expression that already failed to check.
    Unknown,
}

impl Ty {
    /// Whether a value of type `self` may stand where `other` is expected.
    /// Integer widths share one kind; ranges are checked when a value is
    /// stored (brief 3: out-of-range stores are failures).
    pub fn fits(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Unknown, _) | (_, Ty::Unknown) => true,
            (Ty::Witness(a), Ty::Witness(b)) => a.fits(b),
            (a, b) => a == b,
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Unknown)
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Int => write!(f, "integer"),
            Ty::Float => write!(f, "float"),
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
