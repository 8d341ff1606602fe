//! 06-effects.ron: effect kinds and their realizers (§6.4).

#[allow(unused_imports)]
use super::*;

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
