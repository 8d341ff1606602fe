//! Canonical printers: textual DIR and the compiler's JSON shape. Both are
//! deterministic (model order, fixed spacing), so `fmt` output is stable and
//! JSON -> text -> JSON round trips compare equal.

use crate::model::*;
use serde_json::{json, Map, Value};
use std::fmt::Write;

/// The DIR version a program without a header is printed with.
pub const DEFAULT_DIR_VERSION: &str = "0.1";

// ------------------------------------------------------------ expressions

pub fn expr_to_string(e: Expr<'_>) -> String {
    let mut s = String::new();
    write_expr(&mut s, e);
    s
}

fn needs_parens(e: Expr<'_>, min_prec: u8, strictly: bool) -> bool {
    match e.kind() {
        ExprKind::Binary { op, .. } => {
            if strictly {
                op.precedence() <= min_prec
            } else {
                op.precedence() < min_prec
            }
        }
        _ => false,
    }
}

fn write_sub(out: &mut String, e: Expr<'_>, parens: bool) {
    if parens {
        out.push('(');
        write_expr(out, e);
        out.push(')');
    } else {
        write_expr(out, e);
    }
}

fn write_expr(out: &mut String, e: Expr<'_>) {
    match e.kind() {
        ExprKind::Int(v) => {
            let _ = write!(out, "{v}");
        }
        ExprKind::Float(v) => out.push_str(&float_text(v)),
        ExprKind::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        ExprKind::Str(s) => out.push_str(&quote(s)),
        ExprKind::Path(p, _) => out.push_str(p.text()),
        ExprKind::Binary { op, lhs, rhs, .. } => {
            let p = op.precedence();
            write_sub(out, lhs, needs_parens(lhs, p, false));
            out.push(' ');
            out.push_str(op.word());
            out.push(' ');
            write_sub(out, rhs, needs_parens(rhs, p, true));
        }
        ExprKind::Field { base, field } => {
            write_sub(out, base, matches!(base.kind(), ExprKind::Binary { .. }));
            out.push('.');
            out.push_str(field.name);
        }
        ExprKind::Call { callee, args, .. } => {
            out.push_str(callee.text());
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a);
            }
            out.push(')');
        }
        ExprKind::Struct { name, fields } => {
            out.push_str(name.name);
            out.push('{');
            for (i, (f, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(f.name);
                out.push_str(": ");
                write_expr(out, v);
            }
            out.push('}');
        }
    }
}

/// A float literal always written as `digits.digits` (the grammar's form).
pub fn float_text(v: f64) -> String {
    let s = format!("{v}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// A string literal in expression syntax.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ------------------------------------------------------------ textual DIR

fn lit_text(l: &LitValue) -> String {
    match l {
        LitValue::Int(v) => v.to_string(),
        LitValue::Bool(b) => b.to_string(),
        LitValue::String(s) => quote(s),
        LitValue::Float(f) => float_text(*f),
        LitValue::Char(c) => {
            let q = quote(&c.to_string());
            let inner = &q[1..q.len() - 1];
            match inner {
                "\\\"" => "'\"'".to_string(),
                _ => format!("'{}'", inner.replace('\'', "\\'")),
            }
        }
    }
}

fn is_bare_token(s: &str) -> bool {
    let int = !s.is_empty()
        && s.strip_prefix('-')
            .unwrap_or(s)
            .chars()
            .all(|c| c.is_ascii_digit())
        && s != "-";
    let ident = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    int || ident
}

/// Where a comment is printed: before the item that follows it in the
/// source, or before the `}` that closes a block it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Header,
    Types,
    Forge(usize),
    Shape(usize, usize),
    Proc(usize, usize),
    Stmt(usize, usize, usize),
    ProcEnd(usize, usize),
    Bind(usize, usize),
    ForgeEnd(usize),
    FileEnd,
}

/// Each comment attached to the first item (or block end) at or after it.
fn attach(p: &Program) -> std::collections::BTreeMap<Place, Vec<&str>> {
    let mut marks: Vec<(usize, Place)> = Vec::new();
    if let Some(v) = &p.version {
        marks.push((v.span.start(), Place::Header));
    }
    if let Some(t) = &p.types {
        marks.push((t.span.start(), Place::Types));
    }
    for (fi, f) in p.forges.iter().enumerate() {
        marks.push((f.span.start(), Place::Forge(fi)));
        marks.push((f.span.end().saturating_sub(1), Place::ForgeEnd(fi)));
        for (si, s) in f.shapes.iter().enumerate() {
            marks.push((s.span.start(), Place::Shape(fi, si)));
        }
        for (pi, pr) in f.procs.iter().enumerate() {
            marks.push((pr.span.start(), Place::Proc(fi, pi)));
            marks.push((pr.span.end().saturating_sub(1), Place::ProcEnd(fi, pi)));
            for (si, s) in pr.body.iter().enumerate() {
                marks.push((s.span.start(), Place::Stmt(fi, pi, si)));
            }
        }
        for (bi, b) in f.binds.iter().enumerate() {
            marks.push((b.span.start(), Place::Bind(fi, bi)));
        }
    }
    marks.sort();
    let mut out: std::collections::BTreeMap<Place, Vec<&str>> = Default::default();
    for c in &p.comments {
        let i = marks.partition_point(|(pos, _)| *pos < c.span.end());
        let place = marks.get(i).map_or(Place::FileEnd, |(_, place)| *place);
        out.entry(place).or_default().push(&c.text);
    }
    out
}

pub fn to_text(p: &Program) -> String {
    let notes = attach(p);
    // The comments attached to a place, each on its own line.
    let comments = |o: &mut String, place: Place, indent: &str| {
        for c in notes.get(&place).into_iter().flatten() {
            o.push_str(indent);
            o.push_str(c);
            o.push('\n');
        }
    };
    let mut o = String::new();
    let version = p
        .version
        .as_ref()
        .map(|v| v.name.as_str())
        .unwrap_or(DEFAULT_DIR_VERSION);
    comments(&mut o, Place::Header, "");
    let _ = writeln!(o, "dir {version};");
    if let Some(t) = &p.types {
        o.push('\n');
        comments(&mut o, Place::Types, "");
        let _ = writeln!(o, "types {};", t.text());
    }
    for (fi, f) in p.forges.iter().enumerate() {
        o.push('\n');
        comments(&mut o, Place::Forge(fi), "");
        let _ = writeln!(o, "forge {} {{", f.name.name);
        let mut first = true;
        let mut sep = |o: &mut String| {
            if !first {
                o.push('\n');
            }
            first = false;
        };
        for (si, s) in f.shapes.iter().enumerate() {
            sep(&mut o);
            comments(&mut o, Place::Shape(fi, si), "  ");
            let fields: Vec<String> = s
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.name.name, f.ty.name))
                .collect();
            if fields.is_empty() {
                let _ = writeln!(o, "  shape {} {{}}", s.name.name);
            } else {
                let _ = writeln!(o, "  shape {} {{ {} }}", s.name.name, fields.join(", "));
            }
        }
        for (pi, pr) in f.procs.iter().enumerate() {
            sep(&mut o);
            comments(&mut o, Place::Proc(fi, pi), "  ");
            let params: Vec<String> = pr
                .params
                .iter()
                .map(|f| format!("{}: {}", f.name.name, f.ty.name))
                .collect();
            let _ = write!(
                o,
                "  proc {} {}({})",
                pr.regime.symbol(),
                pr.name.name,
                params.join(", ")
            );
            if let Some(r) = &pr.ret {
                let _ = write!(o, " -> {}", r.name);
            }
            if !pr.qualifiers.is_empty() {
                let q: Vec<&str> = pr.qualifiers.iter().map(|q| q.name.as_str()).collect();
                let _ = write!(o, " [{}]", q.join(", "));
            }
            if !pr.uses.is_empty() {
                let us: Vec<String> = pr
                    .uses
                    .iter()
                    .map(|u| {
                        let args: Vec<String> = u
                            .args
                            .iter()
                            .map(|(k, v)| format!("{} = {}", k.name, lit_text(&v.value)))
                            .collect();
                        format!("{}({})", u.resource.name, args.join(", "))
                    })
                    .collect();
                let _ = write!(o, " uses {}", us.join(", "));
            }
            if let Some(l) = &pr.locals {
                let _ = write!(o, " locals {}", l.text());
            }
            o.push_str(" {\n");
            for (si, s) in pr.body.iter().enumerate() {
                comments(&mut o, Place::Stmt(fi, pi, si), "    ");
                o.push_str("    ");
                o.push_str(&stmt_text(p, s));
                o.push('\n');
            }
            comments(&mut o, Place::ProcEnd(fi, pi), "    ");
            o.push_str("  }\n");
        }
        for (bi, b) in f.binds.iter().enumerate() {
            sep(&mut o);
            comments(&mut o, Place::Bind(fi, bi), "  ");
            let _ = write!(o, "  bind {} -> {}", b.source.text(), b.target.text());
            if !b.contract.is_empty() {
                let cs: Vec<String> = b
                    .contract
                    .iter()
                    .map(|c| {
                        let op = match c.op.name.as_str() {
                            "==" | "!=" | "<" | "<=" | ">" | ">=" => c.op.name.to_string(),
                            other => quote(other),
                        };
                        let v = if is_bare_token(&c.value.name) {
                            c.value.name.to_string()
                        } else {
                            quote(&c.value.name)
                        };
                        format!("{} {} {}", c.key.name, op, v)
                    })
                    .collect();
                let _ = write!(o, " {{ {} }}", cs.join("; "));
            }
            o.push_str(";\n");
        }
        comments(&mut o, Place::ForgeEnd(fi), "  ");
        o.push_str("}\n");
    }
    if notes.contains_key(&Place::FileEnd) {
        o.push('\n');
        comments(&mut o, Place::FileEnd, "");
    }
    o
}

fn stmt_text(p: &Program, s: &Stmt) -> String {
    let expr_to_string = |r: &ExprRoot| expr_to_string(p.expr(*r));
    match &s.kind {
        StmtKind::Let { name, expr } => format!("let {} = {};", name.name, expr_to_string(expr)),
        StmtKind::Constrain { predicate } => format!("constrain {};", expr_to_string(predicate)),
        StmtKind::Prove { name, from } => {
            format!("prove {} from {};", name.name, expr_to_string(from))
        }
        StmtKind::Effect { kind, payload } => format!("{} {};", kind.name, expr_to_string(payload)),
        StmtKind::Return { expr: None } => "return;".to_string(),
        StmtKind::Return { expr: Some(e) } => format!("return {};", expr_to_string(e)),
        StmtKind::Call { call, result } => match result {
            Some(r) => format!("call {} -> {};", expr_to_string(call), r.name),
            None => format!("call {};", expr_to_string(call)),
        },
        StmtKind::Later { kind, body } => format!("@{} {};", kind.name, body.text()),
    }
}

// ------------------------------------------------------------ JSON DIR

fn lit_json(l: &LitValue) -> Value {
    match l {
        LitValue::Int(v) => json!({ "Int": v }),
        LitValue::Bool(b) => json!({ "Bool": b }),
        LitValue::String(s) => json!({ "String": s }),
        LitValue::Float(f) => json!({ "Float": f }),
        LitValue::Char(c) => json!({ "Char": c.to_string() }),
    }
}

fn stmt_json(p: &Program, s: &Stmt) -> Value {
    let expr_to_string = |r: &ExprRoot| expr_to_string(p.expr(*r));
    match &s.kind {
        StmtKind::Let { name, expr } => {
            json!({ "Let": { "name": name.name, "expr": expr_to_string(expr) } })
        }
        StmtKind::Constrain { predicate } => {
            json!({ "Constrain": { "predicate": expr_to_string(predicate) } })
        }
        StmtKind::Prove { name, from } => {
            json!({ "Prove": { "name": name.name, "from": expr_to_string(from) } })
        }
        StmtKind::Effect { kind, payload } => {
            json!({ "Effect": { "kind": kind.name, "payload": expr_to_string(payload) } })
        }
        StmtKind::Return { expr } => {
            json!({ "Return": { "expr": expr.as_ref().map(expr_to_string) } })
        }
        StmtKind::Call { call, result } => {
            let (target, args) = match p.expr(*call).kind() {
                ExprKind::Call { callee, args, .. } => (
                    callee.text().to_string(),
                    args.iter().map(self::expr_to_string).collect::<Vec<_>>(),
                ),
                _ => (expr_to_string(call), Vec::new()),
            };
            json!({ "Call": { "target": target, "args": args, "result": result.as_ref().map(|r| &r.name) } })
        }
        StmtKind::Later { kind, body } => {
            let mut m = Map::new();
            m.insert(kind.name.to_string(), body.to_value());
            Value::Object(m)
        }
    }
}

/// The compiler's JSON shape as one tree (the oracle of [`to_json`], and
/// for tests that edit it).
pub fn to_json_value(p: &Program) -> Value {
    let forges: Vec<Value> = p
        .forges
        .iter()
        .map(|f| {
            let shapes: Vec<Value> = f.shapes.iter().map(shape_json).collect();
            let procs: Vec<Value> = f
                .procs
                .iter()
                .map(|pr| {
                    let mut m = Map::new();
                    m.insert("regime".into(), json!(pr.regime.symbol()));
                    m.insert("name".into(), json!(pr.name.name));
                    m.insert(
                        "params".into(),
                        Value::Array(pr.params.iter().map(field_json).collect()),
                    );
                    m.insert(
                        "uses".into(),
                        Value::Array(pr.uses.iter().map(use_json).collect()),
                    );
                    m.insert("ret".into(), json!(pr.ret.as_ref().map(|r| r.name.clone())));
                    m.insert(
                        "qualifiers".into(),
                        json!(pr
                            .qualifiers
                            .iter()
                            .map(|q| q.name.clone())
                            .collect::<Vec<_>>()),
                    );
                    m.insert(
                        "body".into(),
                        Value::Array(pr.body.iter().map(|s| stmt_json(p, s)).collect()),
                    );
                    if let Some(l) = &pr.locals {
                        m.insert("locals".into(), l.to_value());
                    }
                    Value::Object(m)
                })
                .collect();
            let binds: Vec<Value> = f.binds.iter().map(bind_json).collect();
            json!({ "name": f.name.name, "shapes": shapes, "procs": procs, "binds": binds })
        })
        .collect();
    let mut root = Map::new();
    if let Some(v) = p.version.as_ref().filter(|v| v.name != DEFAULT_DIR_VERSION) {
        root.insert("dir_version".into(), json!(v.name));
    }
    root.insert("forges".into(), Value::Array(forges));
    if let Some(t) = &p.types {
        root.insert("types".into(), t.to_value());
    }
    Value::Object(root)
}

/// The compiler's JSON shape, pretty-printed. Written as it is made: a
/// small tree per statement, shape and binding, never one of the whole
/// program (56 MB of processes made a 9.3 GB tree). Same bytes as
/// [`to_json_value`] pretty-printed.
pub fn to_json(p: &Program) -> String {
    let mut out = Vec::new();
    if write_json(p, &mut out).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// [`to_json`] into `w` as it is made (`fmt --to json` of a large program
/// would otherwise hold its whole output, several times the program).
pub fn write_json(p: &Program, mut w: impl std::io::Write) -> std::io::Result<()> {
    let mut ser = serde_json::Serializer::pretty(&mut w);
    serde::Serialize::serialize(&ProgramJson(p), &mut ser).map_err(|e| {
        match e.io_error_kind() {
            Some(kind) => std::io::Error::from(kind),
            None => std::io::Error::other(e),
        }
    })?;
    w.write_all(b"\n")
}

struct ProgramJson<'a>(&'a Program);
struct ForgeJson<'a>(&'a Program, &'a Forge);
struct ProcJson<'a>(&'a Program, &'a Proc);

/// A sequence made as it is written.
struct Each<I>(std::cell::Cell<Option<I>>);

impl<I: Iterator<Item = T>, T: serde::Serialize> serde::Serialize for Each<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.take() {
            Some(items) => s.collect_seq(items),
            None => s.collect_seq(std::iter::empty::<T>()),
        }
    }
}

fn each<I: Iterator<Item = T>, T: serde::Serialize>(items: I) -> Each<I> {
    Each(std::cell::Cell::new(Some(items)))
}

impl serde::Serialize for ProgramJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let p = self.0;
        let mut m = s.serialize_map(None)?;
        if let Some(v) = p.version.as_ref().filter(|v| v.name != DEFAULT_DIR_VERSION) {
            m.serialize_entry("dir_version", v.name.as_str())?;
        }
        m.serialize_entry("forges", &each(p.forges.iter().map(|f| ForgeJson(p, f))))?;
        if let Some(t) = &p.types {
            m.serialize_entry("types", t)?;
        }
        m.end()
    }
}

impl serde::Serialize for ForgeJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (p, f) = (self.0, self.1);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", f.name.name.as_str())?;
        m.serialize_entry("shapes", &each(f.shapes.iter().map(shape_json)))?;
        m.serialize_entry("procs", &each(f.procs.iter().map(|pr| ProcJson(p, pr))))?;
        m.serialize_entry("binds", &each(f.binds.iter().map(bind_json)))?;
        m.end()
    }
}

impl serde::Serialize for ProcJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (p, pr) = (self.0, self.1);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("regime", pr.regime.symbol())?;
        m.serialize_entry("name", pr.name.name.as_str())?;
        m.serialize_entry("params", &each(pr.params.iter().map(field_json)))?;
        m.serialize_entry("uses", &each(pr.uses.iter().map(use_json)))?;
        m.serialize_entry("ret", &pr.ret.as_ref().map(|r| r.name.as_str()))?;
        m.serialize_entry(
            "qualifiers",
            &each(pr.qualifiers.iter().map(|q| q.name.as_str())),
        )?;
        m.serialize_entry("body", &each(pr.body.iter().map(|s| stmt_json(p, s))))?;
        if let Some(l) = &pr.locals {
            m.serialize_entry("locals", l)?;
        }
        m.end()
    }
}

fn field_json(f: &Field) -> Value {
    json!({ "name": f.name.name, "ty": f.ty.name })
}

fn shape_json(s: &Shape) -> Value {
    let fields: Vec<Value> = s.fields.iter().map(field_json).collect();
    json!({ "name": s.name.name, "fields": fields })
}

fn use_json(u: &Uses) -> Value {
    let args: Vec<Value> = u
        .args
        .iter()
        .map(|(k, v)| json!([k.name, lit_json(&v.value)]))
        .collect();
    json!({ "resource": u.resource.name, "args": args })
}

fn bind_json(b: &Bind) -> Value {
    let contract: Vec<Value> = b
        .contract
        .iter()
        .map(|c| json!({ "key": c.key.name, "op": c.op.name, "value": c.value.name }))
        .collect();
    json!({ "source": b.source.text(), "target": b.target.text(), "contract": contract })
}
