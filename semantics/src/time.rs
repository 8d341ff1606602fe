//! 09-time.ron: the declared cost model (§9).

#[allow(unused_imports)]
use super::*;

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
