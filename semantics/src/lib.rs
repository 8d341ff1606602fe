//! The DPL v0.1 specification as data. Each table is a RON file named by spec
//! chapter under `tables/`; the defaults are embedded, and `Tables::from_dir`
//! loads an edited copy. Every table is validated when loaded.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::Path;

mod checks;
mod contracts;
pub mod datalog;
mod effects;
mod phi;
mod profile;
mod regimes;
mod resources;
mod rules;
mod steps;
mod time;
mod types;
mod validate;

pub use checks::*;
pub use contracts::*;
pub use effects::*;
pub use phi::*;
pub use profile::*;
pub use regimes::*;
pub use resources::*;
pub use steps::*;
pub use time::*;
pub use types::*;

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

impl TableError {
    pub(crate) fn new(file: &str, message: String) -> TableError {
        TableError {
            file: file.to_string(),
            message,
        }
    }
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
    /// A regime's transition table (08-k-steps, 08-q-steps, 08-phi-steps)
    /// and its file.
    pub fn steps(&self, regime: Regime) -> (&'static str, &KSteps) {
        match regime {
            Regime::K => ("08-k-steps.ron", &self.k_steps),
            Regime::Q => ("08-q-steps.ron", &self.q_steps),
            Regime::Phi => ("08-phi-steps.ron", &self.phi_steps),
        }
    }

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
}

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

/// `sha256` of the bytes `write` writes, without holding them.
pub fn sha256_written(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<String> {
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // Writers of JSON write a token at a time: the hash takes them in
    // blocks.
    let mut h = std::io::BufWriter::with_capacity(1 << 16, Hashing(Sha256::new()));
    write(&mut h)?;
    let h = h.into_inner().map_err(|e| e.into_error())?;
    Ok(format!("sha256:{}", hex(&h.0.finalize())))
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

    /// The engine keeps facts in fixed-width tuples: a rule binding more
    /// variables than `datalog::MAX_COLUMNS` is refused when the tables
    /// load, not evaluated wrongly.
    #[test]
    fn rules_binding_more_than_the_engine_keeps_are_rejected() {
        let max = crate::datalog::MAX_COLUMNS;
        // A chain of edges binding one variable more than the maximum.
        let body = (0..max)
            .map(|i| format!("\"edge(X{i}, X{})\"", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let e = error_of(edited("04-q-linearity.ron", |t| {
            t.replace(
                "body: [\"touch(V, P)\"],",
                &format!("body: [{body}, \"touch(V, P)\"],"),
            )
        }));
        assert!(
            e.message.contains(&format!("binds {} variables", max + 3)),
            "{e}"
        );
        // At the maximum, a chain of edges loads.
        let body = (0..max - 1)
            .map(|i| format!("\"edge(X{i}, X{})\"", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let t = edited("04-q-linearity.ron", |t| {
            t.replace(
                "(id: \"Q-CONSUMED\",",
                &format!("(id: \"Q-WIDE\", head: \"far(X0, X{})\", body: [{body}], cite: \"§4.4.2\"),\n            (id: \"Q-CONSUMED\",", max - 1),
            )
        });
        assert!(t.is_ok(), "{:?}", t.err());
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
