//! The DPL v0.1 specification as data. Each table is a RON file named by spec
//! chapter under `tables/`; the defaults are embedded, and `Tables::from_dir`
//! loads an edited copy. Every table is validated when loaded.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::Path;

pub mod datalog;

/// The table files, in load (and digest) order.
pub const TABLE_FILES: [&str; 14] = [
    "00-profile.ron",
    "04-regimes.ron",
    "04-q-linearity.ron",
    "05-types.ron",
    "06-effects.ron",
    "07-phi.ron",
    "08-k-steps.ron",
    "08-phi-steps.ron",
    "08-q-steps.ron",
    "08-resources.ron",
    "09-time.ron",
    "10-admission.ron",
    "10-contracts.ron",
    "11-checks.ron",
];
/// The error catalogue, loaded with the tables.
pub const CATALOGUE_FILE: &str = "11-errors.ron";

const DEFAULTS: [(&str, &str); 15] = [
    ("00-profile.ron", include_str!("../tables/00-profile.ron")),
    ("04-regimes.ron", include_str!("../tables/04-regimes.ron")),
    (
        "04-q-linearity.ron",
        include_str!("../tables/04-q-linearity.ron"),
    ),
    ("05-types.ron", include_str!("../tables/05-types.ron")),
    ("06-effects.ron", include_str!("../tables/06-effects.ron")),
    ("07-phi.ron", include_str!("../tables/07-phi.ron")),
    ("08-k-steps.ron", include_str!("../tables/08-k-steps.ron")),
    (
        "08-phi-steps.ron",
        include_str!("../tables/08-phi-steps.ron"),
    ),
    ("08-q-steps.ron", include_str!("../tables/08-q-steps.ron")),
    (
        "08-resources.ron",
        include_str!("../tables/08-resources.ron"),
    ),
    ("09-time.ron", include_str!("../tables/09-time.ron")),
    (
        "10-admission.ron",
        include_str!("../tables/10-admission.ron"),
    ),
    (
        "10-contracts.ron",
        include_str!("../tables/10-contracts.ron"),
    ),
    ("11-checks.ron", include_str!("../tables/11-checks.ron")),
    ("11-errors.ron", include_str!("../tables/11-errors.ron")),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Regime {
    K,
    Q,
    Phi,
}

/// A statement form a rule row is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Construct {
    Let,
    Constrain,
    Prove,
    Return,
    /// The compiler's call statement (`let y = f(a)` lowered, §8.3).
    Call,
    Effect(String),
}

impl Construct {
    /// The constructs every regime table covers besides effects.
    pub const BASE: [Construct; 5] = [
        Construct::Let,
        Construct::Constrain,
        Construct::Prove,
        Construct::Return,
        Construct::Call,
    ];
}

// ------------------------------------------------------------------ profile

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub dpl_version: String,
    pub dir_versions: Vec<String>,
    pub later_dir: RuleRef,
    pub later_statements: Vec<LaterStatement>,
    /// Top-level and per-process fields of later DIR versions (non-empty).
    pub later_fields: Vec<LaterField>,
    pub budgets: Budgets,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaterField {
    pub id: String,
    /// `types` (program) or `locals` (process).
    pub field: String,
    pub since: String,
    pub code: String,
    pub cite: String,
}

/// Deterministic evaluation budgets: work is counted, never timed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budgets {
    /// Statements and calls one run may evaluate.
    pub steps: u64,
    /// Nodes one value may have when unfolded.
    pub value_nodes: u64,
    /// Facts the linearity analysis of one Q process may derive.
    pub linearity_facts: u64,
    /// Facts whole-program admission (10-admission.ron) may derive.
    pub admission_facts: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleRef {
    pub id: String,
    pub code: String,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaterStatement {
    pub id: String,
    pub statement: String,
    pub since: String,
    pub code: String,
    pub cite: String,
}

// ------------------------------------------------------------------ regimes

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Allowed,
    Forbidden,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRule {
    pub id: String,
    pub regime: Regime,
    pub construct: Construct,
    pub verdict: Verdict,
    pub cite: String,
    #[serde(default)]
    pub code: Option<String>,
    /// Message template; `{construct}`, `{regime}` and `{proc}` are filled in.
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub help: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Requirement {
    Required,
    Allowed,
    Forbidden,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualifierRule {
    pub id: String,
    pub regime: Regime,
    pub qualifier: String,
    pub requirement: Requirement,
    pub cite: String,
    #[serde(default)]
    pub code: Option<String>,
    /// Message template; `{qualifier}`, `{regime}` and `{proc}` are filled in.
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub help: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeTable {
    pub statements: Vec<StatementRule>,
    pub qualifiers: Vec<QualifierRule>,
}

// ------------------------------------------------------------------ types

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

// ------------------------------------------------------------------ resources

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParamKind {
    Int,
    Bool,
    Str,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceParam {
    pub name: String,
    pub kind: ParamKind,
    pub required: bool,
    /// Smallest value an Int parameter takes (durations are never negative).
    #[serde(default)]
    pub min: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Realizable {
    pub param: String,
    pub values: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub deadline: String,
    pub jitter: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub id: String,
    pub name: String,
    pub cite: String,
    pub realizer: bool,
    pub params: Vec<ResourceParam>,
    pub realizable: Vec<Realizable>,
    #[serde(default)]
    pub deadline: Option<Deadline>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedRule {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub cite: String,
    pub summary: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceTable {
    pub resources: Vec<Resource>,
    pub rules: Vec<NamedRule>,
}

impl ResourceTable {
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }
}

// ------------------------------------------------------------------ contracts

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttrValue {
    Bool,
    Int,
}

/// The primitive the engine implements for a standard attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttrMeaning {
    WitnessTransfer,
    EffectsAllowed,
    Latency,
    LinearityEnforced,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    pub id: String,
    pub key: String,
    pub value: AttrValue,
    pub meaning: AttrMeaning,
    pub cite: String,
    pub summary: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttrOps {
    pub value: AttrValue,
    pub ops: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractTable {
    pub attributes: Vec<Attribute>,
    pub ops: Vec<AttrOps>,
    pub unchecked: NamedRule,
    pub malformed: NamedRule,
}

impl ContractTable {
    pub fn attribute(&self, key: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.key == key)
    }

    pub fn ops_of(&self, v: AttrValue) -> &[String] {
        self.ops
            .iter()
            .find(|o| o.value == v)
            .map(|o| o.ops.as_slice())
            .unwrap_or(&[])
    }
}

// ------------------------------------------------------------------ effects

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Realizer {
    Stdout,
    Ledger,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectKind {
    pub id: String,
    pub kind: String,
    pub realizer: Realizer,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectsTable {
    pub kinds: Vec<EffectKind>,
}

// ------------------------------------------------------------------ K steps

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Eval,
    Bind,
    Defer,
    Witness,
    Tick,
    Record,
    Return,
    CheckConstraints,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub construct: Construct,
    pub actions: Vec<Action>,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitStep {
    pub id: String,
    pub actions: Vec<Action>,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KSteps {
    pub steps: Vec<Step>,
    pub exit: ExitStep,
}

// ------------------------------------------------------------------ time

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    pub construct: Construct,
    pub cost_us: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeModel {
    pub unit: String,
    pub costs: Vec<Cost>,
    pub call_cost_us: u64,
}

// ------------------------------------------------------------------ checks, catalogue

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    pub cite: String,
    pub summary: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Category {
    Load,
    Usage,
    Error,
    Inadmissible,
    Failure,
    Undetermined,
    /// An admitted run's effect could not be enacted (brief §1, exit 15).
    Realization,
    /// `--replay`: the new trace differs from the recorded one (exit 13).
    ReplayDiverged,
    /// `--replay`: the artifact or the rule tables changed (exit 14).
    ReplayRefused,
    /// A state the engine believes unreachable (brief §1, exit 70): never
    /// disguised as "not implemented".
    Internal,
}

impl Category {
    /// The process exit code of a run that stops with this category (brief
    /// §1), the one map the CLI and the backend judge use.
    pub fn exit_code(self) -> u8 {
        match self {
            Category::Usage => 2,
            Category::Load => 3,
            Category::Error => 4,
            Category::Inadmissible => 10,
            Category::Failure => 11,
            Category::Undetermined => 12,
            Category::ReplayDiverged => 13,
            Category::ReplayRefused => 14,
            Category::Realization => 15,
            Category::Internal => 70,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueEntry {
    pub code: String,
    pub category: Category,
    pub kind: String,
    #[serde(default)]
    pub key: Option<String>,
    pub title: String,
    pub cite: String,
    pub explanation: String,
}

// ------------------------------------------------------------------ Φ

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
}

// ------------------------------------------------------------------ tables

#[derive(Clone, Debug)]
pub struct Tables {
    pub profile: Profile,
    pub regimes: RegimeTable,
    pub types: TypesTable,
    pub effects: EffectsTable,
    pub k_steps: KSteps,
    pub q_steps: KSteps,
    pub phi_steps: KSteps,
    pub phi: PhiTable,
    pub linearity: datalog::Linearity,
    pub admission: datalog::Admission,
    pub resources: ResourceTable,
    pub contracts: ContractTable,
    pub time: TimeModel,
    pub checks: Vec<Check>,
    pub catalogue: Vec<CatalogueEntry>,
    /// `sha256:<hex>` over every table file's name and bytes, in order.
    pub digest: String,
}

/// A table failed to load or validate.
#[derive(Clone, Debug)]
pub struct TableError {
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, TableError> {
    ron::from_str(text).map_err(|e| TableError {
        file: file.to_string(),
        message: e.to_string(),
    })
}

impl Tables {
    /// The embedded default tables.
    pub fn defaults() -> Result<Tables, TableError> {
        Tables::from_sources(
            DEFAULTS
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
        )
    }

    /// The default tables' files, for `dustrun rules --export`.
    pub fn default_files() -> Vec<(&'static str, &'static str)> {
        DEFAULTS.to_vec()
    }

    /// Load every table file from `dir` (all must be present).
    pub fn from_dir(dir: &Path) -> Result<Tables, TableError> {
        let mut sources = Vec::new();
        for name in TABLE_FILES.iter().chain(std::iter::once(&CATALOGUE_FILE)) {
            let text = std::fs::read_to_string(dir.join(name)).map_err(|e| TableError {
                file: name.to_string(),
                message: format!("cannot read: {}", e.kind()),
            })?;
            sources.push((name.to_string(), text));
        }
        Tables::from_sources(sources)
    }

    /// Tables from (file name, text) pairs, as read from a directory.
    pub fn from_sources(sources: Vec<(String, String)>) -> Result<Tables, TableError> {
        let get = |name: &str| -> Result<&str, TableError> {
            sources
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.as_str())
                .ok_or_else(|| TableError {
                    file: name.to_string(),
                    message: "missing table file".into(),
                })
        };
        let mut h = Sha256::new();
        for (n, t) in &sources {
            h.update(n.as_bytes());
            h.update([0u8]);
            h.update(t.as_bytes());
            h.update([0u8]);
        }
        let digest = format!("sha256:{}", hex(&h.finalize()));
        let t = Tables {
            profile: parse("00-profile.ron", get("00-profile.ron")?)?,
            regimes: parse("04-regimes.ron", get("04-regimes.ron")?)?,
            types: parse("05-types.ron", get("05-types.ron")?)?,
            effects: parse("06-effects.ron", get("06-effects.ron")?)?,
            k_steps: parse("08-k-steps.ron", get("08-k-steps.ron")?)?,
            q_steps: parse("08-q-steps.ron", get("08-q-steps.ron")?)?,
            phi_steps: parse("08-phi-steps.ron", get("08-phi-steps.ron")?)?,
            phi: parse("07-phi.ron", get("07-phi.ron")?)?,
            linearity: {
                let raw: datalog::LinearityFile =
                    parse("04-q-linearity.ron", get("04-q-linearity.ron")?)?;
                datalog::Linearity::from_file(raw).map_err(|message| TableError {
                    file: "04-q-linearity.ron".into(),
                    message,
                })?
            },
            admission: {
                let raw: datalog::AdmissionFile =
                    parse("10-admission.ron", get("10-admission.ron")?)?;
                datalog::Admission::from_file(raw).map_err(|message| TableError {
                    file: "10-admission.ron".into(),
                    message,
                })?
            },
            resources: parse("08-resources.ron", get("08-resources.ron")?)?,
            contracts: parse("10-contracts.ron", get("10-contracts.ron")?)?,
            time: parse("09-time.ron", get("09-time.ron")?)?,
            checks: parse("11-checks.ron", get("11-checks.ron")?)?,
            catalogue: parse(CATALOGUE_FILE, get(CATALOGUE_FILE)?)?,
            digest,
        };
        t.validate()?;
        Ok(t)
    }

    /// Every rule row with an id, sorted by id.
    pub fn rules(&self) -> Vec<RuleInfo> {
        let mut v = Vec::new();
        let r = |id: &str, table: &'static str, cite: &str, summary: String| RuleInfo {
            id: id.to_string(),
            table,
            cite: cite.to_string(),
            summary,
        };
        v.push(r(
            &self.profile.later_dir.id,
            "00-profile",
            &self.profile.later_dir.cite,
            format!(
                "DIR versions other than {} are rejected",
                self.profile.dir_versions.join(", ")
            ),
        ));
        for s in &self.profile.later_statements {
            v.push(r(
                &s.id,
                "00-profile",
                &s.cite,
                format!("`{}` requires DPL {}", s.statement, s.since),
            ));
        }
        for f in &self.profile.later_fields {
            v.push(r(
                &f.id,
                "00-profile",
                &f.cite,
                format!("a non-empty `{}` requires DPL {}", f.field, f.since),
            ));
        }
        for s in &self.regimes.statements {
            v.push(r(
                &s.id,
                "04-regimes",
                &s.cite,
                format!(
                    "{:?} {} in {:?}",
                    s.verdict,
                    construct_name(&s.construct),
                    s.regime
                ),
            ));
        }
        for q in &self.regimes.qualifiers {
            v.push(r(
                &q.id,
                "04-regimes",
                &q.cite,
                format!(
                    "qualifier `{}` {:?} in {:?}",
                    q.qualifier, q.requirement, q.regime
                ),
            ));
        }
        for o in &self.types.operators {
            v.push(r(
                &o.id,
                "05-types",
                &o.cite,
                format!("`{}` is {:?}", o.op, o.class),
            ));
        }
        for e in &self.effects.kinds {
            v.push(r(
                &e.id,
                "06-effects",
                &e.cite,
                format!("`{}` is realized by {:?}", e.kind, e.realizer),
            ));
        }
        for (table, steps) in [
            ("08-k-steps", &self.k_steps),
            ("08-q-steps", &self.q_steps),
            ("08-phi-steps", &self.phi_steps),
        ] {
            for s in &steps.steps {
                let what = format!("{}: {:?}", construct_name(&s.construct), s.actions);
                v.push(r(&s.id, table, &s.cite, what));
            }
            let x = &steps.exit;
            v.push(r(
                &x.id,
                table,
                &x.cite,
                format!("process exit: {:?}", x.actions),
            ));
        }
        for rule in self.linearity.rules() {
            v.push(r(&rule.id, "04-q-linearity", &rule.cite, rule.text()));
        }
        for i in &self.linearity.intrinsics {
            v.push(r(
                &i.id,
                "04-q-linearity",
                &i.cite,
                format!(
                    "`{}`: argument flow {:?}, result {:?}",
                    i.name, i.flow, i.result
                ),
            ));
        }
        for c in &self.checks {
            v.push(r(&c.id, "11-checks", &c.cite, c.summary.clone()));
        }
        for rule in self.admission.rules() {
            v.push(r(&rule.id, "10-admission", &rule.cite, rule.text()));
        }
        for a in &self.contracts.attributes {
            v.push(r(&a.id, "10-contracts", &a.cite, a.summary.clone()));
        }
        for n in [&self.contracts.unchecked, &self.contracts.malformed] {
            v.push(r(&n.id, "10-contracts", &n.cite, n.summary.clone()));
        }
        for x in &self.resources.resources {
            v.push(r(
                &x.id,
                "08-resources",
                &x.cite,
                format!(
                    "resource `{}`{}",
                    x.name,
                    if x.realizer { " (has a realizer)" } else { "" }
                ),
            ));
        }
        for n in &self.resources.rules {
            v.push(r(&n.id, "08-resources", &n.cite, n.summary.clone()));
        }
        let d = &self.types.literal_defaults;
        v.push(r(
            &d.id,
            "05-types",
            &d.cite,
            format!(
                "an untyped literal no use decides is {} (integers) or {} (floats)",
                d.integer, d.float
            ),
        ));
        for t in &self.types.later_types {
            v.push(r(
                &t.id,
                "05-types",
                &t.cite,
                format!("type `{}` requires DPL {}", t.spelling, t.since),
            ));
        }
        let u = &self.types.unary;
        v.push(r(
            &u.id,
            "05-types",
            &u.cite,
            format!(
                "unary operators ({}) are not DPL v0.1 expressions",
                u.names.join(", ")
            ),
        ));
        for c in &self.phi.rules {
            v.push(r(&c.id, "07-phi", &c.cite, c.summary.clone()));
        }
        v.sort();
        v
    }

    /// The row of an operator (`Add`, `Eq`, ...) in 05-types.ron.
    pub fn operator(&self, op: &str) -> Option<&OperatorRule> {
        self.types.operators.iter().find(|o| o.op == op)
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    pub fn entry(&self, code: &str) -> Option<&CatalogueEntry> {
        self.catalogue.iter().find(|e| e.code == code)
    }

    pub fn entry_for_key(&self, key: &str) -> Option<&CatalogueEntry> {
        self.catalogue
            .iter()
            .find(|e| e.key.as_deref() == Some(key))
    }

    /// Canonical primitive name for a type spelling, via the alias table.
    pub fn canonical_type<'a>(&'a self, spelling: &'a str) -> Option<&'a Primitive> {
        let name = self
            .types
            .aliases
            .iter()
            .find(|a| a.spelling == spelling)
            .map(|a| a.canonical.as_str())
            .unwrap_or(spelling);
        self.types.primitives.iter().find(|p| p.name == name)
    }

    fn validate(&self) -> Result<(), TableError> {
        let err = |file: &str, message: String| TableError {
            file: file.to_string(),
            message,
        };
        // Catalogue: well-formed, unique codes and keys.
        let mut codes = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for e in &self.catalogue {
            if !valid_code(&e.code) {
                return Err(err(
                    CATALOGUE_FILE,
                    format!("code `{}` is not of the form E0000", e.code),
                ));
            }
            if !codes.insert(e.code.as_str()) {
                return Err(err(
                    CATALOGUE_FILE,
                    format!("code `{}` appears twice", e.code),
                ));
            }
            if let Some(k) = &e.key {
                if !keys.insert(k.as_str()) {
                    return Err(err(CATALOGUE_FILE, format!("key `{k}` appears twice")));
                }
            }
            if !valid_cite(&e.cite) {
                return Err(err(
                    CATALOGUE_FILE,
                    format!("code `{}` has a bad cite `{}`", e.code, e.cite),
                ));
            }
            if e.explanation.trim().is_empty() || e.title.trim().is_empty() {
                return Err(err(
                    CATALOGUE_FILE,
                    format!("code `{}` lacks a title or explanation", e.code),
                ));
            }
        }
        // Every rule: unique id, good cite; codes exist.
        let mut ids = BTreeSet::new();
        for r in self.rules() {
            if !valid_id(&r.id) {
                return Err(err(
                    r.table,
                    format!("rule id `{}` is not of the form AB-CD", r.id),
                ));
            }
            if !ids.insert(r.id.clone()) {
                return Err(err(r.table, format!("rule id `{}` appears twice", r.id)));
            }
            if !valid_cite(&r.cite) {
                return Err(err(
                    r.table,
                    format!(
                        "rule `{}` has a bad cite `{}` (expected §N or §N.N...)",
                        r.id, r.cite
                    ),
                ));
            }
        }
        let need_code =
            |file: &str, id: &str, code: Option<&str>, required: bool| -> Result<(), TableError> {
                match code {
                    Some(c) if !codes.contains(c) => Err(err(
                        file,
                        format!("rule `{id}` names code `{c}`, which is not in the catalogue"),
                    )),
                    None if required => Err(err(
                        file,
                        format!("rule `{id}` forbids something but names no error code"),
                    )),
                    _ => Ok(()),
                }
            };
        need_code(
            "00-profile.ron",
            &self.profile.later_dir.id,
            Some(&self.profile.later_dir.code),
            true,
        )?;
        for s in &self.profile.later_statements {
            need_code("00-profile.ron", &s.id, Some(&s.code), true)?;
        }
        for f in &self.profile.later_fields {
            need_code("00-profile.ron", &f.id, Some(&f.code), true)?;
        }
        for s in &self.regimes.statements {
            need_code(
                "04-regimes.ron",
                &s.id,
                s.code.as_deref(),
                s.verdict == Verdict::Forbidden,
            )?;
        }
        for q in &self.regimes.qualifiers {
            need_code(
                "04-regimes.ron",
                &q.id,
                q.code.as_deref(),
                q.requirement != Requirement::Allowed,
            )?;
        }
        for c in &self.checks {
            need_code("11-checks.ron", &c.id, c.code.as_deref(), false)?;
        }
        for v in &self.linearity.violations {
            need_code("04-q-linearity.ron", &v.relation, Some(&v.code), true)?;
        }
        for v in &self.admission.violations {
            need_code("10-admission.ron", &v.relation, Some(&v.code), true)?;
        }
        need_code(
            "10-contracts.ron",
            &self.contracts.malformed.id,
            self.contracts.malformed.code.as_deref(),
            true,
        )?;
        for n in &self.resources.rules {
            need_code("08-resources.ron", &n.id, n.code.as_deref(), false)?;
        }
        need_code(
            "05-types.ron",
            &self.types.unary.id,
            Some(&self.types.unary.code),
            true,
        )?;
        for t in &self.types.later_types {
            need_code("05-types.ron", &t.id, Some(&t.code), true)?;
        }
        let d = &self.types.literal_defaults;
        let int_ok = matches!(
            self.canonical_type(&d.integer).map(|p| &p.kind),
            Some(PrimKind::Int { .. })
        );
        let float_ok = matches!(
            self.canonical_type(&d.float).map(|p| &p.kind),
            Some(PrimKind::Float { .. })
        );
        if !int_ok || !float_ok {
            return Err(err(
                "05-types.ron",
                "literal_defaults name an integer and a float primitive".into(),
            ));
        }
        for a in &self.contracts.attributes {
            if self.contracts.ops_of(a.value).is_empty() {
                return Err(err(
                    "10-contracts.ron",
                    format!(
                        "attribute `{}`: no operators for {:?} values",
                        a.key, a.value
                    ),
                ));
            }
            if self
                .contracts
                .attributes
                .iter()
                .filter(|b| b.key == a.key)
                .count()
                != 1
            {
                return Err(err(
                    "10-contracts.ron",
                    format!("attribute `{}` appears twice", a.key),
                ));
            }
        }
        for x in &self.resources.resources {
            if self
                .resources
                .resources
                .iter()
                .filter(|y| y.name == x.name)
                .count()
                != 1
            {
                return Err(err(
                    "08-resources.ron",
                    format!("resource `{}` appears twice", x.name),
                ));
            }
            let known = |p: &str| x.params.iter().any(|q| q.name == p);
            for rz in &x.realizable {
                if !known(&rz.param) {
                    return Err(err(
                        "08-resources.ron",
                        format!(
                            "resource `{}`: realizable names unknown parameter `{}`",
                            x.name, rz.param
                        ),
                    ));
                }
            }
            if let Some(d) = &x.deadline {
                for p in [&d.deadline, &d.jitter] {
                    let int = x
                        .params
                        .iter()
                        .any(|q| &q.name == p && q.kind == ParamKind::Int);
                    if !int {
                        return Err(err(
                            "08-resources.ron",
                            format!(
                                "resource `{}`: deadline parameter `{p}` is not an Int parameter",
                                x.name
                            ),
                        ));
                    }
                }
            }
        }
        for s in &self.q_steps.steps {
            if let Construct::Effect(k) = &s.construct {
                if !self.effects.kinds.iter().any(|e| &e.kind == k) {
                    return Err(err(
                        "08-q-steps.ron",
                        format!("step `{}` names unknown effect `{k}`", s.id),
                    ));
                }
            }
        }
        for (file, steps) in [
            ("08-k-steps.ron", &self.k_steps),
            ("08-q-steps.ron", &self.q_steps),
            ("08-phi-steps.ron", &self.phi_steps),
        ] {
            for s in &steps.steps {
                check_actions(&s.id, Some(&s.construct), &s.actions).map_err(|m| err(file, m))?;
            }
            check_actions(&steps.exit.id, None, &steps.exit.actions).map_err(|m| err(file, m))?;
        }
        for (file, steps) in [
            ("08-q-steps.ron", &self.q_steps),
            ("08-phi-steps.ron", &self.phi_steps),
        ] {
            for c in Construct::BASE {
                if steps.steps.iter().filter(|s| s.construct == c).count() != 1 {
                    return Err(err(
                        file,
                        format!("exactly one step is required for {}", construct_name(&c)),
                    ));
                }
            }
        }
        // Every construct a regime allows has a transition row of that regime.
        for row in self
            .regimes
            .statements
            .iter()
            .filter(|r| r.verdict == Verdict::Allowed)
        {
            let (file, steps) = match row.regime {
                Regime::K => ("08-k-steps.ron", &self.k_steps),
                Regime::Q => ("08-q-steps.ron", &self.q_steps),
                Regime::Phi => ("08-phi-steps.ron", &self.phi_steps),
            };
            if !steps.steps.iter().any(|s| s.construct == row.construct) {
                return Err(err(
                    file,
                    format!(
                        "`{}` allows {} but no transition rule performs it",
                        row.id,
                        construct_name(&row.construct)
                    ),
                ));
            }
        }
        // Regime table: exactly one row per regime x construct.
        let mut constructs = Construct::BASE.to_vec();
        constructs.extend(
            self.effects
                .kinds
                .iter()
                .map(|k| Construct::Effect(k.kind.clone())),
        );
        for regime in [Regime::K, Regime::Q, Regime::Phi] {
            for c in &constructs {
                let n = self
                    .regimes
                    .statements
                    .iter()
                    .filter(|s| s.regime == regime && &s.construct == c)
                    .count();
                if n != 1 {
                    return Err(err(
                        "04-regimes.ron",
                        format!(
                            "{n} rows for {} in {regime:?}; exactly one is required",
                            construct_name(c)
                        ),
                    ));
                }
            }
        }
        // K steps and costs: one per construct.
        for c in &constructs {
            let n = self
                .k_steps
                .steps
                .iter()
                .filter(|s| &s.construct == c)
                .count();
            if n != 1 {
                return Err(err(
                    "08-k-steps.ron",
                    format!(
                        "{n} steps for {}; exactly one is required",
                        construct_name(c)
                    ),
                ));
            }
            match self.time.costs.iter().filter(|k| &k.construct == c).count() {
                1 => {}
                0 => {
                    return Err(err(
                        "09-time.ron",
                        format!("no cost for {}", construct_name(c)),
                    ))
                }
                n => {
                    return Err(err(
                        "09-time.ron",
                        format!(
                            "{n} costs for {}; exactly one is required",
                            construct_name(c)
                        ),
                    ))
                }
            }
        }
        for s in &self.effects.kinds {
            if self
                .effects
                .kinds
                .iter()
                .filter(|k| k.kind == s.kind)
                .count()
                != 1
            {
                return Err(err(
                    "06-effects.ron",
                    format!("effect kind `{}` appears twice", s.kind),
                ));
            }
        }
        // Types: names once each, ranges non-empty; aliases resolve;
        // operators cover every operator exactly once.
        let mut names = std::collections::BTreeSet::new();
        for p in &self.types.primitives {
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
        for a in &self.types.aliases {
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
        let mut later = std::collections::BTreeSet::new();
        for l in &self.profile.later_statements {
            if !later.insert(l.statement.as_str()) {
                return Err(err(
                    "00-profile.ron",
                    format!("later statement `{}` appears twice", l.statement),
                ));
            }
            if !l.statement.starts_with(|c: char| c.is_ascii_uppercase())
                || !l.statement.chars().all(|c| c.is_ascii_alphanumeric())
                || V01_STATEMENTS.contains(&l.statement.as_str())
            {
                return Err(err(
                    "00-profile.ron",
                    format!(
                        "row `{}`: `{}` is not a statement name outside DIR v0.1 (a capitalised identifier other than {})",
                        l.id,
                        l.statement,
                        V01_STATEMENTS.join(", ")
                    ),
                ));
            }
        }
        for a in &self.types.aliases {
            if !self.types.primitives.iter().any(|p| p.name == a.canonical) {
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
            if self.types.operators.iter().filter(|o| o.op == op).count() != 1 {
                return Err(err(
                    "05-types.ron",
                    format!("operator `{op}` needs exactly one row"),
                ));
            }
        }
        for o in &self.types.operators {
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

/// The actions the rule applier can perform for a construct (None: the
/// process-exit row), in the order they may come.
pub fn actions_for(construct: Option<&Construct>) -> &'static [Action] {
    use Action::*;
    match construct {
        Some(Construct::Let) | Some(Construct::Call) => &[Eval, Bind, Tick],
        Some(Construct::Constrain) => &[Defer, Tick],
        Some(Construct::Prove) => &[Eval, Witness, Bind, Tick],
        Some(Construct::Effect(_)) => &[Eval, Tick, Record],
        Some(Construct::Return) => &[Eval, Tick, Return],
        None => &[CheckConstraints],
    }
}

/// A step row's actions: only those the applier performs for its
/// construct, each once, in the applier's order (evaluate before binding,
/// witnessing or recording; return last), with what the construct needs.
fn check_actions(
    id: &str,
    construct: Option<&Construct>,
    actions: &[Action],
) -> Result<(), String> {
    let allowed = actions_for(construct);
    let what = construct.map_or("the process exit".to_string(), construct_name);
    let mut last = None;
    for a in actions {
        let Some(pos) = allowed.iter().position(|x| x == a) else {
            return Err(format!(
                "row `{id}`: action {a:?} is not performed for {what} (allowed, in order: {allowed:?})"
            ));
        };
        if last.is_some_and(|l| pos <= l) {
            return Err(format!(
                "row `{id}`: actions must come once each, in the order {allowed:?}"
            ));
        }
        last = Some(pos);
    }
    let has = |a: Action| actions.contains(&a);
    let needs_eval = [
        Action::Bind,
        Action::Witness,
        Action::Record,
        Action::Return,
    ];
    if let Some(a) = needs_eval.iter().find(|a| has(**a)) {
        if !has(Action::Eval) {
            return Err(format!(
                "row `{id}`: {a:?} needs the value of an earlier Eval"
            ));
        }
    }
    if construct == Some(&Construct::Prove) && has(Action::Bind) && !has(Action::Witness) {
        return Err(format!(
            "row `{id}`: a prove binds a witness (§7.6), so Bind needs Witness"
        ));
    }
    if construct == Some(&Construct::Return) && !has(Action::Return) {
        return Err(format!("row `{id}`: a return row must end with Return"));
    }
    Ok(())
}

/// The statement tags of DIR v0.1 (JSON object keys; the textual forms are
/// keywords). Any other tag is a later statement (00-profile.ron) or an
/// unknown one.
pub const V01_STATEMENTS: &[&str] = &["Let", "Constrain", "Prove", "Effect", "Return", "Call"];

/// Fill `{key}` placeholders of a message template.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

pub fn construct_name(c: &Construct) -> String {
    match c {
        Construct::Effect(k) => format!("effect `{k}`"),
        other => format!("`{}`", format!("{other:?}").to_lowercase()),
    }
}

fn valid_code(c: &str) -> bool {
    c.len() == 5 && c.starts_with('E') && c[1..].chars().all(|d| d.is_ascii_digit())
}

fn valid_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        && id.contains('-')
}

/// `§` followed by dot-separated numbers (or an appendix letter).
pub fn valid_cite(c: &str) -> bool {
    let Some(rest) = c.strip_prefix('§') else {
        return false;
    };
    !rest.is_empty()
        && rest.split('.').all(|p| {
            !p.is_empty()
                && (p.chars().all(|d| d.is_ascii_digit())
                    || (p.len() == 1 && p.chars().all(|d| d.is_ascii_uppercase())))
        })
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 of arbitrary bytes as `sha256:<hex>` (used for DIR digests).
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default sources with one file edited.
    fn edited(name: &str, f: impl Fn(&str) -> String) -> Result<Tables, TableError> {
        let files = DEFAULTS
            .iter()
            .map(|(n, t)| (n.to_string(), if *n == name { f(t) } else { t.to_string() }))
            .collect();
        Tables::from_sources(files)
    }

    fn error_of(r: Result<Tables, TableError>) -> TableError {
        match r {
            Ok(_) => panic!("the edited tables were accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn defaults_load_and_validate() {
        let t = Tables::defaults().expect("default tables are valid");
        assert!(t.rules().len() > 40);
        assert!(t.digest.starts_with("sha256:"));
    }

    #[test]
    fn bad_cite_is_rejected() {
        let e = error_of(edited("04-regimes.ron", |t| {
            t.replacen("cite: \"§4.2\"", "cite: \"section four\"", 1)
        }));
        assert!(e.message.contains("bad cite"), "{e}");
    }

    #[test]
    fn unknown_code_is_rejected() {
        let e = error_of(edited("11-checks.ron", |t| {
            t.replacen("\"E0110\"", "\"E9999\"", 1)
        }));
        assert!(e.message.contains("E9999"), "{e}");
    }

    #[test]
    fn missing_regime_row_is_rejected() {
        let e = error_of(edited("04-regimes.ron", |t| {
            t.lines()
                .filter(|l| !l.contains("\"Q-EFFECT-EMIT\""))
                .collect::<Vec<_>>()
                .join("\n")
        }));
        assert!(e.message.contains("0 rows"), "{e}");
    }

    #[test]
    fn unstratified_negation_is_rejected() {
        let e = error_of(edited("04-q-linearity.ron", |t| {
            t.replace(
                "\"!consumed(V)\", \"!resource(V)\"",
                "\"!second_use(V, P, E)\"",
            )
        }));
        assert!(
            e.message
                .contains("negates a relation of this or a later stratum"),
            "{e}"
        );
    }
}
