//! 08-resources.ron: the resources a `uses` clause can name (§8.6).

#[allow(unused_imports)]
use super::*;

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
