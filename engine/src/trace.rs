//! The trace: a stable, versioned JSON surface (docs/trace-schema.md), a
//! superset of the earlier dustrun's `{returned, effects, time}` shape.

use serde::Serialize;
use serde_json::Value as Json;

pub const TRACE_VERSION: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Executed,
    Rejected,
    Inadmissible,
    Failed,
    Undetermined,
    /// A usage stop before admission (bad argument, missing realizer,
    /// unusable ledger): nothing ran, nothing was realized (brief §1).
    #[serde(rename = "not-run")]
    NotRun,
    /// A state the engine believes unreachable (exit 70).
    #[serde(rename = "internal-error")]
    Internal,
    /// `check` of a K or Q entry given without all its arguments: the
    /// program is valid; admission needs those arguments, so nothing was
    /// admitted or run (exit 0).
    Validated,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Executed => "executed",
            Outcome::Rejected => "rejected",
            Outcome::Inadmissible => "inadmissible",
            Outcome::Failed => "failed",
            Outcome::Undetermined => "undetermined",
            Outcome::NotRun => "not-run",
            Outcome::Internal => "internal-error",
            Outcome::Validated => "validated",
        }
    }

    /// The outcome of a run stopped by a diagnostic of this category (the
    /// one map from categories to outcomes).
    pub fn of(c: semantics::Category) -> Outcome {
        use semantics::Category::*;
        match c {
            Inadmissible => Outcome::Inadmissible,
            Failure => Outcome::Failed,
            Undetermined => Outcome::Undetermined,
            Usage => Outcome::NotRun,
            Internal => Outcome::Internal,
            Load | Error | Realization | ReplayDiverged | ReplayRefused => Outcome::Rejected,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Trace {
    pub trace_version: u32,
    pub dustrun: String,
    pub dpl: String,
    pub artifact: Artifact,
    pub config: Config,
    /// sha256 over the artifact digest and the configuration as requested
    /// (the mode aside: a simulated replay is the same run): what ledger
    /// records name their run by.
    pub run: String,
    pub outcome: Outcome,
    /// Φ resolution of the entry: the canonical witness for its unknowns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phi: Option<PhiTrace>,
    pub returned: Option<Json>,
    pub effects: Effects,
    pub time: Time,
    /// Every rule id that decided something in this run, sorted.
    pub rules: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<TraceError>,
    /// Realize mode only: which effects were enacted (set by the realizer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realization: Option<Realization>,
}

/// The DIR program a run executed.
#[derive(Clone, Debug, Serialize)]
pub struct Artifact {
    /// Display name (as given, or the file name when the path was absolute).
    pub name: String,
    /// sha256 of the input bytes.
    pub digest: String,
    /// The input itself (`--embed-dir`), so the trace replays on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedded: Option<Embedded>,
}

#[derive(Clone, Debug, Serialize)]
pub enum Embedded {
    /// Input that is valid UTF-8, as text.
    #[serde(rename = "utf8")]
    Utf8(String),
    /// Any other input, as lowercase hex.
    #[serde(rename = "hex")]
    Hex(String),
}

impl Embedded {
    pub fn of(bytes: &[u8]) -> Embedded {
        match std::str::from_utf8(bytes) {
            Ok(s) => Embedded::Utf8(s.to_string()),
            Err(_) => Embedded::Hex(bytes.iter().map(|b| format!("{b:02x}")).collect()),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Realization {
    /// Effects enacted, counting from the first in program order.
    pub realized: usize,
    /// The effect that could not be enacted (every later one was not tried).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<RealizationFailure>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RealizationFailure {
    /// 0-based index into `effects.events`.
    pub effect: usize,
    pub realizer: String,
    pub error: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Arg {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Config {
    /// The entry as requested; null when not given (then `main`, or the
    /// program's only process).
    pub entry: Option<String>,
    /// The process that ran, `Forge::Regime::name` (null when not resolved).
    pub entry_resolved: Option<String>,
    pub mode: String,
    /// `--arg` values in the order given.
    pub args: Vec<Arg>,
    /// Step budget in force (profile default or `--max-steps`).
    pub max_steps: u64,
    /// Φ solver conflicts per query in force (07-phi.ron or `--solver-budget`).
    pub solver_budget: u64,
    /// `--deny-resource` names, as given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny_resources: Vec<String>,
    /// Resources the run's manifest provides.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub provide_resources: Vec<String>,
    pub profile: String,
    pub rules_digest: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Effects {
    pub events: Vec<EventJson>,
}

/// One effect of the run, in order (what the realizer enacts).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventJson {
    /// The effect kind and the process, shared by every event that names
    /// them: a run may record many events, of few kinds and processes.
    pub kind: std::sync::Arc<str>,
    /// Inline up to 24 bytes (most payloads: numbers, short strings): an
    /// event's payload costs no allocation of its own.
    pub payload: compact_str::CompactString,
    pub tick: u64,
    pub proc: std::sync::Arc<str>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Time {
    pub tick: u64,
    /// Declared physical cost under the time model (µs); never wall-clock.
    pub cost_us: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TraceError {
    pub kind: String,
    pub code: String,
    pub category: String,
    pub message: String,
    pub rule: Option<String>,
    pub spec: String,
    pub span: Option<TraceSpan>,
    /// Φ non-existence: a minimal inadmissible set of constraints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mus: Option<Vec<MusEntry>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MusEntry {
    pub proc: String,
    /// 0-based index of the statement in the process body.
    pub stmt: usize,
    pub predicate: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PhiTrace {
    /// Unknown parameter -> its value in the canonical witness (tagged).
    pub witness: Json,
    /// Always `exact`: the question is decided over the declared domains
    /// (the field stays so trace v3 consumers keep their shape).
    pub scope: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TraceSpan {
    pub file: String,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Trace {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome;
    use semantics::Category;

    /// Every category maps to the outcome and exit code brief §1 gives it;
    /// an internal error is never disguised as another outcome.
    #[test]
    fn categories_map_to_outcomes_and_exit_codes() {
        let all = [
            (Category::Usage, Outcome::NotRun, 2),
            (Category::Load, Outcome::Rejected, 3),
            (Category::Error, Outcome::Rejected, 4),
            (Category::Inadmissible, Outcome::Inadmissible, 10),
            (Category::Failure, Outcome::Failed, 11),
            (Category::Undetermined, Outcome::Undetermined, 12),
            (Category::ReplayDiverged, Outcome::Rejected, 13),
            (Category::ReplayRefused, Outcome::Rejected, 14),
            (Category::Realization, Outcome::Rejected, 15),
            (Category::Internal, Outcome::Internal, 70),
        ];
        for (c, o, code) in all {
            assert_eq!((Outcome::of(c), c.exit_code()), (o, code), "{c:?}");
        }
    }
}
