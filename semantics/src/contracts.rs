//! 10-contracts.ron: contract attributes of bindings (§10.5).

#[allow(unused_imports)]
use super::*;

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
