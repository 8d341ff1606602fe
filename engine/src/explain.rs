//! `dustrun explain FILE`: which rule admitted or rejected each process,
//! binding, clause, resource and constraint of a run, as data (JSON, schema
//! in docs/explain-schema.md) and rendered for people (human) and Graphviz
//! (DOT). Built from what validation, evaluation and admission decided; never
//! recomputes a verdict.

use crate::admit::{self, Gate, Record};
use crate::datalog;
use crate::validate::Compiled;
use crate::Source;
use dir_grammar::model::*;
use dir_grammar::print::expr_to_string;
use dir_grammar::Span;
use semantics::datalog::lin;
use semantics::Tables;
use serde::Serialize;
use std::collections::BTreeMap;

pub const EXPLAIN_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    pub entry: String,
    pub procs: Vec<ProcX>,
    pub calls: Vec<CallX>,
    pub bindings: Vec<BindX>,
    /// Input facts of the admission rules, with why they hold.
    pub facts: Vec<String>,
    /// Derived facts with the rule and premises that derived them.
    pub derived: Vec<DerivedX>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProcX {
    pub name: String,
    pub regime: String,
    pub at: String,
    pub reached: bool,
    /// Declared cost under the time model (µs), Φ: 0.
    pub cost_us: u64,
    pub verdict: String,
    pub rule: Option<String>,
    pub constraints: Vec<ConstraintX>,
    pub uses: Vec<UseX>,
    /// Q processes: how each linear value is consumed (04-q-linearity.ron).
    pub linearity: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConstraintX {
    pub predicate: String,
    pub at: String,
    /// `holds`, `false`, or `not evaluated` (the run stopped first, or the
    /// process was not executed: Φ gates decide by resolution instead).
    pub verdict: String,
    pub rule: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct UseX {
    pub resource: String,
    pub at: String,
    pub available: bool,
    pub why: String,
    pub rule: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallX {
    pub from: String,
    pub to: String,
    /// The first call site.
    pub at: String,
    /// How many call sites of `to` `from` has.
    pub sites: usize,
    /// Bindings the call crosses (indices into `bindings`).
    pub crosses: Vec<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BindX {
    pub binding: String,
    pub source: String,
    pub target: String,
    pub at: String,
    pub target_reached: bool,
    pub clauses: Vec<ClauseX>,
    /// Φ sources: the gate's existence question, when the run reaches the target.
    pub gate: Option<GateX>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClauseX {
    pub clause: String,
    pub at: String,
    /// `holds`, `violated`, or `unchecked` (not a standard attribute).
    pub verdict: String,
    pub why: String,
    pub rule: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct GateX {
    /// `admissible`, `non-existent` or `undetermined`.
    pub verdict: String,
    pub rule: String,
    pub witness: Option<String>,
    pub minimal_set: Vec<String>,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DerivedX {
    pub fact: String,
    pub rule: String,
    pub cite: String,
    pub premises: Vec<String>,
}

/// `file:line:column` of spans in one input, through a line index built once.
struct Locator<'a> {
    name: &'a str,
    index: dir_grammar::span::LineIndex<'a>,
}

impl Locator<'_> {
    fn at(&self, span: Span) -> String {
        let (line, col) = self.index.line_col(span.start());
        format!("{}:{line}:{col}", self.name)
    }
}

pub(crate) fn build(
    tables: &Tables,
    src: &Source<'_>,
    c: &Compiled<'_>,
    entry: usize,
    rec: &Record,
    log: &[(usize, Span, bool)],
) -> Explanation {
    // The valid UTF-8 prefix, as traces locate spans.
    let text = match std::str::from_utf8(src.bytes) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&src.bytes[..e.valid_up_to()]).unwrap_or(""),
    };
    let loc = Locator {
        name: src.name,
        index: dir_grammar::span::LineIndex::new(text),
    };
    let at = |s: Span| loc.at(s);
    let mut procs = Vec::new();
    for (pi, p) in c.procs.iter().enumerate() {
        let reached = rec.reached.contains(&pi);
        let (verdict, rule) = match rec.verdicts.get(&pi) {
            Some((v, r)) => (v.clone(), Some(r.clone())),
            None => ("not reached".to_string(), None),
        };
        let exit_rule = &tables
            .steps(crate::validate::regime_of(p.proc.regime))
            .1
            .exit
            .id;
        let constraints = p
            .proc
            .body
            .iter()
            .filter_map(|s| match &s.kind {
                StmtKind::Constrain { predicate } => Some(c.program.expr(*predicate)),
                _ => None,
            })
            .map(|pred| {
                // A process may be evaluated several times: false if any
                // evaluation found it false.
                let mut held: Option<bool> = None;
                for (_, _, h) in log
                    .iter()
                    .filter(|(q, sp, _)| *q == pi && *sp == pred.span())
                {
                    held = Some(held.unwrap_or(true) && *h);
                }
                ConstraintX {
                    predicate: expr_to_string(pred),
                    at: at(pred.span()),
                    verdict: match held {
                        Some(true) => "holds".into(),
                        Some(false) => "false".into(),
                        None => "not evaluated".into(),
                    },
                    rule: match held {
                        Some(false) => crate::registry::ADM_CONSTRAINT.into(),
                        _ => exit_rule.clone(),
                    },
                }
            })
            .collect();
        let uses = p
            .proc
            .uses
            .iter()
            .enumerate()
            .map(|(ui, u)| {
                let (ok, why, rule) = rec.uses.get(&(pi, ui)).cloned().unwrap_or((
                    false,
                    String::new(),
                    String::new(),
                ));
                UseX {
                    resource: admit::uses_text(u),
                    at: at(u.span),
                    available: ok,
                    why,
                    rule,
                }
            })
            .collect();
        let linearity = if p.proc.regime == Regime::Q && reached {
            linearity_view(tables, &loc, c, pi)
        } else {
            Vec::new()
        };
        procs.push(ProcX {
            name: p.qname.to_string(),
            regime: p.proc.regime.symbol().into(),
            at: at(p.proc.name.span),
            reached,
            cost_us: rec.cost.get(pi).copied().unwrap_or(0),
            verdict,
            rule,
            constraints,
            uses,
            linearity,
        });
    }
    // One entry per caller and callee (the first call site, and how many),
    // so the output stays proportional to the program.
    let mut calls: Vec<CallX> = Vec::new();
    let mut index: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for (pi, p) in c.procs.iter().enumerate() {
        for s in c.sites.of(pi) {
            if let Some(k) = index.get(&(pi, s.callee)) {
                calls[*k].sites += 1;
                continue;
            }
            index.insert((pi, s.callee), calls.len());
            calls.push(CallX {
                from: p.qname.to_string(),
                to: c.procs[s.callee].qname.to_string(),
                at: at(s.span),
                sites: 1,
                crosses: c.binds_between(pi, s.callee).collect(),
            });
        }
    }
    let bindings = c
        .binds
        .iter()
        .enumerate()
        .map(|(k, b)| {
            let clauses = b
                .bind
                .contract
                .iter()
                .enumerate()
                .map(|(i, cl)| {
                    let (v, why, rule) = rec.clauses.get(&(k, i)).cloned().unwrap_or_default();
                    ClauseX {
                        clause: admit::clause_text(cl),
                        at: at(cl.span),
                        verdict: v,
                        why,
                        rule,
                    }
                })
                .collect();
            // The verdict and rule are the admission rules' (chains of Φ
            // gates included); the details come from the gate's own question.
            let gate = rec
                .gates
                .get(&b.source)
                .filter(|_| rec.reached.contains(&b.target))
                .map(|g| {
                    let (word, rule) = rec.gate_status.get(&b.source).cloned().unwrap_or_default();
                    let verdict = word.trim_start_matches("Φ gate: ").to_string();
                    let (witness, minimal_set, reason) = match g {
                        Gate::Exists { witness } => (
                            Some(witness.clone()),
                            Vec::new(),
                            (verdict != "admissible").then(|| {
                                "its own question has a solution, but a Φ process gating it is not admissible".to_string()
                            }),
                        ),
                        Gate::NonExistent { mus } => (
                            None,
                            mus.iter().map(|(s, t)| format!("{t} ({})", at(*s))).collect(),
                            None,
                        ),
                        Gate::Undetermined(r) => (None, Vec::new(), Some(r.clone())),
                    };
                    GateX {
                        verdict,
                        rule,
                        witness,
                        minimal_set,
                        reason,
                    }
                });
            BindX {
                binding: admit::bind_text(c, k),
                source: c.procs[b.source].qname.to_string(),
                target: c.procs[b.target].qname.to_string(),
                at: at(b.bind.span),
                target_reached: rec.reached.contains(&b.target),
                clauses,
                gate,
            }
        })
        .collect();
    Explanation {
        entry: c.procs[entry].qname.to_string(),
        procs,
        calls,
        bindings,
        facts: rec.facts.clone(),
        derived: rec
            .derived
            .iter()
            .map(|d| DerivedX {
                fact: d.fact.clone(),
                rule: d.rule.clone(),
                cite: d.cite.clone(),
                premises: d.premises.clone(),
            })
            .collect(),
    }
}

/// Q linearity as derived facts: for each linear value, where it is bound
/// and the rule that found its consumption.
fn linearity_view(tables: &Tables, loc: &Locator<'_>, c: &Compiled<'_>, pi: usize) -> Vec<String> {
    let lin = &tables.linearity;
    let lowered = crate::linearity::lower(lin, c, pi, &c.procs[pi].env, None);
    let budget = crate::linearity::budget(tables, &lowered.facts);
    let Ok((db, _)) = datalog::eval(&lin.strata, &lowered.facts, budget) else {
        return vec!["linearity analysis budget exhausted".into()];
    };
    let point = |p: u32| {
        lowered
            .points
            .get(p as usize)
            .map(|s| loc.at(*s))
            .unwrap_or_default()
    };
    // Facts by value, gathered once (searched per value, a process of
    // 80 000 values was quadratic); relations iterate in tuple order, so
    // the first definition kept is the earliest.
    let mut defs: BTreeMap<u32, u32> = BTreeMap::new();
    for t in db.get(lin::DEF).into_iter().flatten() {
        defs.entry(t[0]).or_insert(t[1]);
    }
    let mut consuming: BTreeMap<u32, Vec<&datalog::Tuple>> = BTreeMap::new();
    for t in db.get(lin::CONSUMING).into_iter().flatten() {
        consuming.entry(t[0]).or_default().push(t);
    }
    let der = datalog::Deriver::new(&db, None);
    let mut out = Vec::new();
    for (v, name) in lowered.vars.iter().enumerate() {
        let v = v as u32;
        let def = defs.get(&v).map(|p| point(*p)).unwrap_or_default();
        let linear = db.get(lin::LINEAR).is_some_and(|r| r.contains(&[v][..]));
        let uses: Vec<String> = consuming
            .get(&v)
            .into_iter()
            .flatten()
            .map(|t| {
                let rule = lin
                    .rules()
                    .filter(|r| r.head.rel == lin::CONSUMING)
                    .find(|r| der.derivation(r, t).is_some())
                    .map(|r| r.id.clone())
                    .unwrap_or_default();
                format!("consumed at {} ({rule})", point(t[1]))
            })
            .collect();
        let what = if linear { "linear" } else { "unit, exempt" };
        out.push(if uses.is_empty() {
            format!("{name} ({what}): bound at {def}, not consumed")
        } else {
            format!("{name} ({what}): bound at {def}, {}", uses.join(", "))
        });
    }
    out
}

/// The derivation for people.
pub fn human(x: &Explanation) -> String {
    let mut s = String::new();
    let mut w = |line: String| {
        s.push_str(&line);
        s.push('\n');
    };
    w(format!("entry: {}", x.entry));
    w(String::new());
    w("processes:".into());
    for p in &x.procs {
        let rule = p
            .rule
            .as_deref()
            .map(|r| format!(" by {r}"))
            .unwrap_or_default();
        w(format!(
            "  {} [{}] at {}: {}{rule}; declared cost {} us",
            p.name, p.regime, p.at, p.verdict, p.cost_us
        ));
        for c in &p.constraints {
            w(format!(
                "    constrain {}  — {} ({}) at {}",
                c.predicate, c.verdict, c.rule, c.at
            ));
        }
        for u in &p.uses {
            w(format!(
                "    uses {}  — {} by {}: {}",
                u.resource,
                if u.available {
                    "available"
                } else {
                    "not available"
                },
                u.rule,
                u.why
            ));
        }
        for l in &p.linearity {
            w(format!("    linearity: {l}"));
        }
    }
    if !x.calls.is_empty() {
        w(String::new());
        w("calls:".into());
        for c in &x.calls {
            let via = if c.crosses.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = c
                    .crosses
                    .iter()
                    .filter_map(|k| x.bindings.get(*k).map(|b| b.binding.as_str()))
                    .collect();
                format!(" across {}", names.join(", "))
            };
            let more = if c.sites > 1 {
                format!(" ({} call sites)", c.sites)
            } else {
                String::new()
            };
            w(format!("  {} -> {} at {}{more}{via}", c.from, c.to, c.at));
        }
    }
    if !x.bindings.is_empty() {
        w(String::new());
        w("bindings:".into());
        for b in &x.bindings {
            w(format!(
                "  bind {} at {} (target {})",
                b.binding,
                b.at,
                if b.target_reached {
                    "reached"
                } else {
                    "not reached"
                }
            ));
            if let Some(g) = &b.gate {
                let detail = match (&g.witness, g.minimal_set.is_empty(), &g.reason) {
                    (Some(wit), _, Some(r)) => format!("{r} (its own witness: {wit})"),
                    (Some(wit), _, _) => format!("witness {wit}"),
                    (_, false, _) => {
                        format!("minimal inadmissible set: {}", g.minimal_set.join(", "))
                    }
                    (_, _, Some(r)) => r.clone(),
                    _ => String::new(),
                };
                w(format!("    gate: {} by {}; {detail}", g.verdict, g.rule));
            }
            for c in &b.clauses {
                w(format!(
                    "    {}  — {} by {}: {} ({})",
                    c.clause, c.verdict, c.rule, c.why, c.at
                ));
            }
        }
    }
    if !x.derived.is_empty() {
        w(String::new());
        w("derivation (10-admission.ron):".into());
        for d in &x.derived {
            w(format!(
                "  {}  by {} {} :- {}",
                d.fact,
                d.rule,
                d.cite,
                d.premises.join(", ")
            ));
        }
    }
    if !x.facts.is_empty() {
        w(String::new());
        w("input facts:".into());
        for f in &x.facts {
            w(format!("  {f}"));
        }
    }
    s
}

fn dot_id(s: &str) -> String {
    // A DOT quoted ID: only `"` and `\` need escaping.
    let mut o = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' | '\\' => {
                o.push('\\');
                o.push(ch);
            }
            // Graphviz's centred line break inside a label.
            '\n' => o.push_str("\\n"),
            _ => o.push(ch),
        }
    }
    o.push('"');
    o
}

/// The admissibility graph for Graphviz: processes as nodes (verdict in the
/// label), calls as solid edges, bindings as dashed edges labelled with
/// their clauses' verdicts.
pub fn dot(x: &Explanation, outcome: &str) -> String {
    let mut s = String::from("digraph admissibility {\n");
    s.push_str("  rankdir=LR;\n");
    s.push_str(&format!(
        "  label={};\n",
        dot_id(&format!("{}: {outcome}", x.entry))
    ));
    s.push_str("  node [shape=box];\n");
    for p in &x.procs {
        let rule = p.rule.as_deref().unwrap_or("");
        let style = if p.verdict.starts_with("inadmissible")
            || p.verdict.starts_with("refused")
            || p.verdict.contains("non-existent")
        {
            ", color=red"
        } else if p.reached {
            ", style=bold"
        } else {
            ", style=dashed"
        };
        s.push_str(&format!(
            "  {} [label={}{style}];\n",
            dot_id(&p.name),
            dot_id(&format!(
                "{}\n{} {rule}\ncost {} us",
                p.name, p.verdict, p.cost_us
            ))
        ));
    }
    for c in &x.calls {
        s.push_str(&format!(
            "  {} -> {} [label=\"call\"];\n",
            dot_id(&c.from),
            dot_id(&c.to)
        ));
    }
    for b in &x.bindings {
        let mut parts: Vec<String> = b
            .clauses
            .iter()
            .map(|c| format!("{}: {}", c.clause, c.verdict))
            .collect();
        if let Some(g) = &b.gate {
            parts.insert(0, format!("gate: {}", g.verdict));
        }
        let bad = b.clauses.iter().any(|c| c.verdict == "violated")
            || b.gate.as_ref().is_some_and(|g| g.verdict != "admissible");
        s.push_str(&format!(
            "  {} -> {} [style=dashed, label={}{}];\n",
            dot_id(&b.source),
            dot_id(&b.target),
            dot_id(&format!("bind\n{}", parts.join("\n"))),
            if bad { ", color=red" } else { "" }
        ));
    }
    s.push_str("}\n");
    s
}
