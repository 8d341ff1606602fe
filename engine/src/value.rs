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
            Value::Struct(_) => serde_json::to_string(&self.plain()).unwrap_or_default(),
        }
    }
}
