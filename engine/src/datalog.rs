//! Evaluation of the datalog rules in `semantics` (04-q-linearity.ron) with
//! datafrog, stratum by stratum. A naive evaluator computes the same fixed
//! point the obvious way (a test checks they agree) and finds derivations.

use datafrog::{Iteration, Relation, Variable};
use semantics::datalog::{Atom, Rule, Term};
use std::collections::{BTreeMap, BTreeSet};

/// A fact's columns, or a rule's partial match: at most
/// `semantics::datalog::MAX_COLUMNS` (tables that need more are refused
/// when they load), kept inline in a fixed width so that tuples compare,
/// sort and copy as plain words. (As a `SmallVec`, each comparison of the
/// sorts and joins called `memcmp`: 15 million calls checking a program of
/// 100 000 processes.) Unused columns are zero, so that the derived order
/// (columns, then length) is the order of the columns as a slice.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tuple {
    cols: [u32; MAX_COLUMNS],
    len: u8,
}

use semantics::datalog::MAX_COLUMNS;

impl Tuple {
    /// A tuple of the given columns.
    pub fn of<const N: usize>(cols: [u32; N]) -> Tuple {
        const { assert!(N <= MAX_COLUMNS) };
        Tuple::from_slice(&cols)
    }

    /// A tuple of `cols`, which the tables' checks keep within
    /// `MAX_COLUMNS`.
    pub fn from_slice(cols: &[u32]) -> Tuple {
        let mut t = Tuple::default();
        t.extend_from_slice(cols);
        t
    }

    /// Appends columns. A rule's match never outgrows `MAX_COLUMNS`
    /// (checked when the tables load): a debug build asserts it; a release
    /// build would drop the columns past it rather than write out of
    /// bounds.
    pub fn extend_from_slice(&mut self, cols: &[u32]) {
        debug_assert!(self.len as usize + cols.len() <= MAX_COLUMNS);
        for c in cols {
            if let Some(slot) = self.cols.get_mut(self.len as usize) {
                *slot = *c;
                self.len += 1;
            }
        }
    }
}

impl std::ops::Deref for Tuple {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        &self.cols[..self.len as usize]
    }
}

/// Sets of tuples are searched by a slice of columns: equality, order and
/// hash are those of the slice (unused columns are zero, and a shorter
/// tuple is less, as a prefix).
impl std::borrow::Borrow<[u32]> for Tuple {
    fn borrow(&self) -> &[u32] {
        self
    }
}

impl std::hash::Hash for Tuple {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (**self).hash(h);
    }
}

impl<'a> IntoIterator for &'a Tuple {
    type Item = &'a u32;
    type IntoIter = std::slice::Iter<'a, u32>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<u32> for Tuple {
    fn from_iter<I: IntoIterator<Item = u32>>(it: I) -> Tuple {
        let mut t = Tuple::default();
        for c in it {
            t.extend_from_slice(&[c]);
        }
        t
    }
}

impl std::fmt::Debug for Tuple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
/// Every relation by name, as sorted sets of tuples.
pub type Db = BTreeMap<String, BTreeSet<Tuple>>;

/// Adds a fact; the relation's name is copied only when it is new (input
/// facts come in the millions for a large program). Whether it was new.
#[cfg(test)]
pub fn insert(db: &mut Db, rel: &str, t: Tuple) -> bool {
    match db.get_mut(rel) {
        Some(facts) => facts.insert(t),
        None => {
            db.insert(rel.to_string(), BTreeSet::from([t]));
            true
        }
    }
}

/// Input facts gathered before an evaluation: appended per relation and
/// made sets at once (`into_db`), which is cheaper than inserting each
/// into a tree, one search each: the facts of a program of 100 000
/// processes come in the hundreds of thousands.
///
/// Facts come in runs of one relation: the last relation asked for is
/// tried first, so a run does not search the relations' names (ordered,
/// a string comparison at each level) fact after fact.
#[derive(Default)]
pub struct Facts {
    rels: Vec<(String, Vec<Tuple>)>,
    /// The relation asked for last.
    last: usize,
}

impl Facts {
    /// The index of `rel`, made if new.
    fn index(&mut self, rel: &str) -> usize {
        if self.rels.get(self.last).is_some_and(|(r, _)| r == rel) {
            return self.last;
        }
        self.last = match self.rels.iter().position(|(r, _)| r == rel) {
            Some(i) => i,
            None => {
                self.rels.push((rel.to_string(), Vec::new()));
                self.rels.len() - 1
            }
        };
        self.last
    }

    /// Makes sure `rel` exists, if empty.
    pub fn relation(&mut self, rel: &str) {
        self.index(rel);
    }

    /// Adds a fact (a repeated one counts once); the relation's name is
    /// copied only when it is new.
    pub fn insert(&mut self, rel: &str, t: Tuple) {
        let i = self.index(rel);
        self.rels[i].1.push(t);
    }

    pub fn into_db(self) -> Db {
        self.rels
            .into_iter()
            .map(|(rel, facts)| (rel, facts.into_iter().collect()))
            .collect()
    }
}

fn positions(atom: &Atom, vars: &[String]) -> Vec<usize> {
    // For each variable in `vars`, the column of `atom` holding it.
    vars.iter()
        .map(|v| {
            atom.args
                .iter()
                .position(|t| matches!(t, Term::Var(x) if x == v))
                .unwrap_or(0)
        })
        .collect()
}

fn pick(t: &[u32], cols: &[usize]) -> Tuple {
    cols.iter().map(|c| t[*c]).collect()
}

enum Op {
    /// `out := map(input)`.
    Map {
        input: Variable<Tuple>,
        out: Variable<Tuple>,
        cols: Vec<usize>,
        /// Set when the map meets a tuple: a rule of one premise maps it
        /// straight into the head, and this says it fired.
        met: Option<std::rc::Rc<std::cell::Cell<bool>>>,
    },
    /// Re-key `cur`, then join it with the atom's relation, keyed.
    Join {
        left: Variable<(Tuple, Tuple)>,
        right: Right,
        cur: Variable<Tuple>,
        out: Variable<Tuple>,
        left_key: Vec<usize>,
        /// For a rule's first join, `cur` is the first premise's relation
        /// itself, and these are its columns that bind the rule's
        /// variables (the premise is not copied into a variable first).
        first: Option<Vec<usize>>,
    },
    /// Drop bindings whose projection is in a complete relation.
    Anti {
        keyed: Variable<(Tuple, Tuple)>,
        cur: Variable<Tuple>,
        out: Variable<Tuple>,
        rel: Relation<Tuple>,
        key: Vec<usize>,
    },
}

/// The relation of a join's atom, keyed on the columns it shares with
/// the partial match.
enum Right {
    /// A relation this stratum derives: re-keyed as it grows.
    Derived {
        right: Variable<(Tuple, Tuple)>,
        rel: Variable<Tuple>,
        right_key: Vec<usize>,
        right_new: Vec<usize>,
    },
    /// An input, or a relation of an earlier stratum: complete before the
    /// stratum starts, so keyed once, and shared by every join that keys
    /// it the same way (a `Variable` would hold another copy of it, and
    /// each rule's join its own keyed copy).
    Fixed(Keyed),
}

/// Whether a rule derived anything: its body's last variable has tuples,
/// or its one premise's map met one.
enum Fired {
    Body(Variable<Tuple>),
    Met(std::rc::Rc<std::cell::Cell<bool>>),
}

/// A fixed relation keyed for joins, shared by the joins that key it alike.
type Keyed = std::rc::Rc<Relation<(Tuple, Tuple)>>;

/// Pairs a join of two sorted keyed batches produces (counted by a merge
/// over the keys, without producing them).
fn pairs(a: &[(Tuple, Tuple)], b: &[(Tuple, Tuple)]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                let key = &a[i].0;
                let ra = a[i..].iter().take_while(|t| &t.0 == key).count();
                let rb = b[j..].iter().take_while(|t| &t.0 == key).count();
                n = n.saturating_add(ra.saturating_mul(rb));
                i += ra;
                j += rb;
            }
        }
    }
    n
}

/// What datafrog's join of two variables will produce this round: recent
/// with stable, stable with recent, recent with recent.
fn join_size(left: &Variable<(Tuple, Tuple)>, right: &Variable<(Tuple, Tuple)>) -> usize {
    let (lr, rr) = (left.recent.borrow(), right.recent.borrow());
    let mut n = pairs(&lr.elements, &rr.elements);
    for b in right.stable.borrow().iter() {
        n = n.saturating_add(pairs(&lr.elements, &b.elements));
    }
    for a in left.stable.borrow().iter() {
        n = n.saturating_add(pairs(&a.elements, &rr.elements));
    }
    n
}

impl Op {
    /// Run the operation; `room` is how many tuples the budget still
    /// allows. A join that would produce more is refused before it is
    /// materialised (a cross product must not exhaust memory first).
    fn apply(&self, room: usize) -> Result<(), usize> {
        match self {
            Op::Map {
                input,
                out,
                cols,
                met,
            } => out.from_map(input, |t| {
                if let Some(m) = met {
                    m.set(true);
                }
                pick(t, cols)
            }),
            Op::Join {
                left,
                right,
                cur,
                out,
                left_key,
                first,
            } => {
                match first {
                    Some(cols) => left.from_map(cur, |t| {
                        let v = pick(t, cols);
                        (pick(&v, left_key), v)
                    }),
                    None => left.from_map(cur, |t| (pick(t, left_key), *t)),
                }
                let join = |_: &Tuple, l: &Tuple, r: &Tuple| {
                    let mut v = *l;
                    v.extend_from_slice(r);
                    v
                };
                match right {
                    Right::Derived {
                        right,
                        rel,
                        right_key,
                        right_new,
                    } => {
                        right.from_map(rel, |t| (pick(t, right_key), pick(t, right_new)));
                        let n = join_size(left, right);
                        if n > room {
                            return Err(n);
                        }
                        out.from_join(left, right, join);
                    }
                    Right::Fixed(rel) => {
                        // What datafrog joins with a relation: the recent
                        // matches only (the stable ones met it before).
                        let n = pairs(&left.recent.borrow().elements, &rel.elements);
                        if n > room {
                            return Err(n);
                        }
                        out.from_join(left, &**rel, join);
                    }
                }
            }
            Op::Anti {
                keyed,
                cur,
                out,
                rel,
                key,
            } => {
                keyed.from_map(cur, |t| (pick(t, key), *t));
                out.from_antijoin(keyed, rel, |_, t| *t);
            }
        }
        Ok(())
    }
}

/// The evaluation derived more tuples than its budget allows.
#[derive(Debug)]
pub struct OverBudget {
    pub tuples: usize,
}

/// The fixed point of every stratum, with datafrog. Stops once the derived
/// tuples exceed `budget` (counted after each round, so deterministic).
/// Also returns the ids of the rules that derived something.
pub fn eval(
    strata: &[Vec<Rule>],
    facts: &Db,
    budget: usize,
) -> Result<(Db, BTreeSet<String>), OverBudget> {
    eval_ranked(strata, facts.clone(), budget, None)
}

/// The evaluation round in which each derived tuple first appeared (inputs
/// have rank 0): a derivation whose premises all rank lower is the one that
/// first derived the tuple.
#[derive(Clone, Debug, Default)]
pub struct Ranks(BTreeMap<String, BTreeMap<Tuple, u32>>);

impl Ranks {
    pub fn new() -> Ranks {
        Ranks::default()
    }

    /// The round `t` of `rel` first appeared in, if it was derived.
    pub fn get(&self, rel: &str, t: &Tuple) -> Option<u32> {
        self.0.get(rel).and_then(|m| m.get(t)).copied()
    }

    /// The tuples of one relation with their rounds (keyed by relation, so
    /// that a lookup copies no name: `explain` asks once per candidate).
    fn relation(&mut self, rel: &str) -> &mut BTreeMap<Tuple, u32> {
        self.0.entry(rel.to_string()).or_default()
    }
}

/// `eval`, also recording ranks when asked, on facts it may keep (the
/// derived relations are added to them: no copy of a large input).
pub fn eval_ranked(
    strata: &[Vec<Rule>],
    facts: Db,
    budget: usize,
    mut ranks: Option<&mut Ranks>,
) -> Result<(Db, BTreeSet<String>), OverBudget> {
    let mut db = facts;
    let mut fired = BTreeSet::new();
    let mut round: u32 = 0;
    for stratum in strata {
        let heads: BTreeSet<&str> = stratum.iter().map(|r| r.head.rel.as_str()).collect();
        // A rule with a premise that stays empty derives nothing, and no
        // copy of its other premises is made: a relation not derived here
        // without facts, or one derived here only by such rules. When no
        // rule of the stratum can derive, its heads are empty and no
        // evaluation is set up (a Q process with nothing linear in it cost
        // a dozen microseconds of setup per stratum).
        let mut live: BTreeSet<&str> = BTreeSet::new();
        let can_derive = |rule: &Rule, live: &BTreeSet<&str>| {
            rule.body.iter().all(|a| {
                if heads.contains(a.rel.as_str()) {
                    live.contains(a.rel.as_str())
                } else {
                    db.get(&a.rel).is_some_and(|r| !r.is_empty())
                }
            })
        };
        loop {
            let before = live.len();
            for rule in stratum {
                if can_derive(rule, &live) {
                    live.insert(rule.head.rel.as_str());
                }
            }
            if live.len() == before {
                break;
            }
        }
        let deriving: Vec<bool> = stratum.iter().map(|r| can_derive(r, &live)).collect();
        if live.is_empty() {
            for h in heads {
                db.entry(h.to_string()).or_default();
            }
            continue;
        }
        // What says whether each rule fired: its body's last variable, or
        // (a rule of one premise, mapped straight into its head) a flag.
        let mut rule_bodies: Vec<(String, Fired)> = Vec::new();
        let mut it = Iteration::new();
        // A variable for each relation derived here, and for each other
        // relation a rule starts from (filled with its facts); the others
        // are joined as keyed relations.
        let mut vars: BTreeMap<String, Variable<Tuple>> = BTreeMap::new();
        for h in &heads {
            vars.insert(h.to_string(), it.variable::<Tuple>(h));
        }
        let mut var_of = |it: &mut Iteration, rel: &str| -> Variable<Tuple> {
            vars.entry(rel.to_string())
                .or_insert_with(|| {
                    let v = it.variable::<Tuple>(rel);
                    v.extend(db.get(rel).into_iter().flatten().copied());
                    v
                })
                .clone()
        };
        let fixed = |rel: &str| !heads.contains(rel);
        let mut keyed: BTreeMap<(&str, Vec<usize>, Vec<usize>), Keyed> = BTreeMap::new();
        let mut ops = Vec::new();
        for (rule, deriving) in stratum.iter().zip(deriving) {
            if !deriving {
                continue;
            }
            let first = &rule.body[0];
            let mut bound: Vec<String> = first.vars().map(str::to_string).collect();
            if rule.body.len() == 1 && rule.neg.is_empty() {
                // One premise: its facts map straight into the head (a
                // copy of the premise in between held every fact again).
                let at = positions(first, &bound);
                let cols = rule
                    .head
                    .vars()
                    .map(|v| {
                        let i = bound.iter().position(|b| b == v).unwrap_or(0);
                        at.get(i).copied().unwrap_or(0)
                    })
                    .collect();
                let met = std::rc::Rc::new(std::cell::Cell::new(false));
                ops.push(Op::Map {
                    input: var_of(&mut it, &first.rel),
                    out: var_of(&mut it, &rule.head.rel),
                    cols,
                    met: Some(met.clone()),
                });
                rule_bodies.push((rule.id.clone(), Fired::Met(met)));
                continue;
            }
            // With joins, the first one reads the first premise itself;
            // without (negated premises only), its bindings are copied.
            let mut first_cols = None;
            let mut cur = if rule.body.len() > 1 {
                first_cols = Some(positions(first, &bound));
                var_of(&mut it, &first.rel)
            } else {
                let cur = it.variable::<Tuple>(&format!("{}#0", rule.id));
                ops.push(Op::Map {
                    input: var_of(&mut it, &first.rel),
                    out: cur.clone(),
                    cols: positions(first, &bound),
                    met: None,
                });
                cur
            };
            for (ai, atom) in rule.body.iter().enumerate().skip(1) {
                let shared: Vec<String> = bound
                    .iter()
                    .filter(|v| atom.vars().any(|x| x == v.as_str()))
                    .cloned()
                    .collect();
                let new: Vec<String> = atom
                    .vars()
                    .filter(|v| !bound.iter().any(|b| b == v))
                    .map(str::to_string)
                    .collect();
                let left_key = shared
                    .iter()
                    .map(|v| bound.iter().position(|b| b == v).unwrap_or(0))
                    .collect();
                let out = it.variable::<Tuple>(&format!("{}#{ai}", rule.id));
                let (right_key, right_new) = (positions(atom, &shared), positions(atom, &new));
                let right = if fixed(&atom.rel) {
                    let rel = keyed
                        .entry((atom.rel.as_str(), right_key, right_new))
                        .or_insert_with_key(|(rel, key, new)| {
                            std::rc::Rc::new(Relation::from_iter(
                                db.get(*rel)
                                    .into_iter()
                                    .flatten()
                                    .map(|t| (pick(t, key), pick(t, new))),
                            ))
                        });
                    Right::Fixed(rel.clone())
                } else {
                    Right::Derived {
                        right: it.variable(&format!("{}#{ai}r", rule.id)),
                        rel: var_of(&mut it, &atom.rel),
                        right_key,
                        right_new,
                    }
                };
                ops.push(Op::Join {
                    left: it.variable(&format!("{}#{ai}l", rule.id)),
                    right,
                    cur: cur.clone(),
                    out: out.clone(),
                    left_key,
                    first: first_cols.take(),
                });
                bound.extend(new);
                cur = out;
            }
            for (ni, atom) in rule.neg.iter().enumerate() {
                let cols: Vec<usize> = atom
                    .args
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| matches!(t, Term::Var(_)))
                    .map(|(i, _)| i)
                    .collect();
                let names: Vec<String> = atom.vars().map(str::to_string).collect();
                let rel = Relation::from_iter(
                    db.get(&atom.rel)
                        .into_iter()
                        .flatten()
                        .map(|t| pick(t, &cols)),
                );
                let out = it.variable::<Tuple>(&format!("{}!{ni}", rule.id));
                ops.push(Op::Anti {
                    keyed: it.variable(&format!("{}!{ni}k", rule.id)),
                    cur: cur.clone(),
                    out: out.clone(),
                    rel,
                    key: names
                        .iter()
                        .map(|v| bound.iter().position(|b| b == v).unwrap_or(0))
                        .collect(),
                });
                cur = out;
            }
            let head_cols = rule
                .head
                .vars()
                .map(|v| bound.iter().position(|b| b == v).unwrap_or(0))
                .collect();
            rule_bodies.push((rule.id.clone(), Fired::Body(cur.clone())));
            ops.push(Op::Map {
                input: cur,
                out: var_of(&mut it, &rule.head.rel),
                cols: head_cols,
                met: None,
            });
        }
        let heads_vars: Vec<Variable<Tuple>> = heads.iter().map(|h| vars[*h].clone()).collect();
        while it.changed() {
            let tuples: usize = heads_vars
                .iter()
                .map(|v| {
                    v.stable
                        .borrow()
                        .iter()
                        .map(|r| r.elements.len())
                        .sum::<usize>()
                        + v.recent.borrow().elements.len()
                })
                .sum();
            if tuples > budget {
                return Err(OverBudget { tuples });
            }
            round += 1;
            if let Some(r) = ranks.as_deref_mut() {
                for (name, v) in heads.iter().zip(&heads_vars) {
                    let rel = r.relation(name);
                    for t in v.recent.borrow().elements.iter() {
                        rel.entry(*t).or_insert(round);
                    }
                }
            }
            for op in &ops {
                if let Err(n) = op.apply(budget - tuples) {
                    return Err(OverBudget {
                        tuples: tuples.saturating_add(n),
                    });
                }
            }
        }
        drop(ops);
        for (id, f) in rule_bodies {
            let met = match f {
                Fired::Body(v) => v.stable.borrow().iter().any(|r| !r.elements.is_empty()),
                Fired::Met(m) => m.get(),
            };
            if met {
                fired.insert(id);
            }
        }
        for h in heads {
            if let Some(v) = vars.remove(h) {
                // Sorted and without repeats: built as a set at once, and
                // merged with (not inserted one by one into) any facts the
                // relation already has.
                let mut derived: BTreeSet<Tuple> = v.complete().elements.into_iter().collect();
                let set = db.entry(h.to_string()).or_default();
                if set.is_empty() {
                    *set = derived;
                } else {
                    set.append(&mut derived);
                }
            }
        }
    }
    Ok((db, fired))
}

/// Extend `b` so that `atom` matches tuple `t`: the variables it bound (to
/// undo with `unbind`), or None when it does not match (`b` unchanged).
fn bind_atom(atom: &Atom, t: &[u32], b: &mut BTreeMap<String, u32>) -> Option<Vec<String>> {
    let mut added = Vec::new();
    let ok = atom.args.iter().zip(t).all(|(a, x)| match a {
        Term::Wild => true,
        Term::Var(v) => match b.get(v) {
            Some(y) => y == x,
            None => {
                b.insert(v.clone(), *x);
                added.push(v.clone());
                true
            }
        },
    });
    if ok {
        Some(added)
    } else {
        unbind(b, added);
        None
    }
}

fn unbind(b: &mut BTreeMap<String, u32>, added: Vec<String>) {
    for v in added {
        b.remove(&v);
    }
}

/// Whether a negated premise of `rule` holds under `b` (blocking it).
fn blocked(rule: &Rule, db: &Db, b: &BTreeMap<String, u32>) -> bool {
    rule.neg.iter().any(|n| {
        db.get(&n.rel).into_iter().flatten().any(|t| {
            n.args.iter().zip(t).all(|(a, x)| match a {
                Term::Wild => true,
                Term::Var(v) => b.get(v) == Some(x),
            })
        })
    })
}

/// Bindings of a rule's variables that satisfy its body against `db`, in a
/// fixed order; `seed` pre-binds variables (e.g. from a head tuple).
fn solutions(
    rule: &Rule,
    db: &Db,
    seed: BTreeMap<String, u32>,
    limit: usize,
) -> Vec<BTreeMap<String, u32>> {
    fn go(
        atoms: &[Atom],
        rule: &Rule,
        db: &Db,
        b: &mut BTreeMap<String, u32>,
        out: &mut Vec<BTreeMap<String, u32>>,
        limit: usize,
    ) {
        if out.len() >= limit {
            return;
        }
        let Some((atom, rest)) = atoms.split_first() else {
            if !blocked(rule, db, b) {
                out.push(b.clone());
            }
            return;
        };
        for t in db.get(&atom.rel).into_iter().flatten() {
            if let Some(added) = bind_atom(atom, t, b) {
                go(rest, rule, db, b, out, limit);
                unbind(b, added);
            }
        }
    }
    let mut out = Vec::new();
    let mut b = seed;
    go(&rule.body, rule, db, &mut b, &mut out, limit);
    out
}

/// The body atoms ordered so that each binds on variables already known
/// (the seed first): a derivation search then scans each relation once per
/// candidate instead of enumerating a whole relation up front.
fn bound_first(rule: &Rule, seed: &BTreeMap<String, u32>) -> Rule {
    let mut known: BTreeSet<String> = seed.keys().cloned().collect();
    let mut left: Vec<Atom> = rule.body.clone();
    let mut body = Vec::new();
    while !left.is_empty() {
        let best = (0..left.len())
            .max_by_key(|i| {
                let n = left[*i].vars().filter(|v| known.contains(*v)).count();
                (n, std::cmp::Reverse(*i))
            })
            .unwrap_or(0);
        let a = left.remove(best);
        known.extend(a.vars().map(str::to_string));
        body.push(a);
    }
    Rule {
        body,
        ..rule.clone()
    }
}

#[cfg_attr(not(test), allow(dead_code))]
fn head_tuple(rule: &Rule, b: &BTreeMap<String, u32>) -> Tuple {
    rule.head
        .vars()
        .map(|v| b.get(v).copied().unwrap_or(0))
        .collect()
}

/// The same fixed point, computed naively (nested loops to saturation): the
/// obviously-correct reference the datafrog evaluation is tested against.
#[cfg_attr(not(test), allow(dead_code))]
pub fn eval_naive(strata: &[Vec<Rule>], facts: &Db) -> Db {
    let mut db = facts.clone();
    for stratum in strata {
        for rule in stratum {
            db.entry(rule.head.rel.clone()).or_default();
        }
        loop {
            let mut changed = false;
            for rule in stratum {
                for b in solutions(rule, &db, BTreeMap::new(), usize::MAX) {
                    let t = head_tuple(rule, &b);
                    changed |= db.entry(rule.head.rel.clone()).or_default().insert(t);
                }
            }
            if !changed {
                break;
            }
        }
    }
    db
}

/// Tuples of a relation by the values of some of its columns: (relation,
/// the columns as a bit set) -> every tuple with its key (those columns'
/// values), sorted by key, so that a lookup is a binary search and the
/// index one allocation. Keyed on every bound column, a search visits only
/// the tuples that can match (keyed on one, explaining 10 000 missing
/// resources of one process visited 10 000 tuples per fact: 13 s).
type ColumnIndex = BTreeMap<(String, u8), std::rc::Rc<[(Tuple, Tuple)]>>;

/// Derivations over a fixed point, with per-column indexes built on demand
/// so that explaining every derived fact stays near-linear, and (given the
/// ranks of the evaluation) the premises that first derived each tuple.
pub struct Deriver<'d> {
    db: &'d Db,
    ranks: Option<&'d Ranks>,
    index: std::cell::RefCell<ColumnIndex>,
    /// Candidate tuples weighed so far (tests hold searches to the
    /// tuples that can match).
    visited: std::cell::Cell<u64>,
}

impl<'d> Deriver<'d> {
    pub fn new(db: &'d Db, ranks: Option<&'d Ranks>) -> Deriver<'d> {
        Deriver {
            db,
            ranks,
            index: Default::default(),
            visited: Default::default(),
        }
    }

    fn rank(&self, rel: &str, t: &Tuple) -> u32 {
        self.ranks.and_then(|r| r.get(rel, t)).unwrap_or(0)
    }

    /// Tuples of `rel` whose columns `cols` (a bit set) hold `values`, in
    /// column order.
    fn matching(
        &self,
        rel: &str,
        cols: u8,
        values: &Tuple,
    ) -> (std::rc::Rc<[(Tuple, Tuple)]>, std::ops::Range<usize>) {
        let key_of = |t: &Tuple| -> Option<Tuple> {
            let mut k = Tuple::default();
            for c in (0..MAX_COLUMNS).filter(|c| cols & (1 << c) != 0) {
                k.extend_from_slice(&[*t.get(c)?]);
            }
            Some(k)
        };
        let keyed = {
            let mut idx = self.index.borrow_mut();
            let entry = idx.entry((rel.to_string(), cols)).or_insert_with(|| {
                let mut v: Vec<(Tuple, Tuple)> = self
                    .db
                    .get(rel)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| Some((key_of(t)?, *t)))
                    .collect();
                // Stable: a key's tuples stay in the relation's order.
                v.sort_by_key(|a| a.0);
                v.into()
            });
            std::rc::Rc::clone(entry)
        };
        let start = keyed.partition_point(|(k, _)| k < values);
        let end = start + keyed[start..].partition_point(|(k, _)| k == values);
        (keyed, start..end)
    }

    /// The premises (negated ones marked `!`) of the first derivation of
    /// `tuple` by `rule`, if the rule derives it.
    pub fn derivation(&self, rule: &Rule, tuple: &[u32]) -> Option<Vec<(String, Tuple)>> {
        let head_rank = self.rank(&rule.head.rel, &Tuple::from_slice(tuple));
        let mut b: BTreeMap<String, u32> = rule
            .head
            .vars()
            .map(str::to_string)
            .zip(tuple.iter().copied())
            .collect();
        let ordered = bound_first(rule, &b);
        if !self.search(&ordered.body, rule, head_rank, &mut b) {
            return None;
        }
        let inst = |a: &Atom| -> Tuple {
            a.args
                .iter()
                .map(|t| match t {
                    Term::Var(v) => b.get(v).copied().unwrap_or(0),
                    Term::Wild => u32::MAX,
                })
                .collect()
        };
        let mut facts: Vec<(String, Tuple)> =
            rule.body.iter().map(|a| (a.rel.clone(), inst(a))).collect();
        facts.extend(rule.neg.iter().map(|a| (format!("!{}", a.rel), inst(a))));
        Some(facts)
    }

    fn search(
        &self,
        atoms: &[Atom],
        rule: &Rule,
        head_rank: u32,
        b: &mut BTreeMap<String, u32>,
    ) -> bool {
        let Some((atom, rest)) = atoms.split_first() else {
            return !blocked(rule, self.db, b);
        };
        let (mut cols, mut values) = (0u8, Tuple::default());
        // A pre-filter: `bind_atom` checks every column of each candidate.
        for (i, t) in atom.args.iter().enumerate().take(MAX_COLUMNS) {
            if let Term::Var(v) = t {
                if let Some(x) = b.get(v) {
                    cols |= 1 << i;
                    values.extend_from_slice(&[*x]);
                }
            }
        }
        // Every tuple when nothing is bound: keyed on no column.
        let (keyed, range) = self.matching(&atom.rel, cols, &values);
        for &(_, t) in &keyed[range] {
            self.visited.set(self.visited.get() + 1);
            // Premises that appeared no earlier than the head did not
            // derive it first (ranks known only for derived relations).
            if self.ranks.is_some() && head_rank > 0 && self.rank(&atom.rel, &t) >= head_rank {
                continue;
            }
            if let Some(added) = bind_atom(atom, &t, b) {
                if self.search(rest, rule, head_rank, b) {
                    return true;
                }
                unbind(b, added);
            }
        }
        false
    }
}

#[cfg(test)]
mod facts_tests {
    use super::*;

    /// Explaining every fact of a rule whose premise shares one column
    /// across all its tuples weighs only the tuples that match the fact
    /// (keyed on that column alone, each search weighed them all).
    #[test]
    fn derivations_weigh_only_matching_tuples() {
        // missing(P, U) :- reaches(P), unavailable(P, U): the shape of the
        // admission rule for resources.
        let atom = |rel: &str, vars: &[&str]| Atom {
            rel: rel.into(),
            args: vars.iter().map(|v| Term::Var(v.to_string())).collect(),
        };
        let rule = &Rule {
            id: "missing".into(),
            cite: String::new(),
            head: atom("missing", &["P", "U"]),
            body: vec![atom("reaches", &["P"]), atom("unavailable", &["P", "U"])],
            neg: Vec::new(),
            source: String::new(),
        };
        let (reaches, unavailable) = ("reaches", "unavailable".to_string());
        let n = 2000u32;
        let mut db = Db::new();
        insert(&mut db, reaches, Tuple::of([7]));
        for u in 0..n {
            insert(&mut db, &unavailable, Tuple::of([7, u]));
        }
        let der = Deriver::new(&db, None);
        for u in 0..n {
            let prem = der.derivation(rule, &[7, u]).expect("derived");
            assert_eq!(prem[1], (unavailable.clone(), Tuple::of([7, u])));
        }
        assert!(der.derivation(rule, &[7, n]).is_none());
        assert!(
            der.visited.get() <= 2 * u64::from(n) + 2,
            "{}",
            der.visited.get()
        );
    }

    /// Facts gathered and made sets at once are the sets inserting them
    /// one by one builds, repeats and empty relations included.
    #[test]
    fn gathered_facts_are_the_inserted_sets() {
        let mut gathered = Facts::default();
        let mut inserted = Db::new();
        gathered.relation("empty");
        inserted.insert("empty".into(), BTreeSet::new());
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rel = "a";
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Runs of one relation (a new one drawn at one fact in five),
            // names given as constants and as copies made for the occasion.
            if x.is_multiple_of(5) {
                rel = ["a", "b", "c"][((x >> 40) % 3) as usize];
            }
            let copy = rel.to_string();
            let given = if x.is_multiple_of(7) {
                copy.as_str()
            } else {
                rel
            };
            let t: Tuple = Tuple::of([(x >> 8) as u32 % 50, (x >> 20) as u32 % 3]);
            gathered.insert(given, t);
            insert(&mut inserted, rel, t);
        }
        assert_eq!(gathered.into_db(), inserted);
    }
}

#[cfg(test)]
mod tuple_tests {
    use super::*;

    /// Tuples of any lengths up to the maximum compare, order and hash as
    /// their columns do as slices (what `SmallVec` tuples did), and a set
    /// of them is searched by a slice.
    #[test]
    fn tuples_order_as_their_columns() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut draw = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut tuples: Vec<Vec<u32>> =
            vec![vec![], vec![0], vec![0, 0], vec![u32::MAX; MAX_COLUMNS]];
        for _ in 0..2000 {
            let len = (draw() % (MAX_COLUMNS as u64 + 1)) as usize;
            // Small values, so that prefixes and zeros are common.
            tuples.push((0..len).map(|_| (draw() % 3) as u32).collect());
        }
        let hash = |t: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            t(&mut h);
            std::hash::Hasher::finish(&h)
        };
        for a in &tuples {
            let ta = Tuple::from_slice(a);
            assert_eq!(&*ta, a.as_slice());
            assert_eq!(ta, a.iter().copied().collect::<Tuple>());
            let h = hash(&|h| std::hash::Hash::hash(&ta, h));
            assert_eq!(h, hash(&|h| std::hash::Hash::hash(a.as_slice(), h)));
            for b in tuples.iter().take(200) {
                let tb = Tuple::from_slice(b);
                assert_eq!(ta.cmp(&tb), a.as_slice().cmp(b.as_slice()), "{a:?} {b:?}");
                assert_eq!(ta == tb, a == b, "{a:?} {b:?}");
            }
        }
        let set: BTreeSet<Tuple> = tuples.iter().map(|t| Tuple::from_slice(t)).collect();
        for t in &tuples {
            assert!(set.contains(t.as_slice()));
        }
        assert!(!set.contains(&[7u32, 7][..]));
        let mut joined = Tuple::of([1, 2]);
        joined.extend_from_slice(&[3]);
        assert_eq!(joined, Tuple::of([1, 2, 3]));
    }
}
