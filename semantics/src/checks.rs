//! 11-checks.ron and 11-errors.ron: static checks and the error catalogue (§13).

#[allow(unused_imports)]
use super::*;

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
