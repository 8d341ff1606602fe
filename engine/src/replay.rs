//! Replay (brief §12): a trace names its artifact by digest and records the
//! whole configuration, so the run it describes can be made again and the
//! two traces compared. File handling (finding the artifact, reading the
//! trace) belongs to the CLI; this module turns a recorded trace back into a
//! configuration and finds the first difference between two traces.

use crate::trace::TRACE_VERSION;
use crate::{Mode, RunConfig};
use serde_json::Value as Json;

/// Fields that name how effects were handled rather than what the run was:
/// a simulated replay of a realized run differs in them and nothing else.
pub const MODE_FIELDS: &[&str] = &["config.mode", "realization"];

/// A recorded trace, read back.
pub struct Recorded {
    /// The whole trace as recorded.
    pub json: Json,
    /// The artifact's display name.
    pub name: String,
    /// `sha256:<hex>` of the artifact's bytes.
    pub digest: String,
    /// The artifact itself, when the trace embeds it (`--embed-dir`).
    pub embedded: Option<Vec<u8>>,
    pub rules_digest: String,
    /// The configuration to run again (mode as recorded: it decides which
    /// resources exist; whether effects are enacted is the caller's choice).
    pub config: RunConfig,
}

/// A trace nests at most a few levels per level of a value (values are at
/// most `MAX_VALUE_DEPTH` deep); anything deeper is not a trace.
pub const MAX_TRACE_NESTING: usize = 4 * crate::exec::MAX_VALUE_DEPTH as usize + 64;

/// The deepest `[`/`{` nesting of a JSON text (strings skipped).
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Read a trace written by `--trace-out`; the message says what is wrong.
/// Values nest deeper than serde_json's default limit allows, so the limit
/// is replaced by [`MAX_TRACE_NESTING`], checked before parsing (the caller
/// runs on a stack sized for it).
pub fn parse(bytes: &[u8]) -> Result<Recorded, String> {
    let depth = nesting(bytes);
    if depth > MAX_TRACE_NESTING {
        return Err(format!(
            "not a trace (nested {depth} levels deep; a trace nests at most {MAX_TRACE_NESTING})"
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let json: Json = serde::Deserialize::deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v))
        .map_err(|e| format!("not a trace (invalid JSON: {e})"))?;
    let version = json.get("trace_version").and_then(Json::as_u64);
    if version != Some(u64::from(TRACE_VERSION)) {
        return Err(match version {
            Some(v) => format!("trace version {v}; this dustrun replays version {TRACE_VERSION}"),
            None => "not a trace (no `trace_version`)".into(),
        });
    }
    let text = |path: &str| -> Result<String, String> {
        pointer(&json, path)
            .and_then(Json::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("the trace has no string `{path}`"))
    };
    let number = |path: &str| -> Result<u64, String> {
        pointer(&json, path)
            .and_then(Json::as_u64)
            .ok_or_else(|| format!("the trace has no unsigned integer `{path}`"))
    };
    let names = |path: &str| -> Result<Vec<String>, String> {
        match pointer(&json, path) {
            None => Ok(Vec::new()),
            Some(Json::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("`{path}` holds a non-string"))
                })
                .collect(),
            Some(_) => Err(format!("`{path}` is not a list")),
        }
    };
    let mode = match text("config.mode")?.as_str() {
        "simulate" => Mode::Simulate,
        "realize" => Mode::Realize,
        "check" => Mode::Check,
        m => return Err(format!("unknown mode `{m}` in `config.mode`")),
    };
    let mut args = Vec::new();
    match pointer(&json, "config.args") {
        Some(Json::Array(a)) => {
            for v in a {
                let field = |f: &str| v.get(f).and_then(Json::as_str).map(str::to_string);
                match (field("name"), field("value")) {
                    (Some(n), Some(x)) => args.push((n, x)),
                    _ => {
                        return Err("`config.args` holds an entry without `name` and `value`".into())
                    }
                }
            }
        }
        _ => return Err("the trace has no list `config.args`".into()),
    }
    let embedded = match pointer(&json, "artifact.embedded") {
        None => None,
        Some(v) => Some(
            unembed(v).ok_or("`artifact.embedded` is neither {\"utf8\": …} nor {\"hex\": …}")?,
        ),
    };
    let name = text("artifact.name")?;
    // dustrun never records an absolute path; a trace that does was not
    // written by it, and must not make replay read arbitrary files.
    if std::path::Path::new(&name).has_root() {
        return Err(format!(
            "the artifact name `{name}` is an absolute path, which dustrun never records"
        ));
    }
    Ok(Recorded {
        name,
        digest: text("artifact.digest")?,
        rules_digest: text("config.rules_digest")?,
        config: RunConfig {
            entry: match pointer(&json, "config.entry") {
                Some(Json::Null) => None,
                Some(Json::String(s)) => Some(s.clone()),
                _ => return Err("the trace has no `config.entry` (a string or null)".into()),
            },
            mode,
            args,
            max_steps: Some(number("config.max_steps")?),
            solver_budget: Some(number("config.solver_budget")?),
            deny_resources: names("config.deny_resources")?,
            provide_resources: names("config.provide_resources")?,
            explain: false,
            embed_dir: embedded.is_some(),
        },
        embedded,
        json,
    })
}

impl Recorded {
    /// Why this trace cannot be replayed against `dir` under tables with
    /// digest `tables`: the digest that changed, or `None` when both match.
    pub fn changed(&self, dir: &[u8], tables: &str) -> Option<String> {
        let digest = semantics::sha256(dir);
        if digest != self.digest {
            return Some(format!(
                "the artifact changed: `{}` has digest {digest}, the trace recorded {}",
                self.name, self.digest
            ));
        }
        if tables != self.rules_digest {
            return Some(format!(
                "the rule tables changed: their digest is {tables}, the trace recorded {}",
                self.rules_digest
            ));
        }
        None
    }
}

/// `a.b.c` into a JSON object.
fn pointer<'j>(json: &'j Json, path: &str) -> Option<&'j Json> {
    path.split('.').try_fold(json, |v, k| v.get(k))
}

fn unembed(v: &Json) -> Option<Vec<u8>> {
    if let Some(s) = v.get("utf8").and_then(Json::as_str) {
        return Some(s.as_bytes().to_vec());
    }
    let h = v.get("hex").and_then(Json::as_str)?;
    if h.len() % 2 != 0 {
        return None;
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Where two traces first differ.
#[derive(Debug, PartialEq, Eq)]
pub struct Divergence {
    /// `effects.events[2].payload`; the empty path is the whole trace.
    pub path: String,
    /// Compact JSON, or `(absent)`.
    pub recorded: String,
    pub now: String,
}

/// The first difference between a recorded trace and a new one, in the
/// recorded trace's field order (fields only the new trace has come after),
/// ignoring [`MODE_FIELDS`].
pub fn first_divergence(recorded: &Json, now: &Json) -> Option<Divergence> {
    diverge(recorded, now, "")
}

fn diverge(a: &Json, b: &Json, path: &str) -> Option<Divergence> {
    if MODE_FIELDS.contains(&path) {
        return None;
    }
    let found = |a: Option<&Json>, b: Option<&Json>| {
        let show = |v: Option<&Json>| v.map_or_else(|| "(absent)".to_string(), Json::to_string);
        Some(Divergence {
            path: path.to_string(),
            recorded: show(a),
            now: show(b),
        })
    };
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            for (k, v) in x {
                let p = join(k);
                match y.get(k) {
                    Some(w) => {
                        if let Some(d) = diverge(v, w, &p) {
                            return Some(d);
                        }
                    }
                    None if MODE_FIELDS.contains(&p.as_str()) => {}
                    None => return diverge_absent(Some(v), None, &p),
                }
            }
            y.iter()
                .filter(|(k, _)| !x.contains_key(*k))
                .find_map(|(k, w)| diverge_absent(None, Some(w), &join(k)))
        }
        (Json::Array(x), Json::Array(y)) => {
            for (i, v) in x.iter().enumerate() {
                let p = format!("{path}[{i}]");
                match y.get(i) {
                    Some(w) => {
                        if let Some(d) = diverge(v, w, &p) {
                            return Some(d);
                        }
                    }
                    None => return diverge_absent(Some(v), None, &p),
                }
            }
            y.get(x.len())
                .and_then(|w| diverge_absent(None, Some(w), &format!("{path}[{}]", x.len())))
        }
        // Leaves compare by their JSON text: `-0.0` and `0.0` are equal
        // numbers but different traces.
        _ if a == b && serde_json::to_string(a).ok() == serde_json::to_string(b).ok() => None,
        _ => found(Some(a), Some(b)),
    }
}

fn diverge_absent(a: Option<&Json>, b: Option<&Json>, path: &str) -> Option<Divergence> {
    if MODE_FIELDS.contains(&path) {
        return None;
    }
    let show = |v: Option<&Json>| v.map_or_else(|| "(absent)".to_string(), Json::to_string);
    Some(Divergence {
        path: path.to_string(),
        recorded: show(a),
        now: show(b),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identical_traces_do_not_diverge() {
        let t = json!({"a": 1, "b": [1, {"c": "x"}]});
        assert_eq!(first_divergence(&t, &t.clone()), None);
    }

    #[test]
    fn the_first_difference_in_recorded_order_is_named() {
        let a = json!({"outcome": "executed", "effects": {"events": [{"payload": "7"}, {"payload": "8"}]}});
        let b = json!({"outcome": "executed", "effects": {"events": [{"payload": "7"}, {"payload": "9"}]}});
        let d = first_divergence(&a, &b).unwrap();
        assert_eq!(d.path, "effects.events[1].payload");
        assert_eq!((d.recorded.as_str(), d.now.as_str()), ("\"8\"", "\"9\""));
    }

    #[test]
    fn missing_and_extra_elements_are_divergences() {
        let a = json!({"e": [1, 2]});
        let b = json!({"e": [1, 2, 3]});
        let d = first_divergence(&a, &b).unwrap();
        assert_eq!(
            (d.path.as_str(), d.recorded.as_str(), d.now.as_str()),
            ("e[2]", "(absent)", "3")
        );
        let d = first_divergence(&b, &a).unwrap();
        assert_eq!(
            (d.path.as_str(), d.recorded.as_str(), d.now.as_str()),
            ("e[2]", "3", "(absent)")
        );
        let d = first_divergence(&json!({"x": 1}), &json!({"x": 1, "y": 2})).unwrap();
        assert_eq!(d.path, "y");
    }

    #[test]
    fn fields_that_name_the_mode_are_not_compared() {
        let a =
            json!({"config": {"mode": "realize", "entry": "main"}, "realization": {"realized": 2}});
        let b = json!({"config": {"mode": "simulate", "entry": "main"}});
        assert_eq!(first_divergence(&a, &b), None);
        let c = json!({"config": {"mode": "simulate", "entry": "other"}});
        assert_eq!(first_divergence(&a, &c).unwrap().path, "config.entry");
    }

    #[test]
    fn negative_zero_is_not_zero() {
        let a: Json = serde_json::from_str(r#"{"returned": {"Float": -0.0}}"#).unwrap();
        let b: Json = serde_json::from_str(r#"{"returned": {"Float": 0.0}}"#).unwrap();
        assert_eq!(first_divergence(&a, &b).unwrap().path, "returned.Float");
    }

    #[test]
    fn deep_traces_parse_and_deeper_input_is_refused() {
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(nesting(deep(300).as_bytes()), 300);
        assert_eq!(nesting(br#"{"a": "[[[{{"}"#), 1);
        let e = parse(deep(300).as_bytes()).err().unwrap();
        assert!(
            e.contains("trace_version"),
            "past serde's default limit: {e}"
        );
        let e = parse(deep(MAX_TRACE_NESTING + 1).as_bytes()).err().unwrap();
        assert!(e.contains("levels deep"), "{e}");
    }

    #[test]
    fn embedded_artifacts_round_trip() {
        assert_eq!(unembed(&json!({"hex": "ff00"})), Some(vec![0xff, 0]));
        assert_eq!(unembed(&json!({"hex": "f"})), None);
        assert_eq!(unembed(&json!({"hex": "zz"})), None);
        assert_eq!(
            unembed(&json!({"utf8": "é"})),
            Some("é".as_bytes().to_vec())
        );
    }

    #[test]
    fn malformed_traces_are_refused_with_a_reason() {
        assert!(parse(b"{").err().unwrap().contains("invalid JSON"));
        assert!(parse(b"{}").err().unwrap().contains("trace_version"));
        assert!(parse(b"{\"trace_version\": 1}")
            .err()
            .unwrap()
            .contains("version 1"));
        let e = parse(format!("{{\"trace_version\": {TRACE_VERSION}}}").as_bytes())
            .err()
            .unwrap();
        assert!(e.contains("config.mode"), "{e}");
    }
}
