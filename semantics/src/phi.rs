//! 07-phi.ron: Φ resolution (§7.5.3).

#[allow(unused_imports)]
use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnknownOrder {
    DeclarationOrder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntegerOrder {
    /// 0, 1, -1, 2, -2, ...
    NearestZeroNonNegativeFirst,
    /// 0, -1, 1, -2, 2, ...
    NearestZeroNegativeFirst,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BooleanOrder {
    FalseFirst,
    TrueFirst,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessOrder {
    pub unknowns: UnknownOrder,
    pub integers: IntegerOrder,
    pub booleans: BooleanOrder,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverBudget {
    /// Conflicts one solver call may spend (`--solver-budget` overrides).
    pub conflicts_per_query: u64,
    /// Conflicts all calls of one question may spend together.
    pub total_conflicts: u64,
    /// Solver calls per question (existence, witness bits, minimal-set tests).
    pub max_queries: u64,
    /// Unknowns one question may have (each costs a witness search).
    pub max_unknowns: u64,
    /// Clauses the encoding of one question may have.
    pub max_clauses: u64,
    /// Unit propagations all solver calls of one question may spend
    /// (checked between the slices of conflicts each call is made in).
    pub max_propagations: u64,
    /// Unit propagations all questions of one run may spend together
    /// (Φ gates each within their own budget added up without bound).
    pub run_propagations: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhiRule {
    pub id: String,
    pub cite: String,
    pub summary: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhiTable {
    pub witness_order: WitnessOrder,
    pub solver: SolverBudget,
    pub rules: Vec<PhiRule>,
}

/// One row of any table, for listings (`dustrun rules`) and coverage.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleInfo {
    pub id: String,
    pub table: &'static str,
    pub cite: String,
    pub summary: String,
    /// The error code the row reports, where it names one.
    pub code: Option<String>,
}
