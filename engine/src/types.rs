//! Static types of the checker, and the construct of each statement.

use dir_grammar::model::{BinOp, StmtKind};
use semantics::{Construct, PrimKind};
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

/// A statement's construct's index in `Construct::BASE` (none for an
/// effect, whose row depends on its kind, nor for a later statement). A
/// test checks the indexes against `construct_of`.
pub(crate) fn base_step(kind: &StmtKind) -> Option<usize> {
    Some(match kind {
        StmtKind::Let { .. } => 0,
        StmtKind::Constrain { .. } => 1,
        StmtKind::Prove { .. } => 2,
        StmtKind::Return { .. } => 3,
        StmtKind::Call { .. } => 4,
        StmtKind::Effect { .. } | StmtKind::Later { .. } => return None,
    })
}

/// A step table as evaluation and the static cost model read it: the row
/// of each construct but effects found once (not at every statement), and
/// each row's declared cost (09-time.ron). Both read statements through
/// this, so the cost admission predicts is the cost evaluation charges.
pub(crate) struct StepRows<'t> {
    steps: &'t semantics::KSteps,
    base: [Option<usize>; Construct::BASE.len()],
    /// The effect rows (kind, row), in table order: an effect statement's
    /// row is found among them alone.
    effects: Vec<(&'t str, usize)>,
    /// Declared cost of each row.
    pub(crate) cost: Vec<u64>,
}

impl<'t> StepRows<'t> {
    /// Each regime's rows, by `Regime::index` (K, Q, Φ).
    pub(crate) fn by_regime(tables: &'t semantics::Tables) -> [StepRows<'t>; 3] {
        dir_grammar::model::Regime::ALL
            .map(|r| StepRows::new(tables, tables.steps(crate::validate::regime_of(r)).1))
    }

    pub(crate) fn new(tables: &semantics::Tables, steps: &'t semantics::KSteps) -> StepRows<'t> {
        StepRows {
            steps,
            base: Construct::BASE
                .clone()
                .map(|c| steps.steps.iter().position(|st| st.construct == c)),
            effects: steps
                .steps
                .iter()
                .enumerate()
                .filter_map(|(i, st)| match &st.construct {
                    Construct::Effect(k) => Some((k.as_str(), i)),
                    _ => None,
                })
                .collect(),
            cost: steps
                .steps
                .iter()
                .map(|st| {
                    tables
                        .time
                        .costs
                        .iter()
                        .find(|c| c.construct == st.construct)
                        .map(|c| c.cost_us)
                        .unwrap_or(0)
                })
                .collect(),
        }
    }

    /// The row of a statement; None for one the table has no row for (a
    /// later statement, or a construct the regime does not have).
    pub(crate) fn row(&self, kind: &StmtKind) -> Option<usize> {
        match (base_step(kind), kind) {
            (Some(b), _) => self.base[b],
            (None, StmtKind::Effect { kind, .. }) => self
                .effects
                .iter()
                .find(|(k, _)| *k == kind.name)
                .map(|(_, i)| *i),
            (None, _) => self
                .steps
                .steps
                .iter()
                .position(|st| is_construct(&st.construct, kind)),
        }
    }

    /// What a statement costs: its row's declared cost if the row ticks.
    pub(crate) fn tick_cost(&self, kind: &StmtKind) -> u64 {
        match self.row(kind) {
            Some(r)
                if self.steps.steps[r]
                    .actions
                    .contains(&semantics::Action::Tick) =>
            {
                self.cost[r]
            }
            _ => 0,
        }
    }
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

/// The name inside a type (a width, a shape, a resource type), interned
/// once per program (`TyNames`): checking copies and compares types
/// constantly, and a number is copied and compared for nothing. The text
/// is looked up only to print a diagnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TyName(u32);

impl TyName {
    /// The number an operator's mark holds (`validate::OpWidths`).
    #[inline]
    pub(crate) fn number(self) -> usize {
        self.0 as usize
    }

    /// The name numbered `n` (as `number` gave it).
    #[inline]
    pub(crate) fn numbered(n: u32) -> TyName {
        TyName(n)
    }
}

/// Every name a type of one program can carry: the primitives of
/// 05-types.ron (with their kind) and the resource types of the linearity
/// table from the start, the program's shapes as declarations are
/// collected. Bodies are checked after that, with the table complete.
pub struct TyNames {
    names: Vec<(Box<str>, Option<PrimKind>)>,
    /// Numbers by name (a program of 100 000 shapes interns as many).
    index: crate::names::NameIndex,
    /// 05-types.ron's default widths of untyped literals (§5.3.1).
    pub int_default: Option<TyName>,
    pub float_default: Option<TyName>,
}

impl TyNames {
    pub fn new(tables: &semantics::Tables) -> TyNames {
        let mut names = TyNames {
            names: Vec::new(),
            index: crate::names::NameIndex::with_capacity(0),
            int_default: None,
            float_default: None,
        };
        for p in &tables.types.primitives {
            let n = names.intern(&p.name);
            if let Some(entry) = names.names.get_mut(n.0 as usize) {
                entry.1 = Some(p.kind.clone());
            }
        }
        for r in &tables.linearity.resource_types {
            names.intern(r);
        }
        let defaults = &tables.types.literal_defaults;
        let default = |n: &str| tables.canonical_type(n).and_then(|p| names.get(&p.name));
        (names.int_default, names.float_default) =
            (default(&defaults.integer), default(&defaults.float));
        names
    }

    pub fn intern(&mut self, name: &str) -> TyName {
        let names = &self.names;
        let next = names.len();
        let n = self
            .index
            .insert(name, next, |i| names.get(i).map(|(t, _)| &**t))
            .unwrap_or_else(|known| known);
        if n == next {
            self.names.push((name.into(), None));
        }
        // More names than u32 holds cannot come from a 64 MiB input.
        TyName(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The name's number, if it names a primitive, resource type or shape.
    pub fn get(&self, name: &str) -> Option<TyName> {
        let names = &self.names;
        let n = self.index.find(name, |i| names.get(i).map(|(t, _)| &**t))?;
        u32::try_from(n).ok().map(TyName)
    }

    pub fn text(&self, n: TyName) -> &str {
        self.names.get(n.0 as usize).map_or("?", |(t, _)| t)
    }

    /// The primitive a width names (05-types.ron), if it is one.
    pub fn prim(&self, n: TyName) -> Option<&PrimKind> {
        self.names.get(n.0 as usize).and_then(|(_, k)| k.as_ref())
    }
}

/// A type of the checker. Cloning one is a copy, except for a witness,
/// whose inner type is shared.
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
    Witness(std::sync::Arc<Ty>),
    /// An explicit Q resource of the named type (`q_alloc(QBit)`).
    Resource(TyName),
    /// The classical record `q_measure` returns.
    Measurement,
    /// Error recovery: the type of an expression that already failed to check.
    Unknown,
}

impl Ty {
    /// A witness over a value of type `t`.
    pub fn witness(t: Ty) -> Ty {
        Ty::Witness(std::sync::Arc::new(t))
    }

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

    /// The type as a diagnostic writes it.
    pub fn show<'a>(&'a self, names: &'a TyNames) -> Shown<'a> {
        Shown(self, names)
    }
}

/// A type with the names it needs to be written (`Ty::show`).
pub struct Shown<'a>(&'a Ty, &'a TyNames);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.1;
        match self.0 {
            Ty::Int(n) | Ty::Float(n) | Ty::Shape(n) => f.write_str(names.text(*n)),
            Ty::IntLit => write!(f, "an integer literal"),
            Ty::FloatLit => write!(f, "a float literal"),
            Ty::Var(_) => write!(f, "a literal-bound value"),
            Ty::Bool => write!(f, "bool"),
            Ty::Str => write!(f, "String"),
            Ty::Unit => write!(f, "Unit"),
            Ty::Witness(t) => write!(f, "PhiWitness<{}>", t.show(names)),
            Ty::Resource(t) => write!(f, "resource {}", names.text(*t)),
            Ty::Measurement => write!(f, "Measurement"),
            Ty::Unknown => write!(f, "?"),
        }
    }
}

/// A declared type of a place (parameter, field, return) with its range.
#[derive(Clone, Debug)]
pub struct DeclTy {
    pub ty: Ty,
    /// The declared spelling (`i32`, `Int`, `Candidate`): inline, no
    /// allocation for each parameter and return type of a program.
    pub name: dir_grammar::model::Name,
    pub range: Option<(i64, i64)>,
}

#[cfg(test)]
mod step_tests {
    use super::base_step;
    use dir_grammar::model::StmtKind;

    /// `base_step` names each statement's own construct in
    /// `Construct::BASE`, and none for an effect.
    #[test]
    fn base_steps_are_the_statements_constructs() {
        let p = dir_grammar::load_str(
            "dir 0.1;\nforge F {\n  proc K f() -> i64 {\n    return 1;\n  }\n  proc K main() {\n    let a = 1;\n    constrain a Gt 0;\n    prove w from a Gt 0;\n    call f() -> b;\n    emit a;\n    return;\n  }\n}\n",
        )
        .expect("the program loads");
        let mut seen = 0;
        for s in p.forges.iter().flat_map(|f| &f.procs).flat_map(|p| &p.body) {
            let want = match &s.kind {
                StmtKind::Effect { .. } => None,
                k => super::construct_of(k),
            };
            let got = base_step(&s.kind).map(|i| semantics::Construct::BASE[i].clone());
            assert_eq!(got, want, "{}", s.kind.tag());
            seen += 1;
        }
        assert_eq!(seen, 7);
    }

    /// The rows and costs a statement is read through: the base rows found
    /// once are the rows a search finds, and a statement costs its row's
    /// declared cost exactly when the row ticks.
    #[test]
    fn step_rows_agree_with_a_search_of_the_table() {
        let tables = semantics::Tables::defaults().expect("the default tables load");
        let p = dir_grammar::load_str(
            "dir 0.1;\nforge F {\n  proc K f() -> i64 {\n    return 1;\n  }\n  proc K main() {\n    let a = 1;\n    constrain a Gt 0;\n    prove w from a Gt 0;\n    call f() -> b;\n    emit a;\n    seal a;\n    observe a;\n    beep a;\n    emit b;\n    return;\n  }\n}\n",
        )
        .expect("the program loads");
        let mut charged = 0;
        for steps in [&tables.k_steps, &tables.q_steps, &tables.phi_steps] {
            let rows = super::StepRows::new(&tables, steps);
            for s in p.forges.iter().flat_map(|f| &f.procs).flat_map(|p| &p.body) {
                let searched = steps
                    .steps
                    .iter()
                    .position(|st| super::construct_of(&s.kind).as_ref() == Some(&st.construct));
                assert_eq!(rows.row(&s.kind), searched, "{}", s.kind.tag());
                let want = searched
                    .filter(|r| steps.steps[*r].actions.contains(&semantics::Action::Tick))
                    .map_or(0, |r| {
                        let con = &steps.steps[r].construct;
                        tables
                            .time
                            .costs
                            .iter()
                            .find(|c| c.construct == *con)
                            .map_or(0, |c| c.cost_us)
                    });
                assert_eq!(rows.tick_cost(&s.kind), want, "{}", s.kind.tag());
                charged += usize::from(want > 0);
            }
        }
        assert!(charged > 0, "some statement costs something");
    }
}
