//! Replay (brief §12): a trace names its artifact by digest and records the
//! whole configuration, so the run it describes can be made again and the
//! two traces compared. File handling (finding the artifact, reading the
//! trace) belongs to the CLI; this module turns a recorded trace back into a
//! configuration and finds the first difference between two traces.

use crate::trace::TRACE_VERSION;
use crate::Overlap;
use crate::{Mode, RunConfig};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value as Json;
use std::io::Read;

/// Fields that name how effects were handled rather than what the run was:
/// a simulated replay of a realized run differs in them and nothing else.
pub const MODE_FIELDS: &[&str] = &["config.mode", "realization"];

/// A recorded trace, read back: what a replay needs before it runs. The
/// rest of the trace is compared by [`first_divergence`] straight from its
/// bytes, never built as a tree (64 MB of nested arrays in a trace made a
/// 9.6 GB tree).
pub struct Recorded {
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
    /// The recorded outcome (`executed`, `not-run`, ...).
    pub outcome: Option<String>,
    /// The recorded error's code, when the trace has one.
    pub error_code: Option<String>,
}

/// A trace nests at most a few levels per level of a value (values are at
/// most `MAX_VALUE_DEPTH` deep); anything deeper is not a trace.
pub const MAX_TRACE_NESTING: usize = 4 * crate::exec::MAX_VALUE_DEPTH as usize + 64;

/// The deepest `[`/`{` nesting of a JSON text (strings skipped).
#[cfg(test)]
fn nesting(bytes: &[u8]) -> usize {
    let mut d = Depth::default();
    d.scan(bytes);
    d.max
}

/// `[`/`{` nesting of a JSON text read so far (strings skipped).
#[derive(Default)]
struct Depth {
    depth: usize,
    max: usize,
    in_str: bool,
    escaped: bool,
}

impl Depth {
    fn scan(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.in_str {
                match b {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_str = true,
                b'[' | b'{' => {
                    self.depth += 1;
                    self.max = self.max.max(self.depth);
                }
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
    }
}

/// A trace's text, read through a depth check: past [`MAX_TRACE_NESTING`]
/// the read fails, before serde_json (whose own limit is off, values nest
/// deeper than its default allows) goes deeper.
struct Guarded<R> {
    inner: R,
    depth: Depth,
}

/// What reading a trace failed on when it nests too deep.
const TOO_DEEP: &str = "nests deeper than a trace does";

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.depth.scan(&buf[..n]);
        if self.depth.max > MAX_TRACE_NESTING {
            return Err(std::io::Error::other(TOO_DEEP));
        }
        Ok(n)
    }
}

/// Opens the recorded trace for one more reading from its start: a replay
/// reads it three times (version, header, comparison) so that it never
/// holds more than the new trace and a buffer, whatever the size of the
/// recorded one (a run can write a trace of gigabytes).
pub type Open<'o, 'r> = &'o dyn Fn() -> std::io::Result<Box<dyn Read + 'r>>;

type De<'a> = serde_json::Deserializer<
    serde_json::de::IoRead<std::io::BufReader<Guarded<Box<dyn Read + 'a>>>>,
>;

fn deserializer<'r>(open: Open<'_, 'r>) -> Result<De<'r>, String> {
    let inner = open().map_err(|e| format!("cannot read it ({e})"))?;
    let guarded = Guarded {
        inner,
        depth: Depth::default(),
    };
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, guarded));
    de.disable_recursion_limit();
    Ok(de)
}

/// serde_json's error, worded for a trace.
fn not_a_trace(e: serde_json::Error) -> String {
    if e.is_io() && e.to_string().contains(TOO_DEEP) {
        return format!("not a trace (it nests more than {MAX_TRACE_NESTING} levels deep)");
    }
    if e.is_io() {
        return format!("cannot read it ({e})");
    }
    format!("not a trace (invalid JSON: {e})")
}

/// A trace held in memory (tests, small inputs).
pub fn in_memory<'a>(bytes: &'a [u8]) -> impl Fn() -> std::io::Result<Box<dyn Read + 'a>> + 'a {
    move || Ok(Box::new(bytes) as Box<dyn Read>)
}

/// The fields of a trace a replay reads before running, typed: any other
/// field is skipped as it is read (serde's `IgnoredAny`; the comparison
/// reads them all again, checked), whatever its size.
#[derive(Deserialize)]
struct Header {
    trace_version: Option<Version>,
    artifact: Option<ArtifactH>,
    config: Option<ConfigH>,
    outcome: Option<String>,
    error: Option<ErrorH>,
}

#[derive(Deserialize)]
struct ArtifactH {
    name: Option<String>,
    digest: Option<String>,
    embedded: Option<EmbeddedH>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbeddedH {
    utf8: Option<String>,
    hex: Option<String>,
}

#[derive(Deserialize)]
struct ConfigH {
    /// Absent (`None`) and null (`Some(None)`) differ: a trace records
    /// the entry as requested, null when none was.
    #[serde(default, deserialize_with = "present")]
    entry: Option<Option<String>>,
    mode: Option<String>,
    args: Option<Vec<ArgH>>,
    max_steps: Option<u64>,
    solver_budget: Option<u64>,
    #[serde(default)]
    deny_resources: Vec<String>,
    #[serde(default)]
    provide_resources: Vec<String>,
    rules_digest: Option<String>,
}

#[derive(Deserialize)]
struct ArgH {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
struct ErrorH {
    code: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Read a trace written by `--trace-out`; the message says what is wrong.
pub fn parse(open: Open<'_, '_>) -> Result<Recorded, String> {
    let mut de = deserializer(open)?;
    let header: Result<Header, _> =
        Deserialize::deserialize(&mut de).and_then(|h| de.end().map(|_| h));
    // The version decides how the rest reads: a trace of another version
    // is refused for its version, whatever else failed to read.
    let version = match &header {
        Ok(h) => h.trace_version.as_ref().and_then(|v| v.0),
        Err(_) => {
            #[derive(Deserialize)]
            struct Versioned {
                trace_version: Option<Version>,
            }
            let mut de = deserializer(open)?;
            let v: Versioned = Deserialize::deserialize(&mut de)
                .and_then(|v| de.end().map(|_| v))
                .map_err(not_a_trace)?;
            v.trace_version.and_then(|v| v.0)
        }
    };
    match version {
        Some(v) if v == u64::from(TRACE_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "trace version {v}; this dustrun replays version {TRACE_VERSION}"
            ))
        }
        _ => return Err("not a trace (no `trace_version`)".into()),
    }
    let h = header.map_err(|e| match e.is_io() {
        true => not_a_trace(e),
        false => format!("not a trace version {TRACE_VERSION} ({e})"),
    })?;
    let missing = |what: &str| format!("the trace has no {what}");
    let config = h.config.ok_or_else(|| missing("string `config.mode`"))?;
    let mode = match config
        .mode
        .ok_or_else(|| missing("string `config.mode`"))?
        .as_str()
    {
        "simulate" => Mode::Simulate,
        "realize" => Mode::Realize,
        "check" => Mode::Check,
        m => return Err(format!("unknown mode `{m}` in `config.mode`")),
    };
    let mut args: Vec<(String, String)> = Vec::new();
    for a in config.args.ok_or_else(|| missing("list `config.args`"))? {
        match (a.name, a.value) {
            (Some(n), Some(x)) => args.push((n, x)),
            _ => return Err("`config.args` holds an entry without `name` and `value`".into()),
        }
    }
    // A run never records an argument twice (`--arg` refuses it).
    let mut names: Vec<&str> = args.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("`config.args` gives `{}` more than once", w[0]));
    }
    let artifact = h
        .artifact
        .ok_or_else(|| missing("string `artifact.name`"))?;
    let embedded = match artifact.embedded {
        None => None,
        Some(e) => Some(
            unembed(e).ok_or("`artifact.embedded` is neither {\"utf8\": …} nor {\"hex\": …}")?,
        ),
    };
    let name = artifact
        .name
        .ok_or_else(|| missing("string `artifact.name`"))?;
    // dustrun never records an absolute path; a trace that does was not
    // written by it, and must not make replay read arbitrary files.
    if std::path::Path::new(&name).has_root() {
        return Err(format!(
            "the artifact name `{name}` is an absolute path, which dustrun never records"
        ));
    }
    Ok(Recorded {
        name,
        digest: artifact
            .digest
            .ok_or_else(|| missing("string `artifact.digest`"))?,
        rules_digest: config
            .rules_digest
            .ok_or_else(|| missing("string `config.rules_digest`"))?,
        config: RunConfig {
            entry: config
                .entry
                .ok_or("the trace has no `config.entry` (a string or null)")?,
            mode,
            args,
            max_steps: Some(
                config
                    .max_steps
                    .ok_or_else(|| missing("unsigned integer `config.max_steps`"))?,
            ),
            solver_budget: Some(
                config
                    .solver_budget
                    .ok_or_else(|| missing("unsigned integer `config.solver_budget`"))?,
            ),
            deny_resources: config.deny_resources,
            provide_resources: config.provide_resources,
            explain: false,
            embed_dir: embedded.is_some(),
            overlap: Overlap::default(),
            names: crate::NameHashing::default(),
            // The replayed trace is compared with the recorded one, digests and all.
            digests: true,
        },
        embedded,
        outcome: h.outcome,
        error_code: h.error.and_then(|e| e.code),
    })
}

/// `trace_version`: the number, or `None` for a value of any other type
/// (read as [`Checked`] reads it, whatever its size).
struct Version(Option<u64>);

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Checked.deserialize(d).map(Version)
    }
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

fn unembed(e: EmbeddedH) -> Option<Vec<u8>> {
    match (e.utf8, e.hex) {
        (Some(s), None) => Some(s.into_bytes()),
        (None, Some(h)) => {
            if h.len() % 2 != 0 {
                return None;
            }
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
                .collect()
        }
        _ => None,
    }
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

/// The first difference between a recorded trace (its JSON text) and a new
/// one, in the recorded trace's field order (fields only the new trace has
/// come after), ignoring [`MODE_FIELDS`]. The recorded trace is compared as
/// it is read and never built as a tree; a value shown in the divergence is
/// cut at [`SHOWN_BYTES`]. `Err` when the text is not JSON (or too deep).
///
/// `apart`, when given, holds lists of the new trace that `now` leaves out
/// (see [`Apart`]).
pub fn first_divergence(
    recorded: Open<'_, '_>,
    now: &Json,
    apart: Option<Apart<'_>>,
) -> Result<Option<Divergence>, String> {
    let mut de = deserializer(recorded)?;
    let found = std::cell::RefCell::new(None);
    let path = std::cell::RefCell::new(String::new());
    let r = Compare {
        now: Some(now),
        path: &path,
        len: 0,
        back: 0,
        found: &found,
        apart,
        depth: 0,
        role: Role::Compared,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match (r, found.into_inner()) {
        (_, Some(d)) => Ok(Some(d)),
        (Ok(()), None) => Ok(None),
        (Err(e), None) => Err(not_a_trace(e)),
    }
}

/// The most of a value a divergence shows (the CLI clips it further).
pub const SHOWN_BYTES: usize = 4096;

/// Compares the value being read with `now` (`None`: the new trace has
/// none); the first difference goes into `found`, and reading stops there
/// (the error serde then returns is not the caller's).
struct Compare<'a, 'n, 'e> {
    now: Option<&'n Json>,
    /// The path of the value being read: one buffer for the whole
    /// comparison, this value's path its first `len` bytes, and `back`
    /// its parent's, to which it returns when this value is done (a path
    /// made for each value cost an allocation per key of the trace).
    path: &'a std::cell::RefCell<String>,
    len: usize,
    back: usize,
    found: &'a std::cell::RefCell<Option<Divergence>>,
    apart: Option<Apart<'e>>,
    /// Keys above this value (0 for the whole trace).
    depth: usize,
    role: Role,
}

/// Lists of the new trace given apart from its tree, which holds `[]` in
/// their place: lists that grow with a run (its events) or with its
/// configuration (its arguments) are compared one by one as each element
/// is made a tree, not all as one (2 M events were a tree of 1 GB; 1.5 M
/// arguments took a second).
#[derive(Clone, Copy, Default)]
pub struct Apart<'e> {
    pub events: &'e [crate::trace::EventJson],
    pub args: &'e [crate::trace::Arg],
}

/// Where the lists of [`Apart`] are, in its order.
const APART: [&str; 2] = ["effects.events", "config.args"];

impl<'e> Apart<'e> {
    /// The lists of `trace` given apart.
    pub fn of(trace: &'e crate::trace::Trace) -> Apart<'e> {
        Apart {
            events: &trace.effects.events,
            args: &trace.config.args,
        }
    }

    /// The tree of `trace` without the lists given apart (each `[]`).
    pub fn tree_without(trace: &mut crate::trace::Trace) -> serde_json::Result<Json> {
        let events = std::mem::take(&mut trace.effects.events);
        let args = std::mem::take(&mut trace.config.args);
        let tree = serde_json::to_value(&*trace);
        trace.effects.events = events;
        trace.config.args = args;
        tree
    }

    /// Element `i` of list `k` as a tree.
    fn element(&self, k: usize, i: usize) -> Option<Json> {
        let v = match k {
            0 => self.events.get(i).map(serde_json::to_value),
            _ => self.args.get(i).map(serde_json::to_value),
        };
        v.map(|v| v.unwrap_or(Json::Null))
    }

    /// Enough of list `k` to fill what a divergence shows (and cut with
    /// `…` past it).
    fn shown(&self, k: usize) -> Json {
        let v = match k {
            0 => serde_json::to_value(&self.events[..self.events.len().min(100)]),
            _ => serde_json::to_value(&self.args[..self.args.len().min(100)]),
        };
        v.unwrap_or(Json::Null)
    }
}

/// What a value is to the comparison, by where it is (its keys, not its
/// dotted path: a top-level key `"config.mode"` is not the mode).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Compared,
    /// One of [`MODE_FIELDS`]: read (and checked), not compared.
    Skipped,
    /// One of [`APART`], compared with its list given apart.
    Apart(usize),
}

impl<'a, 'n, 'e> Compare<'a, 'n, 'e> {
    /// What the value of `key` in this object is to the comparison.
    fn role_of(&self, key: &str) -> Role {
        if MODE_FIELDS.iter().any(|f| self.names(key, f)) {
            Role::Skipped
        } else if let Some(k) = APART
            .iter()
            .position(|p| self.apart.is_some() && self.names(key, p))
        {
            Role::Apart(k)
        } else {
            Role::Compared
        }
    }

    /// The value of `key` in this object.
    fn child<'m>(&self, key: &str, now: Option<&'m Json>) -> Compare<'a, 'm, 'e> {
        self.below(now, self.role_of(key), |path| {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
        })
    }

    /// Element `i` of this list.
    fn element<'m>(&self, i: usize, now: Option<&'m Json>) -> Compare<'a, 'm, 'e> {
        self.below(now, Role::Compared, |path| {
            // Written as `format!` would, without a `String` of its own.
            let _ = std::fmt::Write::write_fmt(path, format_args!("[{i}]"));
        })
    }

    /// A value inside this one, its path this one's with `step` written
    /// after it.
    fn below<'m>(
        &self,
        now: Option<&'m Json>,
        role: Role,
        step: impl FnOnce(&mut String),
    ) -> Compare<'a, 'm, 'e> {
        let mut path = self.path.borrow_mut();
        path.truncate(self.len);
        step(&mut path);
        Compare {
            now,
            path: self.path,
            len: path.len(),
            back: self.len,
            found: self.found,
            apart: self.apart,
            depth: self.depth + 1,
            role,
        }
    }

    /// Whether `key` of this object is the field at `path` (keys joined by
    /// dots): this value's own keys spell the rest of it, one per level,
    /// so a key with a dot in it never passes for two.
    fn names(&self, key: &str, path: &str) -> bool {
        match path.rsplit_once('.') {
            None => self.is("") && key == path,
            Some((parent, last)) => key == last && self.is(parent),
        }
    }

    /// Whether this value is the field at `path` (`""`: the whole trace).
    fn is(&self, path: &str) -> bool {
        let depth = if path.is_empty() {
            0
        } else {
            path.split('.').count()
        };
        self.depth == depth && self.path.borrow().get(..self.len) == Some(path)
    }

    /// This value's path.
    fn path(&self) -> String {
        let path = self.path.borrow();
        path.get(..self.len).unwrap_or(&path).to_string()
    }

    /// The new side of a divergence as shown: where lists stand apart
    /// (the tree holds `[]` for them), with them put back.
    fn shown_now(&self, now: Option<&Json>) -> String {
        let Some(apart) = self.apart else {
            return shown(now);
        };
        let mut patched = now.cloned();
        for (k, path) in APART.iter().enumerate() {
            // The list's place: its object (`effects`) and key (`events`).
            let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
            match patched.as_mut() {
                Some(v) if self.role == Role::Apart(k) => *v = apart.shown(k),
                Some(Json::Object(m)) if self.is(parent) => {
                    m.insert(key.into(), apart.shown(k));
                }
                Some(Json::Object(root)) if self.is("") => {
                    if let Some(Json::Object(m)) = root.get_mut(parent) {
                        m.insert(key.into(), apart.shown(k));
                    }
                }
                _ => {}
            }
        }
        shown(patched.as_ref())
    }

    fn join(&self, k: &str) -> String {
        if self.len == 0 {
            k.to_string()
        } else {
            format!("{}.{k}", self.path())
        }
    }

    /// Record a difference at this path and stop reading.
    fn differ<E: serde::de::Error>(&self, recorded: String, now: Option<&Json>) -> Result<(), E> {
        *self.found.borrow_mut() = Some(Divergence {
            path: self.path(),
            recorded,
            now: self.shown_now(now),
        });
        Err(E::custom("diverged"))
    }

    /// A leaf: equal when the values are and their JSON texts are too
    /// (`-0.0` and `0.0` are equal numbers but different traces).
    fn leaf<E: serde::de::Error>(self, v: Json) -> Result<(), E> {
        match self.now {
            Some(n) if *n == v && (!v.is_number() || same_text(n, &v)) => Ok(()),
            now => self.differ(v.to_string(), now),
        }
    }
}

fn same_text(a: &Json, b: &Json) -> bool {
    serde_json::to_string(a).ok() == serde_json::to_string(b).ok()
}

fn shown(v: Option<&Json>) -> String {
    match v {
        None => "(absent)".to_string(),
        Some(v) => {
            let mut s = v.to_string();
            cut(&mut s);
            s
        }
    }
}

/// Past [`SHOWN_BYTES`], the text is cut (at a character) and ends in `…`.
fn cut(s: &mut String) {
    if s.len() > SHOWN_BYTES {
        let mut end = SHOWN_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
}

impl<'de> DeserializeSeed<'de> for Compare<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.role == Role::Skipped {
            return Checked.deserialize(d).map(|_| ());
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Compare<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a trace")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.leaf(Json::Bool(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.leaf(Json::from(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.leaf(Json::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.leaf(Json::from(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.leaf(Json::String(v.to_string()))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.leaf(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let list = match (self.role, self.apart) {
            (Role::Apart(k), Some(a)) => Some((k, a)),
            _ => None,
        };
        let now: &[Json] = match (list, self.now) {
            (Some(_), _) => &[],
            (None, Some(Json::Array(now))) => now,
            (None, _) => {
                let rest = Shown::seq(&mut a)?;
                return self.differ(rest, self.now);
            }
        };
        // An element of the new list: borrowed, or one given apart made a
        // tree.
        let get = |i: usize| -> Option<std::borrow::Cow<'_, Json>> {
            match list {
                Some((k, a)) => a.element(k, i).map(std::borrow::Cow::Owned),
                None => now.get(i).map(std::borrow::Cow::Borrowed),
            }
        };
        let mut i = 0;
        loop {
            match get(i) {
                Some(w) => {
                    if a.next_element_seed(self.element(i, Some(&*w)))?.is_none() {
                        break;
                    }
                }
                None => {
                    return match a.next_element_seed(Shown::default())? {
                        Some(v) => self.element(i, None).differ(v, None),
                        None => Ok(()),
                    };
                }
            }
            i += 1;
        }
        match get(i) {
            Some(w) => self.element(i, None).differ("(absent)".into(), Some(&*w)),
            None => Ok(()),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let Some(Json::Object(now)) = self.now else {
            let rest = Shown::map(&mut a)?;
            return self.differ(rest, self.now);
        };
        // The new trace's keys met so far: each at most once (dustrun never
        // writes a key twice; a recorded trace that does is not one), and
        // looked up at once (a search made a struct of 80 000 fields take
        // 12.7 s to replay).
        let mut seen: crate::Set<&str> = crate::Set::default();
        // Skipped keys the new trace lacks (a realized run's `realization`).
        let mut skipped: Vec<String> = Vec::new();
        let twice = |k: &str| {
            Err(serde::de::Error::custom(format_args!(
                "the key `{}` is written twice",
                self.join(k)
            )))
        };
        while let Some(k) = a.next_key::<String>()? {
            let found = now.get_key_value(k.as_str());
            let child = self.child(&k, found.map(|(_, w)| w));
            match found {
                Some((key, _)) => {
                    if !seen.insert(key.as_str()) {
                        return twice(&k);
                    }
                    a.next_value_seed(child)?;
                }
                None if child.role == Role::Skipped => {
                    if skipped.contains(&k) {
                        return twice(&k);
                    }
                    a.next_value_seed(Checked)?;
                    skipped.push(k);
                }
                None => {
                    let v = a.next_value_seed(Shown::default())?;
                    return child.differ(v, None);
                }
            }
        }
        match now
            .iter()
            .find(|(k, _)| !seen.contains(&k.as_str()) && self.role_of(k) != Role::Skipped)
        {
            Some((k, w)) => self.child(k, None).differ("(absent)".into(), Some(w)),
            None => Ok(()),
        }
    }
}

impl Drop for Compare<'_, '_, '_> {
    fn drop(&mut self) {
        // Done with this value: the path is its parent's again.
        if let Ok(mut path) = self.path.try_borrow_mut() {
            path.truncate(self.back);
        }
    }
}

/// A value skipped as JSON is read: its strings checked as serde_json
/// checks them for a tree (UTF-8, escapes, surrogates), which `IgnoredAny`
/// does not (a trace with invalid bytes in a field not compared replayed
/// as identical). The value is the number when it is an unsigned integer
/// (what a trace's version is), `None` for anything else.
struct Checked;

impl<'de> DeserializeSeed<'de> for Checked {
    type Value = Option<u64>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<u64>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = Option<u64>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, v: u64) -> Result<Option<u64>, E> {
        Ok(Some(v))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Option<u64>, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Option<u64>, A::Error> {
        while a.next_element_seed(Checked)?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Option<u64>, A::Error> {
        while a.next_key::<KeyChecked>()?.is_some() {
            a.next_value_seed(Checked)?;
        }
        Ok(None)
    }
}

/// A key, checked as [`Checked`] checks strings.
struct KeyChecked;

impl<'de> Deserialize<'de> for KeyChecked {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Checked.deserialize(d).map(|_| KeyChecked)
    }
}

/// A value read as compact JSON text, cut at [`SHOWN_BYTES`]; the rest is
/// skipped as it is read (no text is made for what will not be shown).
#[derive(Default)]
struct Shown {
    out: String,
    /// Cut: nothing more is shown.
    full: bool,
}

/// An element of a value being shown: its text, or skipped (`None` inside)
/// once its container has no room left.
struct ShownOrSkipped(bool);

impl<'de> DeserializeSeed<'de> for ShownOrSkipped {
    type Value = Option<String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        if self.0 {
            Shown::default().deserialize(d).map(Some)
        } else {
            Checked.deserialize(d).map(|_| None)
        }
    }
}

impl Shown {
    fn room(&self) -> bool {
        !self.full
    }

    fn push(&mut self, s: &str) {
        if self.room() {
            self.out.push_str(s);
            self.full = self.out.len() > SHOWN_BYTES;
            cut(&mut self.out);
        }
    }

    fn seq<'de, A: SeqAccess<'de>>(a: &mut A) -> Result<String, A::Error> {
        let mut s = Shown::default();
        s.push("[");
        let mut first = true;
        while let Some(v) = a.next_element_seed(ShownOrSkipped(s.room()))? {
            if !first {
                s.push(",");
            }
            first = false;
            s.push(v.as_deref().unwrap_or_default());
        }
        s.push("]");
        Ok(s.out)
    }

    fn map<'de, A: MapAccess<'de>>(a: &mut A) -> Result<String, A::Error> {
        let mut s = Shown::default();
        s.push("{");
        let mut first = true;
        while let Some(k) = a.next_key::<String>()? {
            let Some(v) = a.next_value_seed(ShownOrSkipped(s.room()))? else {
                continue;
            };
            if !first {
                s.push(",");
            }
            first = false;
            s.push(&Json::String(k).to_string());
            s.push(":");
            s.push(&v);
        }
        s.push("}");
        Ok(s.out)
    }
}

impl<'de> DeserializeSeed<'de> for Shown {
    type Value = String;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shown {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(Json::from(v).to_string())
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(shown(Some(&Json::String(v.to_string()))))
    }
    fn visit_unit<E>(self) -> Result<String, E> {
        Ok("null".into())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<String, A::Error> {
        Shown::seq(&mut a)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<String, A::Error> {
        Shown::map(&mut a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diverged(recorded: &Json, now: &Json) -> Option<Divergence> {
        let text = recorded.to_string();
        let open = in_memory(text.as_bytes());
        first_divergence(&open, now, None).unwrap()
    }

    #[test]
    fn identical_traces_do_not_diverge() {
        let t = json!({"a": 1, "b": [1, {"c": "x"}]});
        assert_eq!(diverged(&t, &t.clone()), None);
    }

    #[test]
    fn the_first_difference_in_recorded_order_is_named() {
        let a = json!({"outcome": "executed", "effects": {"events": [{"payload": "7"}, {"payload": "8"}]}});
        let b = json!({"outcome": "executed", "effects": {"events": [{"payload": "7"}, {"payload": "9"}]}});
        let d = diverged(&a, &b).unwrap();
        assert_eq!(d.path, "effects.events[1].payload");
        assert_eq!((d.recorded.as_str(), d.now.as_str()), ("\"8\"", "\"9\""));
    }

    #[test]
    fn missing_and_extra_elements_are_divergences() {
        let a = json!({"e": [1, 2]});
        let b = json!({"e": [1, 2, 3]});
        let d = diverged(&a, &b).unwrap();
        assert_eq!(
            (d.path.as_str(), d.recorded.as_str(), d.now.as_str()),
            ("e[2]", "(absent)", "3")
        );
        let d = diverged(&b, &a).unwrap();
        assert_eq!(
            (d.path.as_str(), d.recorded.as_str(), d.now.as_str()),
            ("e[2]", "3", "(absent)")
        );
        let d = diverged(&json!({"x": 1}), &json!({"x": 1, "y": 2})).unwrap();
        assert_eq!(d.path, "y");
    }

    /// A recorded value the new trace lacks is shown cut, and read without
    /// being built (64 MB of nested arrays in an extra field made a 9.6 GB
    /// tree); a value of another type is shown as recorded.
    #[test]
    fn divergent_values_are_shown_cut_and_read_as_they_come() {
        let unit = format!("{}{}", "[".repeat(60), "]".repeat(60));
        let extra = format!("[{}]", vec![unit.as_str(); 20_000].join(","));
        let text = format!("{{\"a\": 1, \"extra\": {extra}}}");
        let open = in_memory(text.as_bytes());
        let d = first_divergence(&open, &json!({"a": 1}), None)
            .unwrap()
            .unwrap();
        assert_eq!(d.path, "extra");
        assert_eq!(d.now, "(absent)");
        assert!(d.recorded.starts_with("[[[[") && d.recorded.ends_with('…'));
        assert!(d.recorded.len() <= SHOWN_BYTES + 4, "{}", d.recorded.len());
        let d = diverged(&json!({"a": [1, {"b": [true, null]}]}), &json!({"a": "x"})).unwrap();
        assert_eq!(
            (d.path.as_str(), d.recorded.as_str(), d.now.as_str()),
            ("a", r#"[1,{"b":[true,null]}]"#, r#""x""#)
        );
        let d = diverged(&json!({"a": {"b": 1}}), &json!({"a": {"b": 1, "c": [2]}})).unwrap();
        assert_eq!((d.path.as_str(), d.now.as_str()), ("a.c", "[2]"));
        // Not JSON: an error, not a divergence.
        let open = in_memory(b"{\"a\": ");
        assert!(first_divergence(&open, &json!({"a": 1}), None).is_err());
    }

    /// A key written twice, and a field not compared holding what is not
    /// JSON text (invalid UTF-8, a lone surrogate), make the recorded trace
    /// no trace, never an identical one.
    #[test]
    fn what_is_not_compared_is_still_read_as_json() {
        let now = json!({"a": 1, "realization": {"realized": 1}});
        let check = |text: &[u8]| {
            let open = in_memory(text);
            first_divergence(&open, &now, None)
        };
        assert_eq!(
            check(br#"{"a": 1, "realization": {"realized": 1}}"#),
            Ok(None)
        );
        let twice = check(br#"{"a": 1, "a": 1}"#).unwrap_err();
        assert!(twice.contains("`a` is written twice"), "{twice}");
        assert!(check(b"{\"a\": 1, \"realization\": \"\xff\xfe\"}").is_err());
        assert!(check(br#"{"a": 1, "realization": "\udc00"}"#).is_err());
        assert!(check(br#"{"a": 1, "realization": {"x": ["\udc00"]}}"#).is_err());
    }

    /// The new trace's events, given apart from its tree, are compared as
    /// the tree's own list would be: a changed, missing or extra event is
    /// named by its index.
    #[test]
    fn events_given_apart_compare_as_a_list() {
        let ev = |payload: &str, tick: u64| crate::trace::EventJson {
            kind: "emit".into(),
            payload: payload.into(),
            tick,
            proc: "F::K::main".into(),
        };
        let events = [ev("1", 1), ev("2", 2)];
        let now = json!({"outcome": "executed", "effects": {"events": []}, "time": 2});
        let recorded = |events: &str| {
            format!(r#"{{"outcome": "executed", "effects": {{"events": [{events}]}}, "time": 2}}"#)
        };
        let e = |p: &str, t: u64| {
            format!(r#"{{"kind": "emit", "payload": "{p}", "tick": {t}, "proc": "F::K::main"}}"#)
        };
        let check = |text: String| {
            let open = in_memory(text.as_bytes());
            let apart = Apart {
                events: &events,
                args: &[],
            };
            first_divergence(&open, &now, Some(apart)).unwrap()
        };
        assert_eq!(
            check(recorded(&format!("{},{}", e("1", 1), e("2", 2)))),
            None
        );
        let d = check(recorded(&format!("{},{}", e("1", 1), e("3", 2)))).unwrap();
        assert_eq!(d.path, "effects.events[1].payload");
        let d = check(recorded(&e("1", 1))).unwrap();
        assert_eq!(
            (d.path.as_str(), d.recorded.as_str()),
            ("effects.events[1]", "(absent)")
        );
        assert!(d.now.contains(r#""payload":"2""#), "{}", d.now);
        let three = format!("{},{},{}", e("1", 1), e("2", 2), e("9", 3));
        let d = check(recorded(&three)).unwrap();
        assert_eq!(
            (d.path.as_str(), d.now.as_str()),
            ("effects.events[2]", "(absent)")
        );
        let d = check(r#"{"outcome": "executed", "effects": {}, "time": 2}"#.into()).unwrap();
        assert_eq!(d.path, "effects.events");
        assert!(d.now.contains(r#""tick":2"#), "{}", d.now);
        // Where a divergence shows the new side whole, its events are in it
        // (not the empty list standing for them).
        for (text, path) in [
            (
                r#"{"outcome": "executed", "effects": null, "time": 2}"#,
                "effects",
            ),
            (
                r#"{"outcome": "executed", "effects": {"events": null}, "time": 2}"#,
                "effects.events",
            ),
            (r#"[]"#, ""),
        ] {
            let d = check(text.into()).unwrap();
            assert_eq!(d.path, path);
            assert!(d.now.contains(r#""payload":"2""#), "{path}: {}", d.now);
        }
    }

    /// The new trace's arguments, given apart too, compare as its list.
    #[test]
    fn arguments_given_apart_compare_as_a_list() {
        let arg = |name: &str, value: &str| crate::trace::Arg {
            name: name.into(),
            value: value.into(),
        };
        let args = [arg("x", "1"), arg("y", "2")];
        let now = json!({"config": {"mode": "simulate", "args": [], "max_steps": 9}, "outcome": "executed"});
        let check = |args_text: &str| {
            let text = format!(
                r#"{{"config": {{"mode": "simulate", "args": {args_text}, "max_steps": 9}}, "outcome": "executed"}}"#
            );
            let open = in_memory(text.as_bytes());
            let apart = Apart {
                events: &[],
                args: &args,
            };
            first_divergence(&open, &now, Some(apart)).unwrap()
        };
        let x = r#"{"name": "x", "value": "1"}"#;
        assert_eq!(
            check(&format!(r#"[{x}, {{"name": "y", "value": "2"}}]"#)),
            None
        );
        let d = check(&format!(r#"[{x}, {{"name": "y", "value": "3"}}]"#)).unwrap();
        assert_eq!(
            (d.path.as_str(), d.now.as_str()),
            ("config.args[1].value", "\"2\"")
        );
        let d = check(&format!("[{x}]")).unwrap();
        assert_eq!(d.path, "config.args[1]");
        assert!(d.now.contains(r#""name":"y""#), "{}", d.now);
        let d = check("null").unwrap();
        assert_eq!(d.path, "config.args");
        assert!(d.now.contains(r#""value":"2""#), "{}", d.now);
    }

    /// The fields not compared are found by where they are, not by their
    /// dotted path: a top-level key `"config.mode"` is compared (it made a
    /// changed trace identical), and a skipped key written twice is refused.
    #[test]
    fn skipped_fields_are_found_by_position() {
        let now = json!({"config": {"mode": "simulate", "entry": "main"}, "outcome": "executed"});
        let check = |text: &str| {
            let open = in_memory(text.as_bytes());
            first_divergence(&open, &now, None)
        };
        let same = r#"{"config": {"mode": "realize", "entry": "main"}, "outcome": "executed", "realization": {"realized": 1}}"#;
        assert_eq!(check(same), Ok(None));
        let dotted = r#"{"config": {"mode": "simulate", "entry": "main"}, "config.mode": 123, "outcome": "executed"}"#;
        assert_eq!(check(dotted).unwrap().unwrap().path, "config.mode");
        let nested = r#"{"config": {"mode": "simulate", "entry": "main", "x": {"realization": 1}}, "outcome": "executed"}"#;
        assert_eq!(check(nested).unwrap().unwrap().path, "config.x");
        let twice = r#"{"config": {"mode": "simulate", "entry": "main"}, "outcome": "executed", "realization": 1, "realization": 2}"#;
        assert!(check(twice)
            .unwrap_err()
            .contains("`realization` is written twice"));
    }

    /// A run records each argument once (`--arg` refuses a second).
    #[test]
    fn a_trace_giving_an_argument_twice_is_refused() {
        let trace = |args: &str| {
            format!(
                r#"{{"trace_version": {TRACE_VERSION}, "artifact": {{"name": "a.dir", "digest": "d"}},
                "config": {{"entry": null, "mode": "simulate", "args": {args}, "max_steps": 1,
                "solver_budget": 1, "rules_digest": "r"}}, "outcome": "executed"}}"#
            )
        };
        let ok = trace(r#"[{"name": "x", "value": "1"}, {"name": "y", "value": "1"}]"#);
        let rec = parse(&in_memory(ok.as_bytes())).unwrap();
        assert_eq!(rec.config.args.len(), 2);
        assert_eq!(rec.outcome.as_deref(), Some("executed"));
        let twice = trace(r#"[{"name": "x", "value": "1"}, {"name": "x", "value": "2"}]"#);
        let e = parse(&in_memory(twice.as_bytes())).err().unwrap();
        assert!(e.contains("`x` more than once"), "{e}");
    }

    #[test]
    fn fields_that_name_the_mode_are_not_compared() {
        let a =
            json!({"config": {"mode": "realize", "entry": "main"}, "realization": {"realized": 2}});
        let b = json!({"config": {"mode": "simulate", "entry": "main"}});
        assert_eq!(diverged(&a, &b), None);
        let c = json!({"config": {"mode": "simulate", "entry": "other"}});
        assert_eq!(diverged(&a, &c).unwrap().path, "config.entry");
    }

    #[test]
    fn negative_zero_is_not_zero() {
        let a: Json = serde_json::from_str(r#"{"returned": {"Float": -0.0}}"#).unwrap();
        let b: Json = serde_json::from_str(r#"{"returned": {"Float": 0.0}}"#).unwrap();
        assert_eq!(diverged(&a, &b).unwrap().path, "returned.Float");
    }

    #[test]
    fn deep_traces_parse_and_deeper_input_is_refused() {
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(nesting(deep(300).as_bytes()), 300);
        assert_eq!(nesting(br#"{"a": "[[[{{"}"#), 1);
        let e = parse(&in_memory(deep(300).as_bytes())).err().unwrap();
        assert!(
            e.contains("trace_version"),
            "past serde's default limit: {e}"
        );
        let e = parse(&in_memory(deep(MAX_TRACE_NESTING + 1).as_bytes()))
            .err()
            .unwrap();
        assert!(e.contains("levels deep"), "{e}");
    }

    #[test]
    fn embedded_artifacts_round_trip() {
        let un = |v: Json| unembed(serde_json::from_value(v).unwrap());
        assert_eq!(un(json!({"hex": "ff00"})), Some(vec![0xff, 0]));
        assert_eq!(un(json!({"hex": "f"})), None);
        assert_eq!(un(json!({"hex": "zz"})), None);
        assert_eq!(un(json!({"hex": "00", "utf8": ""})), None);
        assert_eq!(un(json!({"utf8": "é"})), Some("é".as_bytes().to_vec()));
    }

    #[test]
    fn malformed_traces_are_refused_with_a_reason() {
        assert!(parse(&in_memory(b"{"))
            .err()
            .unwrap()
            .contains("invalid JSON"));
        assert!(parse(&in_memory(b"{}"))
            .err()
            .unwrap()
            .contains("trace_version"));
        assert!(parse(&in_memory(b"{\"trace_version\": 1}"))
            .err()
            .unwrap()
            .contains("version 1"));
        let text = format!("{{\"trace_version\": {TRACE_VERSION}}}");
        let e = parse(&in_memory(text.as_bytes())).err().unwrap();
        assert!(e.contains("config.mode"), "{e}");
    }
}
