//! The conformance corpus: DIR programs (`.json` or `.dir`) under
//! `cases/<area>/`, each with an optional `<name>.case` run configuration,
//! and one reviewed snapshot per case under `snapshots/`.

pub mod judge;

use engine::{Engine, Mode, Report, RunConfig, Source};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `<name>.case` (RON). Every field is optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseConfig {
    #[serde(default)]
    pub entry: Option<String>,
    /// `simulate` (default) or `check`.
    #[serde(default)]
    pub mode: Option<String>,
    /// `name=EXPR` entry arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Step budget override (`--max-steps`).
    #[serde(default)]
    pub max_steps: Option<u64>,
    /// Φ solver conflicts per query (`--solver-budget`).
    #[serde(default)]
    pub solver_budget: Option<u64>,
    /// `--deny-resource` names.
    #[serde(default)]
    pub deny_resources: Vec<String>,
    /// Resources the run's manifest provides.
    #[serde(default)]
    pub provide_resources: Vec<String>,
    /// What the case shows, for readers of the corpus.
    #[serde(default)]
    pub about: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Case {
    /// `<area>/<file name>`, e.g. `k/hello.json`.
    pub id: String,
    pub path: PathBuf,
    pub config: CaseConfig,
    /// The case's bytes when it comes from the corpus built into the
    /// binary (`path` is then only its place in the repository).
    pub embedded: Option<&'static [u8]>,
}

impl Case {
    /// Snapshot name: `<area>__<file name with dots as underscores>`.
    pub fn snapshot_name(&self) -> String {
        self.id.replace('/', "__").replace('.', "_")
    }

    pub fn run_config(&self) -> RunConfig {
        let mode = match self.config.mode.as_deref() {
            Some("check") => Mode::Check,
            _ => Mode::Simulate,
        };
        self.config.run_config(mode)
    }
}

impl CaseConfig {
    /// The run this configuration asks for, in `mode`.
    pub fn run_config(&self, mode: Mode) -> RunConfig {
        let mut cfg = RunConfig::new(mode);
        cfg.entry = self.entry.clone();
        cfg.args = self.args.iter().map(|a| RunConfig::arg(a)).collect();
        cfg.max_steps = self.max_steps;
        cfg.solver_budget = self.solver_budget;
        cfg.deny_resources = self.deny_resources.clone();
        cfg.provide_resources = self.provide_resources.clone();
        cfg
    }
}

/// Every case under `root`, sorted by id.
pub fn discover(root: &Path) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    let mut areas: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| format!("cannot read corpus {}: {}", root.display(), e.kind()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    areas.sort();
    for area in areas {
        let area_name = area
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&area)
            .map_err(|e| format!("cannot read {}: {}", area.display(), e.kind()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("json" | "dir")))
            .collect();
        files.sort();
        for path in files {
            let file = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            let sidecar = path.with_extension("case");
            let config = if sidecar.exists() {
                let text = std::fs::read_to_string(&sidecar)
                    .map_err(|e| format!("{}: {}", sidecar.display(), e.kind()))?;
                ron::Options::default()
                    .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
                    .from_str(&text)
                    .map_err(|e| format!("{}: {e}", sidecar.display()))?
            } else {
                CaseConfig::default()
            };
            cases.push(Case {
                id: format!("{area_name}/{file}"),
                path,
                config,
                embedded: None,
            });
        }
    }
    Ok(cases)
}

pub struct CaseResult {
    pub report: Report,
    /// Human diagnostics, as `dustrun` prints them.
    pub rendered: String,
}

/// The corpus built into the binary, sorted by id (as `discover` sorts).
pub fn embedded_cases() -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for (id, bytes) in judge::embedded::CORPUS {
        if !(id.ends_with(".dir") || id.ends_with(".json")) {
            continue;
        }
        let sidecar = format!("{}.case", &id[..id.rfind('.').unwrap_or(id.len())]);
        let config = match judge::embedded::CORPUS.iter().find(|(n, _)| *n == sidecar) {
            Some((_, b)) => judge::parse_config(&String::from_utf8_lossy(b))
                .map_err(|e| format!("{sidecar}: {e}"))?,
            None => CaseConfig::default(),
        };
        cases.push(Case {
            id: id.to_string(),
            path: PathBuf::from("conformance/cases").join(id),
            config,
            embedded: Some(bytes),
        });
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(cases)
}

/// The reviewed snapshot of a case, as built into the binary.
pub fn embedded_snapshot(case: &Case) -> Option<&'static str> {
    let name = format!("{}.snap", case.snapshot_name());
    judge::embedded::SNAPSHOTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

pub fn run_case(engine: &Engine, case: &Case) -> Result<CaseResult, String> {
    let bytes = match case.embedded {
        Some(b) => b.to_vec(),
        None => std::fs::read(&case.path)
            .map_err(|e| format!("{}: {}", case.path.display(), e.kind()))?,
    };
    let src = Source {
        name: &case.id,
        bytes: &bytes,
    };
    let report = engine.run(&src, &case.run_config());
    let rendered: String = report
        .diagnostics
        .iter()
        .map(|d| engine::render::human(&src, d))
        .collect();
    Ok(CaseResult { report, rendered })
}

/// The reviewed surface of a case: its trace (rule-table and run digests redacted so
/// editing one table does not churn every snapshot; the `rules` list still
/// shows what changed) and its rendered diagnostics.
pub fn snapshot_text(r: &CaseResult) -> String {
    let mut t = r.report.trace.clone();
    t.config.rules_digest = "[rules-digest]".into();
    // The run digest covers the configuration, rules digest included.
    t.run = "[run-digest]".into();
    let mut s = t.to_json();
    if !r.rendered.is_empty() {
        s.push_str("--- diagnostics ---\n");
        s.push_str(&r.rendered);
    }
    s
}

/// The outcome and error code a snapshot records, read back from its text.
pub fn recorded_outcome(snapshot: &str) -> Option<(String, Option<String>)> {
    let field = |key: &str| {
        snapshot.lines().find_map(|l| {
            let l = l.trim();
            l.strip_prefix(&format!("\"{key}\": \""))
                .and_then(|r| r.split('"').next())
                .map(str::to_string)
        })
    };
    Some((field("outcome")?, field("code")))
}

/// Where a case's snapshot lives.
pub fn snapshot_path(snapshots: &Path, case: &Case) -> PathBuf {
    snapshots.join(format!("{}.snap", case.snapshot_name()))
}
