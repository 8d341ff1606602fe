//! 00-profile.ron: the profile (version, budgets, statements of later DIR versions).

#[allow(unused_imports)]
use super::*;

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
    /// Bytes all effect payloads of one run may have together, a newline
    /// each included (a shared value emitted many times is rendered each
    /// time).
    pub payload_bytes: u64,
    /// Facts the linearity analysis of one Q process may derive, at least.
    pub linearity_facts: u64,
    /// ... and per input fact of the process, so that the budget grows
    /// with the program and a valid large process is never undetermined.
    pub linearity_facts_per_input: u64,
    /// Facts the linearity analyses of all Q processes of one run may
    /// derive together beyond each one's `linearity_facts_per_input` share
    /// (many processes, each under its own budget, added up without bound).
    pub linearity_facts_run: u64,
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

/// The statement tags of DIR v0.1 (JSON object keys; the textual forms are
/// keywords). Any other tag is a later statement (00-profile.ron) or an
/// unknown one.
pub const V01_STATEMENTS: &[&str] = &["Let", "Constrain", "Prove", "Effect", "Return", "Call"];

impl Profile {
    /// Later-statement names: once each, statement-shaped, none of v0.1's.
    pub(crate) fn check(&self) -> Result<(), TableError> {
        let err = TableError::new;
        let mut later = std::collections::BTreeSet::new();
        for l in &self.later_statements {
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
        Ok(())
    }
}
