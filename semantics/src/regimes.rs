//! 04-regimes.ron: which construct each regime allows (§4, §6.5).

#[allow(unused_imports)]
use super::*;

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
