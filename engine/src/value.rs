//! Runtime values, their rendering as effect payloads, and their tagged trace
//! encoding (a superset of the earlier dustrun's).

use serde_json::{json, Map, Value as Json};
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Unit,
    /// Shape values and witnesses (`PhiWitness`). Shared, so copying a
    /// value is O(1); its unfolded size is tracked to bound every walk.
    Struct(Rc<StructVal>),
}

#[derive(Debug, PartialEq)]
pub struct StructVal {
    /// The shape's name and its fields' names are shared with the shape
    /// (and between values): building a value copies no name.
    pub ty: Rc<str>,
    /// Fields in declaration order: a few held in the value itself (most
    /// shapes are small, and a second allocation per value was a third of
    /// building and dropping one).
    pub fields: Fields,
    /// Nodes of the unfolded tree (this one included).
    size: u64,
    /// Longest path to a leaf (this node included).
    depth: u64,
}

/// A struct value's fields, by name, in declaration order.
pub type Fields = smallvec::SmallVec<[(Rc<str>, Value); 2]>;

impl Value {
    pub fn structure(ty: impl Into<Rc<str>>, fields: impl Into<Fields>) -> Value {
        let fields = fields.into();
        let size = fields
            .iter()
            .fold(1u64, |a, (_, v)| a.saturating_add(v.size()));
        let depth = 1 + fields.iter().map(|(_, v)| v.depth()).max().unwrap_or(0);
        Value::Struct(Rc::new(StructVal {
            ty: ty.into(),
            fields,
            size,
            depth,
        }))
    }

    /// Nodes of the unfolded value: what rendering or comparing it costs.
    pub fn size(&self) -> u64 {
        match self {
            Value::Struct(s) => s.size,
            _ => 1,
        }
    }

    /// Nesting depth: what recursion over the value costs.
    pub fn depth(&self) -> u64 {
        match self {
            Value::Struct(s) => s.depth,
            _ => 1,
        }
    }

    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(s) => s.fields.iter().find(|(n, _)| **n == *name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Tagged encoding used in traces: `{"Int": 7}`, `"Unit"`, `{"Struct": ...}`.
    pub fn tagged(&self) -> Json {
        match self {
            Value::Int(i) => json!({ "Int": i }),
            Value::Float(f) => json!({ "Float": f }),
            Value::Bool(b) => json!({ "Bool": b }),
            Value::Str(s) => json!({ "String": s }),
            Value::Unit => json!("Unit"),
            Value::Struct(s) => {
                let mut m = Map::new();
                for (n, v) in &s.fields {
                    m.insert(n.to_string(), v.tagged());
                }
                json!({ "Struct": { "ty": s.ty, "fields": Json::Object(m) } })
            }
        }
    }

    /// Plain JSON for payload rendering of structs (brief 5).
    fn plain(&self) -> Json {
        match self {
            Value::Int(i) => json!(i),
            Value::Float(f) => json!(f),
            Value::Bool(b) => json!(b),
            Value::Str(s) => json!(s),
            Value::Unit => Json::Null,
            Value::Struct(s) => {
                let mut m = Map::new();
                for (n, v) in &s.fields {
                    m.insert(n.to_string(), v.plain());
                }
                json!({ "shape": s.ty, "fields": Json::Object(m) })
            }
        }
    }

    /// Effect payload text: strings as-is, numbers in decimal, booleans
    /// `true`/`false`, unit `()`, structs and witnesses as canonical JSON.
    /// `render` held inline where it fits (an effect's payload).
    pub fn render_compact(&self) -> compact_str::CompactString {
        use compact_str::ToCompactString;
        match self {
            Value::Int(i) => i.to_compact_string(),
            _ => self.render().into(),
        }
    }

    pub fn render(&self) -> String {
        match self {
            Value::Int(i) => i.to_string(),
            Value::Float(f) => dir_grammar::print::float_text(*f),
            Value::Bool(b) => b.to_string(),
            Value::Str(s) => s.clone(),
            Value::Unit => "()".to_string(),
            Value::Struct(_) => {
                let mut out = String::with_capacity(self.size().min(1 << 20) as usize * 8);
                self.write_plain(&mut out);
                out
            }
        }
    }

    /// `plain()` as compact JSON, written directly: the same bytes without
    /// building the JSON tree (a payload can be large).
    fn write_plain(&self, out: &mut String) {
        let leaf = |out: &mut String, j: Json| out.push_str(&j.to_string());
        match self {
            Value::Struct(s) => {
                out.push_str("{\"shape\":");
                leaf(out, Json::from(&*s.ty));
                out.push_str(",\"fields\":{");
                for (i, (n, v)) in s.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    leaf(out, Json::from(&**n));
                    out.push(':');
                    v.write_plain(out);
                }
                out.push_str("}}");
            }
            other => leaf(out, other.plain()),
        }
    }
}

/// A value for people, from its tagged form (the trace's): `7`, `2.5`,
/// `"text"`, `true`, `()`, `P { x: 3, y: 4 }`. Used for returned values,
/// witnesses and arguments in human output; effect payloads keep their
/// canonical form (`Value::render`, brief 5), and JSON appears only in
/// JSON outputs.
pub fn human(tagged: &Json) -> String {
    let mut out = String::new();
    write_human(tagged, &mut out);
    out
}

/// A Φ witness for people: `x = 1, c = Candidate { x: 1, y: 10 }`.
pub fn human_witness(witness: &Json) -> String {
    match witness.as_object() {
        Some(m) if m.is_empty() => "(no unknowns)".to_string(),
        Some(m) => m
            .iter()
            .map(|(k, v)| format!("{k} = {}", human(v)))
            .collect::<Vec<_>>()
            .join(", "),
        None => human(witness),
    }
}

fn write_human(v: &Json, out: &mut String) {
    let one = match v {
        Json::Object(m) if m.len() == 1 => m.iter().next(),
        _ => None,
    };
    match (v, one) {
        (Json::String(u), _) if u == "Unit" => out.push_str("()"),
        (_, Some((tag, x))) => match (tag.as_str(), x) {
            ("Int", Json::Number(n)) => out.push_str(&n.to_string()),
            ("Float", Json::Number(n)) => match n.as_f64() {
                Some(f) => out.push_str(&dir_grammar::print::float_text(f)),
                None => out.push_str(&n.to_string()),
            },
            ("Bool", Json::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
            // Quoted as DIR writes it, and no control character reaches
            // the terminal raw (an escape sequence in a returned string).
            ("String", Json::String(s)) => {
                for c in dir_grammar::print::quote(s).chars() {
                    if c.is_control() {
                        out.extend(c.escape_default());
                    } else {
                        out.push(c);
                    }
                }
            }
            ("Struct", Json::Object(s)) => {
                out.push_str(s.get("ty").and_then(Json::as_str).unwrap_or("?"));
                match s.get("fields").and_then(Json::as_object) {
                    Some(fields) if !fields.is_empty() => {
                        out.push_str(" { ");
                        for (i, (name, fv)) in fields.iter().enumerate() {
                            if i > 0 {
                                out.push_str(", ");
                            }
                            out.push_str(name);
                            out.push_str(": ");
                            write_human(fv, out);
                        }
                        out.push_str(" }");
                    }
                    _ => out.push_str(" {}"),
                }
            }
            _ => out.push_str(&v.to_string()),
        },
        _ => out.push_str(&v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::Value;

    /// An effect's payload held inline is the payload rendered, for every
    /// kind of value (integers at their extremes, text longer than fits).
    #[test]
    fn compact_payloads_are_the_rendered_ones() {
        let long = "x".repeat(40);
        let p = Value::structure("P", vec![("a".into(), Value::Int(-7))]);
        for v in [
            Value::Int(0),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(-0.5),
            Value::Bool(true),
            Value::Str(String::new()),
            Value::Str(long),
            Value::Unit,
            p,
        ] {
            assert_eq!(v.render_compact(), v.render(), "{v:?}");
        }
    }

    #[test]
    fn values_print_for_people() {
        let p = Value::structure(
            "P",
            vec![
                ("x".into(), Value::Int(3)),
                ("s".into(), Value::Str("a \"b\"".into())),
                ("f".into(), Value::Float(2.5)),
                ("u".into(), Value::Unit),
                ("e".into(), Value::structure("E", vec![])),
            ],
        );
        // Fields print in declaration order, as the trace keeps them.
        assert_eq!(
            super::human(&p.tagged()),
            "P { x: 3, s: \"a \\\"b\\\"\", f: 2.5, u: (), e: E {} }"
        );
        assert_eq!(super::human(&Value::Int(-7).tagged()), "-7");
        assert_eq!(super::human(&Value::Bool(false).tagged()), "false");
        assert_eq!(super::human(&Value::Unit.tagged()), "()");
        let raw = Value::Str("b\u{1b}[31mred\u{7}".into());
        assert!(!super::human(&raw.tagged()).chars().any(char::is_control));
    }

    /// The direct payload writer gives the bytes of the JSON tree it
    /// replaces, escapes and all.
    #[test]
    fn direct_rendering_matches_the_json_tree() {
        let leaf = Value::structure(
            "Leaf \"q\"",
            vec![
                ("n".into(), Value::Int(-7)),
                ("min".into(), Value::Int(i64::MIN)),
                ("max".into(), Value::Int(i64::MAX)),
                ("f".into(), Value::Float(0.1)),
                ("nan".into(), Value::Float(f64::NAN)),
                ("s".into(), Value::Str("tab\t\"quote\" é \u{1}".into())),
                ("b".into(), Value::Bool(true)),
                ("u".into(), Value::Unit),
                ("e".into(), Value::structure("Empty", vec![])),
            ],
        );
        let mut v = leaf;
        for i in 0..5 {
            v = Value::structure(
                format!("Node{i}"),
                vec![("l".into(), v.clone()), ("r\\".into(), v)],
            );
        }
        assert_eq!(v.render(), serde_json::to_string(&v.plain()).unwrap());
        for i in [i64::MIN, i64::MIN + 1, -10, -1, 0, 9, 10, 1234567, i64::MAX] {
            let v = Value::Int(i);
            assert_eq!(v.render(), i.to_string());
            assert_eq!(v.render(), serde_json::to_string(&v.plain()).unwrap());
        }
    }
}
