//! Datalog rules as data (04-q-linearity.ron, 10-admission.ron): parsed and
//! checked here, evaluated by the engine with datafrog. The input relations
//! the engine's lowering emits are declared once, here, and every table's
//! `inputs` must match them exactly: a renamed or retyped relation is
//! refused at load instead of silently being empty.

use crate::Regime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Column {
    /// A binding of a Q process.
    Var,
    /// A program point of a Q process.
    Point,
    /// A process of the program.
    Proc,
    /// A `bind` declaration.
    Bind,
    /// A contract clause of a binding.
    Clause,
    /// A `uses` clause of a process.
    Use,
}

/// Names of the relations the engine lowers a Q process into, or reads
/// back (04-q-linearity.ron). The engine names them only through these.
pub mod lin {
    pub const EDGE: &str = "edge";
    pub const DEF: &str = "def";
    pub const USE: &str = "use";
    pub const MOVE: &str = "move";
    pub const CONSUME: &str = "consume";
    /// The one non-consuming intrinsic flow: inside a predicate it reads.
    pub const CHECK_LIVE: &str = "check_live";
    pub const READ: &str = "read";
    pub const READ_CONSUME: &str = "read_consume";
    pub const LINEAR: &str = "linear";
    pub const RESOURCE: &str = "resource";
    pub const EXIT: &str = "exit";
    /// Derived: the binding is consumed at the point (read by `explain`).
    pub const CONSUMING: &str = "consuming";
}

/// The most variables a rule binds, and so the most columns a relation
/// has (a head's are distinct variables of its rule; the inputs' are the
/// engine's, below): the engine keeps each fact, and each partial match of
/// a rule, in one fixed-width tuple of this many columns (the built-in
/// tables need 4). A table that needs more is refused when it loads. Five
/// columns and a length make a 24-byte tuple, the size of the `SmallVec`
/// it replaced; a sixth cost 4 bytes on every fact and partial match (a Q
/// chain of 100 000 statements touched 21 MB more).
pub const MAX_COLUMNS: usize = 5;

/// The input relations of 04-q-linearity.ron, with their column kinds.
pub const LINEARITY_INPUTS: &[(&str, &[Column])] = &[
    (lin::EDGE, &[Column::Point, Column::Point]),
    (lin::DEF, &[Column::Var, Column::Point]),
    (lin::USE, &[Column::Var, Column::Point]),
    (lin::MOVE, &[Column::Var, Column::Point]),
    (lin::CONSUME, &[Column::Var, Column::Point]),
    (lin::CHECK_LIVE, &[Column::Var, Column::Point]),
    (lin::READ, &[Column::Var, Column::Point]),
    (lin::READ_CONSUME, &[Column::Var, Column::Point]),
    (lin::LINEAR, &[Column::Var]),
    (lin::RESOURCE, &[Column::Var]),
    (lin::EXIT, &[Column::Point]),
];

/// Names of the input relations the engine lowers a whole program into
/// (10-admission.ron). The engine emits facts only through these constants.
pub mod adm {
    pub const ENTRY: &str = "entry";
    pub const CALLS: &str = "calls";
    pub const BIND: &str = "bind";
    pub const EFFECT_IN: &str = "effect_in";
    pub const EFFECTS_FORBIDDEN: &str = "effects_forbidden";
    pub const WITNESS_FORBIDDEN: &str = "witness_forbidden";
    pub const WITNESS_CROSSES: &str = "witness_crosses";
    pub const LATENCY_EXCEEDED: &str = "latency_exceeded";
    pub const PHI_NONEXISTENT: &str = "phi_nonexistent";
    pub const PHI_UNDETERMINED: &str = "phi_undetermined";
    pub const RESOURCE_UNAVAILABLE: &str = "resource_unavailable";
    pub const RESOURCE_UNMET: &str = "resource_unmet";
    pub const CONSTRAINT_FAILED: &str = "constraint_failed";
    pub const PHI_PROC: &str = "phi_proc";
    pub const REFUSAL_PATH: &str = "refusal_path";
    /// Derived relations the engine reads back (for verdicts and `explain`),
    /// with their column kinds.
    pub const REACHES: &str = "reaches";
    pub const REFUSED: &str = "refused";
    pub const CLAUSE_VIOLATED: &str = "clause_violated";
    /// The violation relation whose stop is evaluation's own diagnostic
    /// (the constraint that failed, with its values).
    pub const RUN_REFUSED: &str = "run_refused";
    pub const PHI_FAILS: &str = "phi_fails";
    pub const PHI_UNKNOWN: &str = "phi_unknown";
}

/// Derived relations of 10-admission.ron the engine reads.
pub const ADMISSION_DERIVED: &[(&str, &[Column])] = &[
    (adm::REACHES, &[Column::Proc]),
    (adm::REFUSED, &[Column::Proc]),
    (adm::CLAUSE_VIOLATED, &[Column::Bind, Column::Clause]),
    (adm::RUN_REFUSED, &[Column::Proc]),
    (adm::PHI_FAILS, &[Column::Proc]),
    (adm::PHI_UNKNOWN, &[Column::Proc]),
];

/// The input relations of 10-admission.ron, with their column kinds.
pub const ADMISSION_INPUTS: &[(&str, &[Column])] = &[
    (adm::ENTRY, &[Column::Proc]),
    (adm::CALLS, &[Column::Proc, Column::Proc]),
    (adm::BIND, &[Column::Bind, Column::Proc, Column::Proc]),
    (adm::EFFECT_IN, &[Column::Proc]),
    (adm::EFFECTS_FORBIDDEN, &[Column::Bind, Column::Clause]),
    (adm::WITNESS_FORBIDDEN, &[Column::Bind, Column::Clause]),
    (adm::WITNESS_CROSSES, &[Column::Bind]),
    (adm::LATENCY_EXCEEDED, &[Column::Bind, Column::Clause]),
    (adm::PHI_NONEXISTENT, &[Column::Proc]),
    (adm::PHI_UNDETERMINED, &[Column::Proc]),
    (adm::RESOURCE_UNAVAILABLE, &[Column::Proc, Column::Use]),
    (adm::RESOURCE_UNMET, &[Column::Proc, Column::Use]),
    (adm::CONSTRAINT_FAILED, &[Column::Proc]),
    (adm::PHI_PROC, &[Column::Proc]),
    (adm::REFUSAL_PATH, &[Column::Proc, Column::Proc]),
];

/// The table's inputs must be exactly the relations the engine emits.
fn check_inputs(inputs: &[InputDecl], expected: &[(&str, &[Column])]) -> Result<(), String> {
    for i in inputs {
        match expected.iter().find(|(n, _)| *n == i.name) {
            None => {
                let names: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "input `{}` is not a relation the engine emits (it emits: {})",
                    i.name,
                    names.join(", ")
                ));
            }
            Some((_, cols)) if *cols != i.columns.as_slice() => {
                return Err(format!(
                    "input `{}` has columns {:?}; the engine emits {:?}",
                    i.name, i.columns, cols
                ));
            }
            Some(_) => {}
        }
    }
    for (n, _) in expected {
        if !inputs.iter().any(|i| i.name == *n) {
            return Err(format!(
                "input `{n}`, which the engine emits, is not declared"
            ));
        }
    }
    Ok(())
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputDecl {
    pub name: String,
    pub columns: Vec<Column>,
    pub doc: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: String,
    pub head: String,
    pub body: Vec<String>,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Violation {
    pub relation: String,
    pub code: String,
    /// `{0}` is replaced by the binding in column 0.
    pub message: String,
    /// (point column, label); the first is the primary location.
    pub labels: Vec<(usize, String)>,
    #[serde(default)]
    pub help: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntrinsicArg {
    /// The argument names a type (`q_alloc(QBit)`).
    TypeName,
    /// The argument is a binding of the calling process.
    Binding,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntrinsicResult {
    Resource,
    SameAsArg,
    Unit,
    Measurement,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intrinsic {
    pub name: String,
    pub id: String,
    pub regime: Regime,
    pub arg: IntrinsicArg,
    /// The input relation the argument's mention goes into (`None`: no mention).
    #[serde(default)]
    pub flow: Option<String>,
    pub result: IntrinsicResult,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearityFile {
    pub inputs: Vec<InputDecl>,
    pub strata: Vec<Vec<RawRule>>,
    pub violations: Vec<Violation>,
    pub intrinsics: Vec<Intrinsic>,
    pub resource_types: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    Var(String),
    Wild,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Atom {
    pub rel: String,
    pub args: Vec<Term>,
}

impl Atom {
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.args.iter().filter_map(|t| match t {
            Term::Var(v) => Some(v.as_str()),
            Term::Wild => None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub cite: String,
    pub head: Atom,
    /// Positive premises, joined in order.
    pub body: Vec<Atom>,
    /// Negated premises (inputs or relations of an earlier stratum).
    pub neg: Vec<Atom>,
    /// The rule as written.
    pub source: String,
}

impl Rule {
    pub fn text(&self) -> String {
        self.source.clone()
    }
}

/// The checked linearity program.
#[derive(Clone, Debug)]
pub struct Linearity {
    pub inputs: Vec<InputDecl>,
    pub strata: Vec<Vec<Rule>>,
    pub violations: Vec<Violation>,
    pub intrinsics: Vec<Intrinsic>,
    pub resource_types: Vec<String>,
    /// Arity of every relation (inputs and derived).
    pub arity: BTreeMap<String, usize>,
    /// Column kinds of every relation: declared for inputs, inferred for
    /// derived relations from where their head variables come from.
    pub columns: BTreeMap<String, Vec<Column>>,
}

fn parse_atom(text: &str) -> Result<(Atom, bool), String> {
    let t = text.trim();
    let (negated, t) = match t.strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, t),
    };
    let open = t
        .find('(')
        .ok_or_else(|| format!("`{text}` is not an atom `rel(X, Y)`"))?;
    let close = t
        .strip_suffix(')')
        .ok_or_else(|| format!("`{text}` does not end with `)`"))?;
    let rel = t[..open].trim();
    if rel.is_empty()
        || !rel
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!(
            "`{rel}` is not a relation name (lower case, digits, `_`)"
        ));
    }
    let inner = &close[open + 1..];
    let mut args = Vec::new();
    for a in inner.split(',') {
        let a = a.trim();
        if a == "_" {
            args.push(Term::Wild);
        } else if a.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            args.push(Term::Var(a.to_string()));
        } else {
            return Err(format!(
                "`{a}` in `{text}` is neither a variable (capitalised) nor `_`"
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for v in args.iter().filter_map(|t| match t {
        Term::Var(v) => Some(v),
        Term::Wild => None,
    }) {
        if !seen.insert(v) {
            return Err(format!("variable `{v}` appears twice in `{text}`"));
        }
    }
    Ok((
        Atom {
            rel: rel.to_string(),
            args,
        },
        negated,
    ))
}

/// Column kinds of derived relations, from the inputs their variables come from.
fn infer_columns(
    inputs: &[InputDecl],
    strata: &[Vec<Rule>],
) -> Result<BTreeMap<String, Vec<Column>>, String> {
    let mut cols: BTreeMap<String, Vec<Column>> = inputs
        .iter()
        .map(|i| (i.name.clone(), i.columns.clone()))
        .collect();
    let rules: Vec<&Rule> = strata.iter().flatten().collect();
    loop {
        let mut changed = false;
        for r in &rules {
            if cols.contains_key(&r.head.rel) {
                continue;
            }
            let kind_of = |v: &str| {
                r.body.iter().find_map(|a| {
                    let c = cols.get(&a.rel)?;
                    a.args
                        .iter()
                        .position(|t| matches!(t, Term::Var(x) if x == v))
                        .and_then(|i| c.get(i).copied())
                })
            };
            let kinds: Option<Vec<Column>> = r.head.vars().map(kind_of).collect();
            if let Some(k) = kinds {
                cols.insert(r.head.rel.clone(), k);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for r in &rules {
        let Some(c) = cols.get(&r.head.rel) else {
            return Err(format!(
                "rule `{}`: cannot tell which columns of `{}` are bindings and which are points",
                r.id, r.head.rel
            ));
        };
        for a in std::iter::once(&r.head).chain(&r.body).chain(&r.neg) {
            if let Some(ac) = cols.get(&a.rel) {
                for (i, t) in a.args.iter().enumerate() {
                    if let Term::Var(v) = t {
                        let other = r.body.iter().chain(std::iter::once(&r.head)).find_map(|b| {
                            let bc = cols.get(&b.rel)?;
                            b.args
                                .iter()
                                .position(|x| matches!(x, Term::Var(y) if y == v))
                                .and_then(|j| bc.get(j))
                        });
                        if let Some(o) = other.filter(|o| Some(*o) != ac.get(i)).map(Some) {
                            return Err(format!(
                                "rule `{}`: variable `{v}` is used both as a {:?} and as a {:?}",
                                r.id,
                                o.copied().unwrap_or(Column::Var),
                                ac.get(i).copied().unwrap_or(Column::Var)
                            ));
                        }
                    }
                }
            }
        }
        let _ = c;
    }
    Ok(cols)
}

/// Strata of rules, checked, with the arity and column kinds of every relation.
#[allow(clippy::type_complexity)]
fn compile_rules(
    inputs_decl: &[InputDecl],
    raw: &[Vec<RawRule>],
) -> Result<
    (
        Vec<Vec<Rule>>,
        BTreeMap<String, usize>,
        BTreeMap<String, Vec<Column>>,
        BTreeMap<String, usize>,
    ),
    String,
> {
    struct F<'a> {
        inputs: &'a [InputDecl],
        strata: &'a [Vec<RawRule>],
    }
    // Same names as the table file's fields, so the checks read as before.
    let f = F {
        inputs: inputs_decl,
        strata: raw,
    };
    let mut arity: BTreeMap<String, usize> = BTreeMap::new();
    for i in f.inputs {
        if arity.insert(i.name.clone(), i.columns.len()).is_some() {
            return Err(format!("input `{}` is declared twice", i.name));
        }
    }
    let inputs: BTreeSet<String> = f.inputs.iter().map(|i| i.name.clone()).collect();
    // Stratum in which each derived relation is defined.
    let mut defined_in: BTreeMap<String, usize> = BTreeMap::new();
    for (si, stratum) in f.strata.iter().enumerate() {
        for r in stratum {
            let (head, neg) = parse_atom(&r.head).map_err(|e| format!("rule `{}`: {e}", r.id))?;
            if neg {
                return Err(format!("rule `{}`: a head cannot be negated", r.id));
            }
            if inputs.contains(&head.rel) {
                return Err(format!(
                    "rule `{}` derives input relation `{}`",
                    r.id, head.rel
                ));
            }
            match defined_in.get(&head.rel) {
                Some(s) if *s != si => {
                    return Err(format!("relation `{}` is derived in two strata", head.rel));
                }
                _ => {
                    defined_in.insert(head.rel.clone(), si);
                }
            }
        }
    }
    let mut strata = Vec::new();
    for (si, stratum) in f.strata.iter().enumerate() {
        let mut rules = Vec::new();
        for r in stratum {
            let ctx = |e: String| format!("rule `{}`: {e}", r.id);
            let (head, _) = parse_atom(&r.head).map_err(ctx)?;
            if head.args.contains(&Term::Wild) {
                return Err(ctx("the head cannot contain `_`".into()));
            }
            let mut body = Vec::new();
            let mut neg = Vec::new();
            for b in &r.body {
                let (a, negated) = parse_atom(b).map_err(ctx)?;
                let known = inputs.contains(&a.rel) || defined_in.contains_key(&a.rel);
                if !known {
                    return Err(ctx(format!(
                        "relation `{}` is neither an input nor derived",
                        a.rel
                    )));
                }
                let stratum_of = defined_in.get(&a.rel).copied();
                if negated {
                    if stratum_of.is_some_and(|s| s >= si) {
                        return Err(ctx(format!(
                            "`!{}` negates a relation of this or a later stratum",
                            a.rel
                        )));
                    }
                    neg.push(a);
                } else {
                    if stratum_of.is_some_and(|s| s > si) {
                        return Err(ctx(format!("`{}` is derived in a later stratum", a.rel)));
                    }
                    body.push(a);
                }
            }
            if body.is_empty() {
                return Err(ctx("a rule needs at least one positive premise".into()));
            }
            let bound: BTreeSet<&str> = body.iter().flat_map(|a| a.vars()).collect();
            if bound.len() > MAX_COLUMNS {
                return Err(ctx(format!(
                    "the rule binds {} variables; the engine evaluates rules of at most {MAX_COLUMNS}",
                    bound.len()
                )));
            }
            for v in head.vars().chain(neg.iter().flat_map(|a| a.vars())) {
                if !bound.contains(v) {
                    return Err(ctx(format!(
                        "variable `{v}` is not bound by a positive premise"
                    )));
                }
            }
            for a in std::iter::once(&head).chain(&body).chain(&neg) {
                match arity.get(&a.rel) {
                    Some(n) if *n != a.args.len() => {
                        return Err(ctx(format!(
                            "`{}` has {} columns here and {n} elsewhere",
                            a.rel,
                            a.args.len()
                        )));
                    }
                    Some(_) => {}
                    None => {
                        arity.insert(a.rel.clone(), a.args.len());
                    }
                }
            }
            let mut source = format!(
                "{} :- {}",
                r.head.trim(),
                r.body
                    .iter()
                    .map(|b| b.trim())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            source.push('.');
            rules.push(Rule {
                id: r.id.clone(),
                cite: r.cite.clone(),
                head,
                body,
                neg,
                source,
            });
        }
        strata.push(rules);
    }
    let columns = infer_columns(f.inputs, &strata)?;
    Ok((strata, arity, columns, defined_in))
}

/// 10-admission.ron: whole-program admissibility as datalog (§7.4, §8.6,
/// §10). The engine lowers the program into the inputs; each violation
/// relation becomes an admission stop.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionFile {
    pub inputs: Vec<InputDecl>,
    pub strata: Vec<Vec<RawRule>>,
    /// In order of precedence: the first relation with a tuple decides.
    /// `{N}` in a message names the entity in column N; labels name
    /// columns whose entity has a span.
    pub violations: Vec<Violation>,
}

#[derive(Clone, Debug)]
pub struct Admission {
    pub inputs: Vec<InputDecl>,
    pub strata: Vec<Vec<Rule>>,
    pub violations: Vec<Violation>,
    pub arity: BTreeMap<String, usize>,
    pub columns: BTreeMap<String, Vec<Column>>,
}

impl Admission {
    pub fn from_file(f: AdmissionFile) -> Result<Admission, String> {
        check_inputs(&f.inputs, ADMISSION_INPUTS)?;
        let (strata, arity, columns, defined_in) = compile_rules(&f.inputs, &f.strata)?;
        for (name, cols) in ADMISSION_DERIVED {
            match columns.get(*name) {
                Some(c) if defined_in.contains_key(*name) && c.as_slice() == *cols => {}
                _ => {
                    return Err(format!(
                        "the engine reads derived relation `{name}` with columns {cols:?}; no rule derives it so"
                    ))
                }
            }
        }
        for v in &f.violations {
            if !defined_in.contains_key(&v.relation) {
                return Err(format!(
                    "violation `{}` is not a derived relation",
                    v.relation
                ));
            }
            let cols = &columns[&v.relation];
            if cols.first() != Some(&Column::Proc) {
                return Err(format!(
                    "violation `{}`: column 0 must be the process the verdict is about",
                    v.relation
                ));
            }
            if v.labels.is_empty() || v.labels.iter().any(|(c, _)| *c >= cols.len()) {
                return Err(format!(
                    "violation `{}` needs labels naming its columns (0..{})",
                    v.relation,
                    cols.len()
                ));
            }
        }
        Ok(Admission {
            inputs: f.inputs,
            strata,
            violations: f.violations,
            arity,
            columns,
        })
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.strata.iter().flatten()
    }
}

impl Linearity {
    pub fn from_file(f: LinearityFile) -> Result<Linearity, String> {
        check_inputs(&f.inputs, LINEARITY_INPUTS)?;
        let (strata, arity, columns, defined_in) = compile_rules(&f.inputs, &f.strata)?;
        if columns.get(lin::CONSUMING).map(Vec::as_slice) != Some(&[Column::Var, Column::Point][..])
            || !defined_in.contains_key(lin::CONSUMING)
        {
            return Err(format!(
                "the engine reads derived relation `{}(Var, Point)`; no rule derives it so",
                lin::CONSUMING
            ));
        }
        for v in &f.violations {
            let Some(cols) = defined_in
                .contains_key(&v.relation)
                .then(|| &columns[&v.relation])
            else {
                return Err(format!(
                    "violation `{}` is not a derived relation",
                    v.relation
                ));
            };
            if cols.first() != Some(&Column::Var) {
                return Err(format!(
                    "violation `{}`: column 0 must be a binding",
                    v.relation
                ));
            }
            if v.labels.is_empty()
                || v.labels
                    .iter()
                    .any(|(c, _)| cols.get(*c) != Some(&Column::Point))
            {
                return Err(format!(
                    "violation `{}` needs labels naming point columns",
                    v.relation
                ));
            }
        }
        for i in &f.intrinsics {
            if let Some(flow) = &i.flow {
                let ok = f
                    .inputs
                    .iter()
                    .any(|d| &d.name == flow && d.columns == [Column::Var, Column::Point]);
                if !ok {
                    return Err(format!(
                        "intrinsic `{}` flows into `{flow}`, which is not an input (Var, Point)",
                        i.name
                    ));
                }
            }
        }
        Ok(Linearity {
            inputs: f.inputs,
            strata,
            violations: f.violations,
            intrinsics: f.intrinsics,
            resource_types: f.resource_types,
            arity,
            columns,
        })
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.strata.iter().flatten()
    }

    pub fn intrinsic(&self, name: &str) -> Option<&Intrinsic> {
        self.intrinsics.iter().find(|i| i.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The relations the engine emits fit its tuples (`MAX_COLUMNS`).
    #[test]
    fn the_engines_relations_fit_its_tuples() {
        for (rel, cols) in LINEARITY_INPUTS
            .iter()
            .chain(ADMISSION_INPUTS)
            .chain(ADMISSION_DERIVED)
        {
            assert!(cols.len() <= MAX_COLUMNS, "{rel}");
        }
    }

    #[test]
    fn atoms_parse_and_reject_bad_forms() {
        let (a, n) = parse_atom("!use(V, _)").unwrap();
        assert!(n);
        assert_eq!(a.rel, "use");
        assert_eq!(a.args, vec![Term::Var("V".into()), Term::Wild]);
        assert!(parse_atom("use(v, P)").is_err());
        assert!(parse_atom("use(V, V)").is_err());
        assert!(parse_atom("Use(V)").is_err());
        assert!(parse_atom("use V").is_err());
    }
}
