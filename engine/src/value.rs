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
    pub ty: String,
    /// Fields in declaration order.
    pub fields: Vec<(String, Value)>,
    /// Nodes of the unfolded tree (this one included).
    size: u64,
    /// Longest path to a leaf (this node included).
    depth: u64,
}

impl Value {
    pub fn structure(ty: impl Into<String>, fields: Vec<(String, Value)>) -> Value {
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
            Value::Struct(s) => s.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
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
                    m.insert(n.clone(), v.tagged());
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
                    m.insert(n.clone(), v.plain());
                }
                json!({ "shape": s.ty, "fields": Json::Object(m) })
            }
        }
    }

    /// Effect payload text: strings as-is, numbers in decimal, booleans
    /// `true`/`false`, unit `()`, structs and witnesses as canonical JSON.
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
                leaf(out, Json::from(s.ty.as_str()));
                out.push_str(",\"fields\":{");
                for (i, (n, v)) in s.fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    leaf(out, Json::from(n.as_str()));
                    out.push(':');
                    v.write_plain(out);
                }
                out.push_str("}}");
            }
            other => leaf(out, other.plain()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Value;

    /// The direct payload writer gives the bytes of the JSON tree it
    /// replaces, escapes and all.
    #[test]
    fn direct_rendering_matches_the_json_tree() {
        let leaf = Value::structure(
            "Leaf \"q\"",
            vec![
                ("n".into(), Value::Int(-7)),
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
    }
}
