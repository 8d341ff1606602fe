//! 05-types.ron: primitive types, aliases and operators (§5).

#[allow(unused_imports)]
use super::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PrimKind {
    Int {
        min: i64,
        max: i64,
    },
    /// `single`: results round to single precision after each operation.
    Float {
        single: bool,
    },
    Bool,
    Str,
    Unit,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Primitive {
    pub name: String,
    pub kind: PrimKind,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    pub spelling: String,
    pub canonical: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpClass {
    Arith,
    Compare,
    Logic,
    Equality,
}

/// The operation an operator performs: what evaluation and Φ resolution
/// compute. Each belongs to one typing class (`OpMeaning::class`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpMeaning {
    Add,
    Subtract,
    Multiply,
    Divide,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    And,
    Or,
}

impl OpMeaning {
    /// The typing class this operation belongs to.
    pub fn class(self) -> OpClass {
        use OpMeaning::*;
        match self {
            Add | Subtract | Multiply | Divide => OpClass::Arith,
            Less | LessOrEqual | Greater | GreaterOrEqual => OpClass::Compare,
            Equal => OpClass::Equality,
            And | Or => OpClass::Logic,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorRule {
    pub id: String,
    pub op: String,
    pub class: OpClass,
    /// The operation: arithmetic on numbers of one type (integers fault on
    /// overflow, floats are IEEE), an ordering, equality, or a connective.
    pub meaning: OpMeaning,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypesTable {
    pub primitives: Vec<Primitive>,
    pub aliases: Vec<Alias>,
    pub operators: Vec<OperatorRule>,
    /// Spellings of unary operators (§3.8 has none in v0.1).
    pub unary: UnaryRule,
    /// Built-in type names besides primitives and shapes.
    pub witness_type: String,
    /// The type an untyped literal takes when no use decides it.
    pub literal_defaults: LiteralDefaults,
    /// Type spellings of later DPL versions, rejected (§14.5).
    pub later_types: Vec<LaterType>,
    /// Regime-wrapped types (`K[Int]`) of newer compiler output: they load
    /// (the loaders know the form), and this row rejects them (§14.5).
    /// Tables without it report such a type as unknown.
    #[serde(default)]
    pub later_wrapped: Option<LaterWrapped>,
}

/// The verdict on a regime-wrapped type (`K[Int]`, `Q[QBit]`, `Phi[Bool]`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaterWrapped {
    pub id: String,
    pub since: String,
    pub code: String,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiteralDefaults {
    pub id: String,
    pub cite: String,
    pub integer: String,
    pub float: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaterType {
    pub id: String,
    pub spelling: String,
    pub since: String,
    pub code: String,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnaryRule {
    pub id: String,
    pub code: String,
    pub cite: String,
    /// Call-like spellings the compiler renders (`Neg(x)`, `Not(b)`).
    pub names: Vec<String>,
}

impl TypesTable {
    /// Names once each, integer ranges non-empty, aliases resolve, every
    /// operator exactly once with a meaning of its class.
    pub(crate) fn check(&self) -> Result<(), TableError> {
        let err = TableError::new;
        // Types: names once each, ranges non-empty; aliases resolve;
        // operators cover every operator exactly once.
        let mut names = std::collections::BTreeSet::new();
        for p in &self.primitives {
            if !names.insert(p.name.as_str()) {
                return Err(err(
                    "05-types.ron",
                    format!("primitive `{}` appears twice", p.name),
                ));
            }
            if let PrimKind::Int { min, max } = p.kind {
                if min > max {
                    return Err(err(
                        "05-types.ron",
                        format!("primitive `{}`: the range {min}..={max} is empty", p.name),
                    ));
                }
            }
        }
        for a in &self.aliases {
            if !names.insert(a.spelling.as_str()) {
                return Err(err(
                    "05-types.ron",
                    format!(
                        "alias `{}` repeats a type name or another alias",
                        a.spelling
                    ),
                ));
            }
        }
        for a in &self.aliases {
            if !self.primitives.iter().any(|p| p.name == a.canonical) {
                return Err(err(
                    "05-types.ron",
                    format!(
                        "alias `{}` names unknown type `{}`",
                        a.spelling, a.canonical
                    ),
                ));
            }
        }
        for op in [
            "Add", "Sub", "Mul", "Div", "Eq", "Lt", "Le", "Gt", "Ge", "And", "Or",
        ] {
            if self.operators.iter().filter(|o| o.op == op).count() != 1 {
                return Err(err(
                    "05-types.ron",
                    format!("operator `{op}` needs exactly one row"),
                ));
            }
        }
        for o in &self.operators {
            if o.meaning.class() != o.class {
                return Err(err(
                    "05-types.ron",
                    format!(
                        "row `{}`: class {:?} does not fit meaning {:?}, an operation of class {:?}",
                        o.id,
                        o.class,
                        o.meaning,
                        o.meaning.class()
                    ),
                ));
            }
        }
        Ok(())
    }
}
