//! JSON DIR (brief 2.1) into the model. Every shape error names the JSON path
//! (`forges[0].procs[1].body[2]`) and points at the offending value.

use crate::error::{LoadError, LoadErrorKind};
use crate::expr::parse_expr;
use crate::json::{parse_json_blanked, JStr, Json, JsonKind};
use crate::model::*;
use crate::span::Span;

pub fn load_json(src: &str) -> Result<Program, LoadError> {
    if let Some(p) = crate::fast_load::load(src) {
        return Ok(p);
    }
    if src.len() >= BLANK_FROM_BYTES {
        load_json_blanked(src)?;
    }
    load_json_tree(src)
}

/// Inputs from this size on have the items the fast reader read in full
/// blanked before the reference loader words their error.
const BLANK_FROM_BYTES: usize = 64 * 1024;

/// The reference loader's error for `src`, found with the items the fast
/// reader reads in full (`fast_load::accepted`) blanked to `{}` and left
/// out: offsets and lines stay, and the spanned tree and the model are
/// built only of the rest (58 MB of processes with an error at the end
/// took 7 s and 2.7 GB whole). `Ok` says nothing: the rest has no error
/// (the fast reader gave up on something the reference accepts), and the
/// whole input decides.
pub(crate) fn load_json_blanked(src: &str) -> Result<(), LoadError> {
    let mut items = crate::fast_load::accepted(src);
    // The grammar can place a syntax error inside the value before it (its
    // furthest failed attempt, as it backtracks): the last item stays.
    items.pop();
    if items.is_empty() {
        return Ok(());
    }
    // The limits of the pre-scan are the input's, as it is.
    crate::json::scan_json(src)?;
    let mut bytes = src.as_bytes().to_vec();
    let mut starts = Vec::with_capacity(items.len());
    for &(a, b) in &items {
        // Each item is an object: its brackets stay, so that it is a value
        // where it was, and the rest (whole characters) turns to spaces.
        for c in &mut bytes[a + 1..b - 1] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        starts.push(a);
    }
    let Ok(blanked) = String::from_utf8(bytes) else {
        return Ok(());
    };
    load_json_skipping(&blanked, &items, &Skip(starts)).map(|_| ())
}

/// Items left out of the model: the starts of the objects blanked.
struct Skip(Vec<usize>);

impl Skip {
    fn has(&self, v: &Json) -> bool {
        self.0.binary_search(&v.span.start()).is_ok()
    }
}

/// The reference loader: the spanned JSON tree, then the model. It decides
/// every input the fast reader gives up on, so it alone words the errors.
pub(crate) fn load_json_tree(src: &str) -> Result<Program, LoadError> {
    load_json_skipping(src, &[], &Skip(Vec::new()))
}

/// The reference loader, leaving out the items `skip` names, `blanked`
/// their spans.
fn load_json_skipping(
    src: &str,
    blanked: &[(usize, usize)],
    skip: &Skip,
) -> Result<Program, LoadError> {
    let root = parse_json_blanked(src, blanked)?;
    let mut obj = Obj::new(&root, "$")?;
    let forges = obj.req("forges")?;
    let mut out = Vec::new();
    let mut ex = Exprs::default();
    for (i, f) in arr(forges, "$.forges")?.iter().enumerate() {
        if !skip.has(f) {
            out.push(forge(f, &format!("forges[{i}]"), skip, &mut ex)?);
        }
    }
    ex.trim();
    let types = match obj.opt("types") {
        Some(t) => Some(t.verbatim("`types`")?),
        None => None,
    };
    // Our extension: the version a textual DIR header declared, so a program
    // survives text -> JSON -> text. The compiler's JSON never carries it.
    let version = match obj.opt("dir_version") {
        Some(v) => {
            let id = ident(v, "$.dir_version")?;
            // Printed as the text header `dir <version>;`: anything but a
            // version would be text of its own.
            if !is_version(&id.name) {
                return Err(shape(v, "$.dir_version", "a version such as \"0.1\""));
            }
            Some(id)
        }
        None => None,
    };
    obj.finish()?;
    Ok(Program {
        version,
        forges: out,
        types,
        form: SourceForm::Json,
        comments: Vec::new(),
        exprs: vec![ex],
        checked: Checked::default(),
    })
}

struct Obj<'a> {
    members: &'a [(JStr, Json)],
    used: Vec<bool>,
    path: String,
    span: Span,
}

impl<'a> Obj<'a> {
    fn new(v: &'a Json, path: &str) -> Result<Obj<'a>, LoadError> {
        match &v.kind {
            JsonKind::Object(m) => Ok(Obj {
                members: m,
                used: vec![false; m.len()],
                path: path.to_string(),
                span: v.span,
            }),
            _ => Err(shape(v, path, "an object")),
        }
    }

    fn opt(&mut self, key: &str) -> Option<&'a Json> {
        let i = self.members.iter().position(|(k, _)| k.value == key)?;
        self.used[i] = true;
        Some(&self.members[i].1)
    }

    fn req(&mut self, key: &str) -> Result<&'a Json, LoadError> {
        self.opt(key).ok_or_else(|| {
            LoadError::new(
                LoadErrorKind::MissingField,
                format!("missing field `{key}` in {}", self.path),
                self.span,
            )
        })
    }

    /// Unknown fields are errors: a reference executor does not guess at
    /// what a newer compiler meant by them.
    fn finish(self) -> Result<(), LoadError> {
        for (i, (k, _)) in self.members.iter().enumerate() {
            if !self.used[i] {
                return Err(LoadError::new(
                    LoadErrorKind::UnknownField,
                    format!("unknown field `{}` in {}", k.value, self.path),
                    k.span,
                ));
            }
        }
        Ok(())
    }
}

fn shape(v: &Json, path: &str, expected: &str) -> LoadError {
    LoadError::new(
        LoadErrorKind::JsonShape,
        format!("{path} must be {expected}, found {}", v.type_name()),
        v.span,
    )
}

fn arr<'a>(v: &'a Json, path: &str) -> Result<&'a [Json], LoadError> {
    match &v.kind {
        JsonKind::Array(a) => Ok(a),
        _ => Err(shape(v, path, "an array")),
    }
}

fn string<'a>(v: &'a Json, path: &str) -> Result<&'a JStr, LoadError> {
    match &v.kind {
        JsonKind::Str(s) => Ok(s),
        _ => Err(shape(v, path, "a string")),
    }
}

fn ident(v: &Json, path: &str) -> Result<Ident, LoadError> {
    let s = string(v, path)?;
    Ok(Ident::new(s.value.clone(), s.span))
}

/// A string that must be an identifier (letter or `_`, then letters,
/// digits, `_`, and the `extra` characters): anything else could not be
/// printed back as textual DIR, or would print as different text.
fn word(v: &Json, path: &str, extra: &[char], what: &str, note: &str) -> Result<Ident, LoadError> {
    let id = ident(v, path)?;
    let ok = id
        .name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && id
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(&c));
    if !ok {
        return Err(LoadError::new(
            LoadErrorKind::JsonShape,
            format!("{path} must be {what}, found {:?}", id.name),
            v.span,
        )
        .note(note.to_string()));
    }
    Ok(id)
}

/// A type as the compiler spells it: an identifier, or a later version's
/// regime-wrapped form such as `K[Int]` (rejected by validation, not here).
fn type_name(v: &Json, path: &str) -> Result<Ident, LoadError> {
    let id = ident(v, path)?;
    if !is_type_name(&id.name) {
        return Err(LoadError::new(
            LoadErrorKind::JsonShape,
            format!("{path} must be a type name, found {:?}", id.name),
            v.span,
        )
        .note("type names are identifiers (`i32`, `Candidate`), or a later version's `K[Int]`"));
    }
    Ok(id)
}

/// A name the program declares or refers to.
fn id_name(v: &Json, path: &str) -> Result<Ident, LoadError> {
    word(
        v,
        path,
        &[],
        "an identifier",
        "identifiers start with a letter or `_`, followed by letters, digits or `_`",
    )
}

fn expr_at(v: &Json, path: &str, ex: &mut Exprs) -> Result<ExprId, LoadError> {
    let s = string(v, path)?;
    parse_expr(&s.value, &|i| s.file_offset(i), ex)
        .map_err(|e| e.note(format!("in the expression at {path}")))
}

fn forge(v: &Json, path: &str, skip: &Skip, ex: &mut Exprs) -> Result<Forge, LoadError> {
    let mut o = Obj::new(v, path)?;
    let name = id_name(o.req("name")?, &format!("{path}.name"))?;
    let mut shapes = Vec::new();
    if let Some(s) = o.opt("shapes") {
        for (i, sh) in arr(s, &format!("{path}.shapes"))?.iter().enumerate() {
            if skip.has(sh) {
                continue;
            }
            let p = format!("{path}.shapes[{i}]");
            let mut so = Obj::new(sh, &p)?;
            let name = id_name(so.req("name")?, &format!("{p}.name"))?;
            let fields = fields(so.req("fields")?, &format!("{p}.fields"))?;
            so.finish()?;
            shapes.push(Shape {
                name,
                fields,
                span: sh.span,
            });
        }
    }
    let mut procs = Vec::new();
    if let Some(ps) = o.opt("procs") {
        for (i, pv) in arr(ps, &format!("{path}.procs"))?.iter().enumerate() {
            if !skip.has(pv) {
                procs.push(proc(pv, &format!("{path}.procs[{i}]"), skip, ex)?);
            }
        }
    }
    let mut binds = Vec::new();
    if let Some(bs) = o.opt("binds") {
        for (i, bv) in arr(bs, &format!("{path}.binds"))?.iter().enumerate() {
            if skip.has(bv) {
                continue;
            }
            binds.push(bind(bv, &format!("{path}.binds[{i}]"))?);
        }
    }
    o.finish()?;
    Ok(Forge {
        name,
        shapes,
        procs,
        binds,
        span: v.span,
    })
}

fn fields(v: &Json, path: &str) -> Result<Vec<Field>, LoadError> {
    let mut out = Vec::new();
    for (i, f) in arr(v, path)?.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let mut fo = Obj::new(f, &p)?;
        let name = id_name(fo.req("name")?, &format!("{p}.name"))?;
        let ty = type_name(fo.req("ty")?, &format!("{p}.ty"))?;
        fo.finish()?;
        out.push(Field { name, ty });
    }
    Ok(out)
}

fn proc(v: &Json, path: &str, skip: &Skip, ex: &mut Exprs) -> Result<Proc, LoadError> {
    let mut o = Obj::new(v, path)?;
    let rv = o.req("regime")?;
    let rs = string(rv, &format!("{path}.regime"))?;
    let regime = Regime::parse(&rs.value).ok_or_else(|| {
        LoadError::new(
            LoadErrorKind::UnknownRegime,
            format!("unknown regime `{}`", rs.value),
            rs.span,
        )
        .note("DPL v0.1 has exactly three regimes: K, Q and Φ (§4.2)")
    })?;
    let name = id_name(o.req("name")?, &format!("{path}.name"))?;
    let params = match o.opt("params") {
        Some(p) => fields(p, &format!("{path}.params"))?,
        None => Vec::new(),
    };
    let mut uses = Vec::new();
    if let Some(u) = o.opt("uses") {
        for (i, uv) in arr(u, &format!("{path}.uses"))?.iter().enumerate() {
            uses.push(use_clause(uv, &format!("{path}.uses[{i}]"))?);
        }
    }
    let ret = match o.opt("ret") {
        None => None,
        Some(Json {
            kind: JsonKind::Null,
            ..
        }) => None,
        Some(r) => Some(type_name(r, &format!("{path}.ret"))?),
    };
    let mut qualifiers = Vec::new();
    if let Some(q) = o.opt("qualifiers") {
        for (i, qv) in arr(q, &format!("{path}.qualifiers"))?.iter().enumerate() {
            qualifiers.push(id_name(qv, &format!("{path}.qualifiers[{i}]"))?);
        }
    }
    let body = stmts(o.req("body")?, &format!("{path}.body"), skip, ex)?;
    let locals = match o.opt("locals") {
        Some(l) => Some(l.verbatim("`locals`")?),
        None => None,
    };
    o.finish()?;
    Ok(Proc {
        regime,
        regime_span: rs.span,
        name,
        params,
        uses,
        ret,
        qualifiers,
        body,
        locals,
        span: v.span,
    })
}

fn use_clause(v: &Json, path: &str) -> Result<Uses, LoadError> {
    let mut o = Obj::new(v, path)?;
    let resource = id_name(o.req("resource")?, &format!("{path}.resource"))?;
    let mut args = Vec::new();
    if let Some(a) = o.opt("args") {
        for (i, av) in arr(a, &format!("{path}.args"))?.iter().enumerate() {
            let p = format!("{path}.args[{i}]");
            let pair = arr(av, &p)?;
            let [k, lit] = pair else {
                return Err(shape(av, &p, "a two-element array [name, literal]"));
            };
            args.push((
                id_name(k, &format!("{p}[0]"))?,
                literal(lit, &format!("{p}[1]"))?,
            ));
        }
    }
    o.finish()?;
    Ok(Uses {
        resource,
        args,
        span: v.span,
    })
}

fn literal(v: &Json, path: &str) -> Result<Literal, LoadError> {
    let JsonKind::Object(m) = &v.kind else {
        return Err(shape(v, path, "a tagged literal such as {\"Int\": 1}"));
    };
    let [(tag, val)] = m.as_slice() else {
        return Err(shape(v, path, "a tagged literal with exactly one tag"));
    };
    let p = format!("{path}.{}", tag.value);
    let value = match (tag.value.as_str(), &val.kind) {
        ("Int", JsonKind::Number(n)) => LitValue::Int(n.parse().map_err(|_| {
            LoadError::new(
                LoadErrorKind::IntegerRange,
                format!("{p} must be an integer within i64, found `{n}`"),
                val.span,
            )
        })?),
        ("Bool", JsonKind::Bool(b)) => LitValue::Bool(*b),
        ("String", JsonKind::Str(s)) => LitValue::String(s.value.clone()),
        ("Float", JsonKind::Number(n)) => {
            let f: f64 = n.parse().map_err(|_| {
                LoadError::new(
                    LoadErrorKind::JsonShape,
                    format!("{p} must be a number"),
                    val.span,
                )
            })?;
            if !f.is_finite() {
                return Err(LoadError::new(
                    LoadErrorKind::IntegerRange,
                    format!("{p} is `{n}`, which is not a finite f64"),
                    val.span,
                ));
            }
            LitValue::Float(f)
        }
        ("Char", JsonKind::Str(s)) if s.value.chars().count() == 1 => {
            LitValue::Char(s.value.chars().next().unwrap_or('\0'))
        }
        ("Int" | "Bool" | "String" | "Float" | "Char", _) => {
            return Err(shape(val, &p, &format!("a {} literal", tag.value)))
        }
        (other, _) => {
            return Err(LoadError::new(
                LoadErrorKind::JsonShape,
                format!("unknown literal tag `{other}` at {path}"),
                tag.span,
            )
            .note("literal tags are Int, Bool, String, Float and Char"))
        }
    };
    Ok(Literal {
        value,
        span: v.span,
    })
}

fn stmts(v: &Json, path: &str, skip: &Skip, ex: &mut Exprs) -> Result<Vec<Stmt>, LoadError> {
    let mut out = Vec::new();
    for (i, s) in arr(v, path)?.iter().enumerate() {
        if skip.has(s) {
            continue;
        }
        out.push(stmt(s, &format!("{path}[{i}]"), ex)?);
    }
    Ok(out)
}

fn stmt(v: &Json, path: &str, ex: &mut Exprs) -> Result<Stmt, LoadError> {
    // The reference loader reads into the program's one arena.
    let mut expr_at = |v: &Json, path: &str| expr_at(v, path, ex).map(|id| ExprRoot::new(0, id));
    let JsonKind::Object(m) = &v.kind else {
        return Err(shape(
            v,
            path,
            "a statement object such as {\"Let\": {...}}",
        ));
    };
    let [(tag, body)] = m.as_slice() else {
        return Err(shape(v, path, "an object with exactly one statement tag"));
    };
    let p = format!("{path}.{}", tag.value);
    let kind = match tag.value.as_str() {
        "Let" => {
            let mut o = Obj::new(body, &p)?;
            let name = id_name(o.req("name")?, &format!("{p}.name"))?;
            let expr = expr_at(o.req("expr")?, &format!("{p}.expr"))?;
            o.finish()?;
            StmtKind::Let { name, expr }
        }
        "Constrain" => {
            let mut o = Obj::new(body, &p)?;
            let predicate = expr_at(o.req("predicate")?, &format!("{p}.predicate"))?;
            o.finish()?;
            StmtKind::Constrain { predicate }
        }
        "Prove" => {
            let mut o = Obj::new(body, &p)?;
            let name = id_name(o.req("name")?, &format!("{p}.name"))?;
            let from = expr_at(o.req("from")?, &format!("{p}.from"))?;
            o.finish()?;
            StmtKind::Prove { name, from }
        }
        "Effect" => {
            let mut o = Obj::new(body, &p)?;
            let kv = o.req("kind")?;
            let kind = id_name(kv, &format!("{p}.kind"))?;
            if TEXT_STATEMENT_KEYWORDS.contains(&kind.name.as_str()) {
                return Err(LoadError::new(
                    LoadErrorKind::JsonShape,
                    format!("{p}.kind is `{}`, a statement keyword of textual DIR", kind.name),
                    kv.span,
                )
                .note("an effect kind cannot be `let`, `constrain`, `prove`, `return` or `call`: its textual form would read as that statement"));
            }
            let payload = expr_at(o.req("payload")?, &format!("{p}.payload"))?;
            o.finish()?;
            StmtKind::Effect { kind, payload }
        }
        "Return" => {
            let mut o = Obj::new(body, &p)?;
            let expr = match o.opt("expr") {
                None
                | Some(Json {
                    kind: JsonKind::Null,
                    ..
                }) => None,
                Some(e) => Some(expr_at(e, &format!("{p}.expr"))?),
            };
            o.finish()?;
            StmtKind::Return { expr }
        }
        "Call" => {
            let mut o = Obj::new(body, &p)?;
            let tv = o.req("target")?;
            let target = string(tv, &format!("{p}.target"))?;
            let callee = parse_path(&target.value, target.span)?;
            let mut args = Vec::new();
            for (i, a) in arr(o.req("args")?, &format!("{p}.args"))?
                .iter()
                .enumerate()
            {
                let s = string(a, &format!("{p}.args[{i}]"))?;
                args.push(
                    parse_expr(&s.value, &|i| s.file_offset(i), ex)
                        .map_err(|e| e.note(format!("in the expression at {p}.args[{i}]")))?,
                );
            }
            let result = match o.opt("result") {
                None
                | Some(Json {
                    kind: JsonKind::Null,
                    ..
                }) => None,
                Some(r) => Some(id_name(r, &format!("{p}.result"))?),
            };
            o.finish()?;
            let call = ex.call(callee.text(), callee.span, args, v.span);
            StmtKind::Call {
                call: ExprRoot::new(0, call),
                result,
            }
        }
        // Any other statement-like tag is a statement of a later DIR (like
        // `@Name {...}` in the textual form): the engine decides, from the
        // profile table, whether it is a known later statement or unknown.
        t if is_statement_tag(t) => StmtKind::Later {
            kind: Ident::new(t, tag.span),
            body: Box::new(body.verbatim("a later statement's body")?),
        },
        other => {
            return Err(LoadError::new(
                LoadErrorKind::UnknownStatement,
                format!("unknown statement `{other}` at {path}"),
                tag.span,
            )
            .note("DIR v0.1 statements are Let, Constrain, Prove, Effect, Return and Call"))
        }
    };
    Ok(Stmt { kind, span: v.span })
}

fn bind(v: &Json, path: &str) -> Result<Bind, LoadError> {
    let mut o = Obj::new(v, path)?;
    let source = path_ref(o.req("source")?, &format!("{path}.source"))?;
    let target = path_ref(o.req("target")?, &format!("{path}.target"))?;
    let mut contract = Vec::new();
    if let Some(c) = o.opt("contract") {
        for (i, cv) in arr(c, &format!("{path}.contract"))?.iter().enumerate() {
            let p = format!("{path}.contract[{i}]");
            let mut co = Obj::new(cv, &p)?;
            let key = id_name(co.req("key")?, &format!("{p}.key"))?;
            let op = ident(co.req("op")?, &format!("{p}.op"))?;
            let value = ident(co.req("value")?, &format!("{p}.value"))?;
            co.finish()?;
            contract.push(Clause {
                key,
                op,
                value,
                span: cv.span,
            });
        }
    }
    o.finish()?;
    Ok(Bind {
        source,
        target,
        contract,
        span: v.span,
    })
}

fn path_ref(v: &Json, path: &str) -> Result<PathRef, LoadError> {
    let s = string(v, path)?;
    parse_path(&s.value, s.span)
}

/// `Regime::name` or `Forge::Regime::name` (also a bare `name`).
pub(crate) fn parse_path(text: &str, span: Span) -> Result<PathRef, LoadError> {
    let ok = crate::model::path_segments(text).all(|s| {
        s == "Φ"
            || (!s.is_empty()
                && s.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    });
    if !ok || crate::model::path_segments(text).count() > 3 {
        return Err(LoadError::new(
            LoadErrorKind::BadPath,
            format!("`{text}` is not a process reference"),
            span,
        )
        .note("write `Regime::name` (e.g. `Φ::validate`) or `Forge::Regime::name`"));
    }
    Ok(PathRef {
        path: PathName::from_text(text),
        span,
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::{corrupt, Rng};

    /// The JSON DIR of the corpus: its JSON files, and its textual files
    /// as JSON, each pretty and compact.
    fn json_corpus() -> Vec<String> {
        let mut out = Vec::new();
        for t in crate::testing::corpus_programs() {
            if t.trim_start().starts_with('{') {
                out.push(t);
            } else if let Ok(p) = crate::load_str(&t) {
                let pretty = crate::print::to_json(&p);
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&pretty) {
                    out.push(v.to_string());
                }
                out.push(pretty);
            }
        }
        out
    }

    /// With the items the fast reader reads in full blanked and left out,
    /// the reference loader words the error it words for the whole
    /// document, or says nothing where the whole document loads.
    fn blanked_agrees(src: &str) -> bool {
        let whole = crate::on_parse_stack(|| super::load_json_tree(src));
        let blanked = crate::on_parse_stack(|| super::load_json_blanked(src));
        match (&blanked, &whole) {
            (Ok(()), Ok(_)) => false,
            (Err(b), Err(w)) => {
                assert_eq!(
                    (b.kind, b.span, &b.message, &b.notes, &b.secondary),
                    (w.kind, w.span, &w.message, &w.notes, &w.secondary),
                    "{src}"
                );
                true
            }
            (Ok(()), Err(w)) => {
                // Nothing blanked: the whole document decides, as it does.
                assert!(
                    crate::fast_load::accepted(src).len() <= 1,
                    "blanked input loads, whole input: {}\n{src}",
                    w.message
                );
                false
            }
            (Err(b), Ok(_)) => panic!("blanked input fails, whole loads: {}\n{src}", b.message),
        }
    }

    /// A large document (blanked by `load_json` itself) with an error late,
    /// early, of JSON or of the model: the whole document's error.
    #[test]
    fn large_documents_word_their_errors_as_the_reference_does() {
        let procs: Vec<String> = (0..2000)
            .map(|i| {
                format!(
                    r#"{{"regime": "K", "name": "p{i}", "ret": "i64", "body": [{{"Let": {{"name": "x", "expr": "{i} Add 1"}}}}, {{"Return": {{"expr": "x"}}}}]}}"#
                )
            })
            .collect();
        let doc = |procs: &[String], tail: &str| {
            format!(
                r#"{{"forges": [{{"name": "F", "procs": [{}]{tail}}}]}}"#,
                procs.join(",\n")
            )
        };
        let mut cases = vec![
            doc(&procs, ", \"bogus\": 1"),
            doc(&procs, ", \"binds\": ["),
            doc(&procs, "]"),
        ];
        for (at, from, to) in [
            (0, "\"ret\"", "\"zzz\": 1, \"ret\""),
            (1000, "0 Add 1", "0 Add"),
            (1500, "{\"expr\": \"x\"}", "{\"expr\": 5}"),
            (1999, "}]}", "}]"),
        ] {
            let mut p = procs.clone();
            p[at] = p[at].replacen(from, to, 1);
            assert_ne!(p[at], procs[at]);
            cases.push(doc(&p, ""));
        }
        for (k, src) in cases.iter().enumerate() {
            assert!(src.len() >= super::BLANK_FROM_BYTES);
            let n = crate::fast_load::accepted(src).len();
            assert!(n > 1000, "case {k}: {n}");
            let fast = crate::on_parse_stack(|| super::load_json(src)).map(|_| ());
            let whole = crate::on_parse_stack(|| super::load_json_tree(src)).map(|_| ());
            let (Err(f), Err(w)) = (fast, whole) else {
                panic!("both fail")
            };
            assert_eq!(
                (f.kind, f.span, &f.message, &f.notes),
                (w.kind, w.span, &w.message, &w.notes)
            );
        }
    }

    #[test]
    fn blanked_items_leave_the_reference_loaders_error_as_it_was() {
        let files = json_corpus();
        assert!(files.len() > 200, "{}", files.len());
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        // Also whole members, words and empty values.
        let extra = ["\"x\": 1,", "\"Add\"", "{}", "[]"];
        let ins: Vec<&str> = crate::testing::JSON_INSERTS
            .iter()
            .chain(&extra)
            .copied()
            .collect();
        let (mut worded, mut with_items) = (0, 0);
        for round in 0..6000 {
            let f = &files[round % files.len()];
            let mut src = corrupt(&mut r, f, &ins);
            // Some with two errors: the first of them is the one worded.
            if round % 3 == 0 {
                src = corrupt(&mut r, &src, &ins);
            }
            if blanked_agrees(&src) {
                worded += 1;
                with_items += usize::from(crate::fast_load::accepted(&src).len() > 1);
            }
        }
        // 1 752 and 1 752 when written.
        assert!(worded > 1500, "only {worded} errors worded");
        assert!(
            with_items > 1500,
            "only {with_items} errors had items blanked"
        );
    }
}
