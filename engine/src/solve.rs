//! The one door to the SAT solver (batsat, pinned). Φ resolution states its
//! questions as a `Problem` of integer unknowns over their declared domains
//! and formulas over linear terms; `resolve` decides one question with one
//! solver: existence, then either the canonical witness or a minimal
//! inadmissible set, all by incremental solving under assumptions.
//!
//! The question is bit-blasted: each unknown is a two's-complement word as
//! wide as its domain needs (64 bits for i64), and each linear term is
//! computed with adders in a word wide enough that no partial sum can wrap
//! (the width is derived from the coefficients' and domains' bit lengths).
//! Arithmetic in the encoding is therefore exact integer arithmetic, with
//! no range the solver cannot represent: every answer is over the declared
//! domains. Only the work budget (conflicts, queries, clauses; counted,
//! never timed) can leave a question undetermined.
//!
//! Why a SAT solver and not a CP solver: pumpkin-solver keeps domains and
//! partial sums in i32, and huub's linear propagation overflows i64 and can
//! crawl through a wide domain one value per step, beyond any budget. A CDCL
//! solver's work is all conflicts and propagations, which the budget counts.

use batsat::{lbool, Callbacks, ClauseKind, Lit, SolverInterface, SolverOpts};
use std::cell::Cell;

/// `Σ aᵢ·xᵢ + c`, exact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lin {
    pub terms: Vec<(usize, i128)>,
    pub c: i128,
}

impl Lin {
    pub fn constant(c: i128) -> Lin {
        Lin {
            terms: Vec::new(),
            c,
        }
    }

    pub fn var(v: usize) -> Lin {
        Lin {
            terms: vec![(v, 1)],
            c: 0,
        }
    }

    pub fn scale(&self, k: i128) -> Lin {
        let mut out = Lin {
            terms: self.terms.iter().map(|(v, a)| (*v, a * k)).collect(),
            c: self.c * k,
        };
        out.terms.retain(|(_, a)| *a != 0);
        out
    }

    pub fn add(&self, o: &Lin) -> Lin {
        let mut terms = self.terms.clone();
        for (v, a) in &o.terms {
            match terms.iter_mut().find(|(w, _)| w == v) {
                Some((_, b)) => *b += a,
                None => terms.push((*v, *a)),
            }
        }
        terms.retain(|(_, a)| *a != 0);
        terms.sort();
        Lin {
            terms,
            c: self.c + o.c,
        }
    }

    pub fn sub(&self, o: &Lin) -> Lin {
        self.add(&o.scale(-1))
    }
}

/// Relations of a linear term to zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rel {
    Le,
    Eq,
    Ne,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    Const(bool),
    Atom(Lin, Rel),
    And(Vec<Form>),
    Or(Vec<Form>),
    /// A subformula used in several places (a `let`, an operand of a
    /// boolean `Eq`): held once and encoded once, so questions stay linear
    /// in the size of the program.
    Shared(std::rc::Rc<Form>),
    /// The negation of a shared subformula.
    NotShared(std::rc::Rc<Form>),
}

/// Every assignment over small domains, in lexicographic order (tests).
#[cfg(test)]
pub fn assignments(domains: &[(i64, i64)]) -> Vec<Vec<i64>> {
    let mut out = vec![Vec::new()];
    for (lo, hi) in domains {
        out = out
            .into_iter()
            .flat_map(|p| (*lo..=*hi).map(move |v| [p.clone(), vec![v]].concat()))
            .collect();
    }
    out
}

impl Form {
    /// The formula's truth under an assignment (the reference the solver is
    /// tested against).
    #[cfg(test)]
    pub fn holds(&self, x: &[i64]) -> bool {
        match self {
            Form::Const(b) => *b,
            Form::Atom(l, rel) => {
                let v: i128 = l.terms.iter().map(|(i, a)| a * x[*i] as i128).sum::<i128>() + l.c;
                match rel {
                    Rel::Le => v <= 0,
                    Rel::Eq => v == 0,
                    Rel::Ne => v != 0,
                }
            }
            Form::And(fs) => fs.iter().all(|g| g.holds(x)),
            Form::Or(fs) => fs.iter().any(|g| g.holds(x)),
            Form::Shared(f) => f.holds(x),
            Form::NotShared(f) => !f.holds(x),
        }
    }

    /// This formula, held once however often it is used.
    pub fn shared(self) -> Form {
        match self {
            f @ (Form::Const(_) | Form::Atom(..) | Form::Shared(_) | Form::NotShared(_)) => f,
            f => Form::Shared(std::rc::Rc::new(f)),
        }
    }

    pub fn not(&self) -> Form {
        match self {
            Form::Const(b) => Form::Const(!b),
            // ¬(l ≤ 0) ⇔ l ≥ 1 ⇔ 1 - l ≤ 0
            Form::Atom(l, Rel::Le) => Form::Atom(Lin::constant(1).sub(l), Rel::Le),
            Form::Atom(l, Rel::Eq) => Form::Atom(l.clone(), Rel::Ne),
            Form::Atom(l, Rel::Ne) => Form::Atom(l.clone(), Rel::Eq),
            Form::And(fs) => Form::Or(fs.iter().map(Form::not).collect()),
            Form::Or(fs) => Form::And(fs.iter().map(Form::not).collect()),
            Form::Shared(f) => Form::NotShared(f.clone()),
            Form::NotShared(f) => Form::Shared(f.clone()),
        }
    }
}

/// A satisfaction question: unknowns with their declared domains, and formulas.
#[derive(Clone, Debug)]
pub struct Problem {
    pub domains: Vec<(i64, i64)>,
    pub formulas: Vec<Form>,
}

/// Which value of an unknown the canonical witness tries first (07-phi.ron).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pref {
    /// Nearest zero; at equal distance the non-negative value first unless
    /// `negative_first`.
    Integer { negative_first: bool },
    /// A 0/1 unknown: `false` first unless `true_first`.
    Boolean { true_first: bool },
}

/// Work allowed for one question, counted, never timed.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Conflicts one solver call may spend.
    pub conflicts_per_query: u64,
    /// Conflicts all calls of the question may spend together.
    pub total_conflicts: u64,
    /// Solver calls (existence, witness bits, minimal-set deletions).
    pub max_queries: u64,
    /// Clauses the encoding may have.
    pub max_clauses: u64,
    /// Propagations all calls may spend together (checked between the
    /// slices of conflicts a call is made in, see `Session::query`).
    pub max_propagations: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The canonical witness, a value per unknown.
    Sat(Vec<i64>),
    /// No assignment: a subset of the formulas that cannot hold together;
    /// `minimal` unless some deletion test was undecided.
    Unsat { core: Vec<usize>, minimal: bool },
    /// Not decided within the budget.
    Unknown(String),
}

thread_local! {
    static SOLVERS_BUILT: Cell<u64> = const { Cell::new(0) };
}

/// Solvers constructed on this thread so far (tests check one per question).
#[cfg(test)]
pub fn solvers_built() -> u64 {
    SOLVERS_BUILT.with(|c| c.get())
}

/// Counts conflicts (one learnt clause each) against the current allowance;
/// the solver polls `stop` before every decision and after every conflict.
struct Meter {
    conflicts: u64,
    limit: u64,
}

impl Callbacks for Meter {
    fn on_new_clause(&mut self, _: &[Lit], kind: ClauseKind) {
        if kind == ClauseKind::Learnt {
            self.conflicts += 1;
        }
    }

    fn stop(&self) -> bool {
        self.conflicts >= self.limit
    }
}

/// A bit of the encoding: a constant or a solver literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum B {
    C(bool),
    L(Lit),
}

impl std::ops::Not for B {
    type Output = B;
    fn not(self) -> B {
        match self {
            B::C(b) => B::C(!b),
            B::L(l) => B::L(!l),
        }
    }
}

/// Why encoding stopped.
enum Halt {
    Clauses(u64),
    Width(usize),
}

impl Halt {
    fn reason(&self) -> String {
        match self {
            Halt::Clauses(n) => {
                format!("the question needs more than {n} clauses, the solver budget's limit")
            }
            Halt::Width(w) => format!(
                "a constraint needs {w}-bit arithmetic, beyond the solver's {MAX_WIDTH} bits"
            ),
        }
    }
}

/// Widest word a linear term may need. Coefficients are bounded by 2^62 and
/// domains by i64, so a term needs at most 126 bits; this leaves room for
/// sums of many terms.
const MAX_WIDTH: usize = 192;

/// Bits an unsigned magnitude occupies.
fn bitlen(u: u128) -> usize {
    (128 - u.leading_zeros()) as usize
}

/// Bits of the narrowest two's-complement word holding `v`.
fn sbits(v: i64) -> usize {
    let m = if v < 0 { !v } else { v };
    65 - m.leading_zeros() as usize
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn konst(v: i128, w: usize) -> Vec<B> {
    (0..w)
        .map(|i| B::C(if i < 127 { (v >> i) & 1 == 1 } else { v < 0 }))
        .collect()
}

fn sext(x: &[B], w: usize) -> Vec<B> {
    let s = *x.last().unwrap_or(&B::C(false));
    x.iter()
        .copied()
        .chain(std::iter::repeat(s))
        .take(w)
        .collect()
}

/// Gates over the solver, each a fresh literal defined by its full Tseitin
/// clauses; constants fold, so constant operands cost nothing.
struct Enc {
    s: batsat::Solver<Meter>,
    clauses: u64,
    max_clauses: u64,
    words: std::collections::BTreeMap<Vec<(usize, i128)>, Vec<B>>,
    /// The bit of each shared subformula, by its address (the problem
    /// holds every `Rc` while it is encoded; looked up, never iterated).
    shared: std::collections::HashMap<usize, B>,
}

type R<T> = Result<T, Halt>;

impl Enc {
    /// A new input literal (an unknown's bit, a selector): the solver
    /// decides on these.
    fn fresh(&mut self) -> B {
        B::L(self.fresh_lit())
    }

    fn fresh_lit(&mut self) -> Lit {
        Lit::new(self.s.new_var_default(), true)
    }

    /// A new gate output. Every gate is defined by its full Tseitin clauses,
    /// so unit propagation values it once its inputs are valued: the solver
    /// need not decide on it, which keeps each incremental call to the
    /// inputs.
    fn gate(&mut self) -> B {
        B::L(Lit::new(self.s.new_var(lbool::UNDEF, false), true))
    }

    fn clause(&mut self, lits: &[B]) -> R<()> {
        let mut c = Vec::with_capacity(lits.len());
        for l in lits {
            match l {
                B::C(true) => return Ok(()),
                B::C(false) => {}
                B::L(x) => c.push(*x),
            }
        }
        self.clauses += 1;
        if self.clauses > self.max_clauses {
            return Err(Halt::Clauses(self.max_clauses));
        }
        self.s.add_clause_reuse(&mut c);
        Ok(())
    }

    fn and(&mut self, a: B, b: B) -> R<B> {
        Ok(match (a, b) {
            (B::C(false), _) | (_, B::C(false)) => B::C(false),
            (B::C(true), x) | (x, B::C(true)) => x,
            _ if a == b => a,
            _ if a == !b => B::C(false),
            _ => {
                let g = self.gate();
                self.clause(&[!g, a])?;
                self.clause(&[!g, b])?;
                self.clause(&[g, !a, !b])?;
                g
            }
        })
    }

    fn xor(&mut self, a: B, b: B) -> R<B> {
        Ok(match (a, b) {
            (B::C(x), y) | (y, B::C(x)) => {
                if x {
                    !y
                } else {
                    y
                }
            }
            _ if a == b => B::C(false),
            _ if a == !b => B::C(true),
            _ => {
                let g = self.gate();
                self.clause(&[!g, a, b])?;
                self.clause(&[!g, !a, !b])?;
                self.clause(&[g, !a, b])?;
                self.clause(&[g, a, !b])?;
                g
            }
        })
    }

    /// At least two of three (the carry of a full adder).
    fn maj(&mut self, a: B, b: B, c: B) -> R<B> {
        for (k, x, y) in [(a, b, c), (b, a, c), (c, a, b)] {
            match k {
                B::C(true) => return Ok(!self.and(!x, !y)?),
                B::C(false) => return self.and(x, y),
                _ => {}
            }
        }
        if a == b || a == c {
            return Ok(a);
        }
        if b == c {
            return Ok(b);
        }
        let g = self.gate();
        for (x, y) in [(a, b), (a, c), (b, c)] {
            self.clause(&[!x, !y, g])?;
            self.clause(&[x, y, !g])?;
        }
        Ok(g)
    }

    /// `if c then t else e`.
    fn ite(&mut self, c: B, t: B, e: B) -> R<B> {
        Ok(match c {
            B::C(true) => t,
            B::C(false) => e,
            _ if t == e => t,
            _ => {
                let g = self.gate();
                self.clause(&[!c, !t, g])?;
                self.clause(&[!c, t, !g])?;
                self.clause(&[c, !e, g])?;
                self.clause(&[c, e, !g])?;
                g
            }
        })
    }

    fn and_all(&mut self, xs: &[B]) -> R<B> {
        let mut lits = Vec::new();
        for x in xs {
            match x {
                B::C(true) => {}
                B::C(false) => return Ok(B::C(false)),
                l => {
                    if lits.contains(&!*l) {
                        return Ok(B::C(false));
                    }
                    if !lits.contains(l) {
                        lits.push(*l);
                    }
                }
            }
        }
        match lits.as_slice() {
            [] => Ok(B::C(true)),
            [x] => Ok(*x),
            _ => {
                let g = self.gate();
                let mut back = vec![g];
                for x in &lits {
                    self.clause(&[!g, *x])?;
                    back.push(!*x);
                }
                self.clause(&back)?;
                Ok(g)
            }
        }
    }

    /// `a + b` modulo 2^w (both of width w).
    fn add(&mut self, a: &[B], b: &[B]) -> R<Vec<B>> {
        let mut carry = B::C(false);
        let mut out = Vec::with_capacity(a.len());
        for (x, y) in a.iter().zip(b) {
            let t = self.xor(*x, *y)?;
            out.push(self.xor(t, carry)?);
            carry = self.maj(*x, *y, carry)?;
        }
        Ok(out)
    }

    fn neg(&mut self, a: &[B]) -> R<Vec<B>> {
        let inv: Vec<B> = a.iter().map(|b| !*b).collect();
        self.add(&inv, &konst(1, a.len()))
    }

    /// `k·x` in a word of width w (exact when the product fits w).
    fn mul_const(&mut self, x: &[B], k: i128, w: usize) -> R<Vec<B>> {
        let xs = sext(x, w);
        let m = k.unsigned_abs();
        let mut acc = konst(0, w);
        for j in 0..w.min(128) {
            if (m >> j) & 1 == 1 {
                let shifted: Vec<B> = (0..w)
                    .map(|i| if i < j { B::C(false) } else { xs[i - j] })
                    .collect();
                acc = self.add(&acc, &shifted)?;
            }
        }
        if k < 0 {
            acc = self.neg(&acc)?;
        }
        Ok(acc)
    }

    /// `Σ aᵢ·xᵢ` (normalised terms) in a word wide enough that nothing
    /// wraps; one word per distinct sum, so atoms over the same sum share it.
    fn word(&mut self, terms: &[(usize, i128)], vars: &[Vec<B>]) -> R<Vec<B>> {
        if let Some(w) = self.words.get(terms) {
            return Ok(w.clone());
        }
        let w = match terms {
            [(v, 1)] => vars[*v].clone(),
            _ => {
                let mut bits = 1;
                for (v, a) in terms {
                    bits = bits.max(vars[*v].len() + bitlen(a.unsigned_abs()));
                }
                // n terms below 2^(bits-1) in magnitude sum below 2^(bits-1+bitlen(n)).
                let w = bits + bitlen(terms.len() as u128) + 1;
                if w > MAX_WIDTH {
                    return Err(Halt::Width(w));
                }
                let mut acc = konst(0, w);
                for (v, a) in terms {
                    let t = self.mul_const(&vars[*v], *a, w)?;
                    acc = self.add(&acc, &t)?;
                }
                acc
            }
        };
        self.words.insert(terms.to_vec(), w.clone());
        Ok(w)
    }

    /// `u ≥ k`: the sign bit of `u - k`, computed in a word that holds both.
    fn ge_const(&mut self, u: &[B], k: i128) -> R<B> {
        let w = u.len().max(bitlen(k.unsigned_abs()) + 1) + 1;
        let u = sext(u, w);
        let minus_k = konst(k.wrapping_neg(), w);
        let mut carry = B::C(false);
        for i in 0..w - 1 {
            carry = self.maj(u[i], minus_k[i], carry)?;
        }
        let t = self.xor(u[w - 1], minus_k[w - 1])?;
        Ok(!self.xor(t, carry)?)
    }

    /// `Σ aᵢ·xᵢ + c REL 0`, normalised first (divided by the coefficients'
    /// gcd, leading coefficient positive) so equal sums share one word and
    /// the atom is a comparison of that word with a constant.
    fn atom(&mut self, l: &Lin, rel: Rel, vars: &[Vec<B>]) -> R<B> {
        let Some(first) = l.terms.first() else {
            return Ok(B::C(match rel {
                Rel::Le => l.c <= 0,
                Rel::Eq => l.c == 0,
                Rel::Ne => l.c != 0,
            }));
        };
        let g = l
            .terms
            .iter()
            .fold(0u128, |g, (_, a)| gcd(g, a.unsigned_abs())) as i128;
        let sign = if first.1 < 0 { -1 } else { 1 };
        let mut terms: Vec<(usize, i128)> =
            l.terms.iter().map(|(v, a)| (*v, sign * (a / g))).collect();
        terms.sort();
        let u = self.word(&terms, vars)?;
        // Σ a·x ≤ -c ⇔ g·sign·U ≤ -c.
        let k = -l.c;
        Ok(match rel {
            Rel::Le if sign > 0 => !self.ge_const(&u, k.div_euclid(g) + 1)?,
            // -g·U ≤ k ⇔ U ≥ ⌈-k/g⌉
            Rel::Le => self.ge_const(&u, -(k.div_euclid(g)))?,
            Rel::Eq | Rel::Ne => {
                let eq = if k % g != 0 {
                    B::C(false)
                } else {
                    let m = sign * (k / g);
                    let w = u.len().max(bitlen(m.unsigned_abs()) + 1);
                    let bits: Vec<B> = sext(&u, w)
                        .iter()
                        .zip(konst(m, w))
                        .map(|(b, c)| if c == B::C(true) { *b } else { !*b })
                        .collect();
                    self.and_all(&bits)?
                };
                if rel == Rel::Eq {
                    eq
                } else {
                    !eq
                }
            }
        })
    }

    /// The bit of a shared subformula, encoded on first use.
    fn shared_bit(&mut self, f: &std::rc::Rc<Form>, vars: &[Vec<B>]) -> R<B> {
        let key = std::rc::Rc::as_ptr(f) as usize;
        if let Some(b) = self.shared.get(&key) {
            return Ok(*b);
        }
        let b = self.form(f, vars)?;
        self.shared.insert(key, b);
        Ok(b)
    }

    /// A bit equivalent to the formula.
    fn form(&mut self, f: &Form, vars: &[Vec<B>]) -> R<B> {
        Ok(match f {
            Form::Const(b) => B::C(*b),
            Form::Atom(l, rel) => self.atom(l, *rel, vars)?,
            Form::And(fs) => {
                let parts = fs
                    .iter()
                    .map(|g| self.form(g, vars))
                    .collect::<R<Vec<B>>>()?;
                self.and_all(&parts)?
            }
            Form::Shared(f) => self.shared_bit(f, vars)?,
            Form::NotShared(f) => !self.shared_bit(f, vars)?,
            Form::Or(fs) => {
                let parts = fs
                    .iter()
                    .map(|g| self.form(g, vars).map(|b| !b))
                    .collect::<R<Vec<B>>>()?;
                !self.and_all(&parts)?
            }
        })
    }

    /// An unknown as the narrowest word holding its domain, constrained to it.
    fn unknown(&mut self, lo: i64, hi: i64, index: usize, vars: &mut Vec<Vec<B>>) -> R<()> {
        let w = sbits(lo).max(sbits(hi));
        let mut bits: Vec<B> = (0..w - 1).map(|_| self.fresh()).collect();
        bits.push(if lo >= 0 {
            B::C(false)
        } else if hi < 0 {
            B::C(true)
        } else {
            self.fresh()
        });
        let top = 1i128 << (w - 1);
        let (min, max) = match bits[w - 1] {
            B::C(false) => (0, top - 1),
            B::C(true) => (-top, -1),
            _ => (-top, top - 1),
        };
        vars.push(bits);
        let x = Lin::var(index);
        if (lo as i128) > min {
            // lo - x ≤ 0
            let b = self.form(
                &Form::Atom(Lin::constant(lo as i128).sub(&x), Rel::Le),
                vars,
            )?;
            self.clause(&[b])?;
        }
        if (hi as i128) < max {
            let b = self.form(
                &Form::Atom(x.sub(&Lin::constant(hi as i128)), Rel::Le),
                vars,
            )?;
            self.clause(&[b])?;
        }
        Ok(())
    }
}

enum Query {
    Sat,
    Unsat(Vec<Lit>),
    Unknown(String),
}

/// One solver for one question, with its budget.
struct Session {
    enc: Enc,
    vars: Vec<Vec<B>>,
    magnitudes: Vec<Vec<B>>,
    selectors: Vec<Lit>,
    model: Vec<lbool>,
    budget: Budget,
    conflicts_left: u64,
    /// Conflicts of all calls so far.
    conflicts_spent: u64,
    queries_left: u64,
}

/// Conflicts in a call's first slice. The corpus's questions need 285 in
/// all at most, so their calls are rarely cut (a slice after the first
/// conflicts of a question may be smaller: it is sized from the
/// propagations a conflict has cost so far).
const FIRST_SLICE: u64 = 512;

impl Session {
    fn new(p: &Problem, budget: &Budget) -> R<Session> {
        SOLVERS_BUILT.with(|c| c.set(c.get() + 1));
        let meter = Meter {
            conflicts: 0,
            limit: 0,
        };
        let mut enc = Enc {
            s: batsat::Solver::new(SolverOpts::default(), meter),
            clauses: 0,
            max_clauses: budget.max_clauses,
            words: Default::default(),
            shared: Default::default(),
        };
        let mut vars = Vec::new();
        for (i, (lo, hi)) in p.domains.iter().enumerate() {
            enc.unknown(*lo, *hi, i, &mut vars)?;
        }
        let mut selectors = Vec::new();
        for f in &p.formulas {
            let b = enc.form(f, &vars)?;
            let sel = enc.fresh_lit();
            enc.clause(&[B::L(!sel), b])?;
            selectors.push(sel);
        }
        // |x| for the witness search, built before the first model is taken
        // so that every model values it.
        let mut magnitudes = Vec::new();
        for x in &vars {
            let w = x.len() + 1;
            let wide = sext(x, w);
            let minus = enc.neg(&wide)?;
            let sign = x[x.len() - 1];
            let mut mag = Vec::with_capacity(w);
            for i in 0..w {
                mag.push(enc.ite(sign, minus[i], wide[i])?);
            }
            magnitudes.push(mag);
        }
        Ok(Session {
            enc,
            vars,
            magnitudes,
            selectors,
            model: Vec::new(),
            budget: *budget,
            conflicts_left: budget.total_conflicts,
            conflicts_spent: 0,
            queries_left: budget.max_queries,
        })
    }

    /// One solver call under `assumptions`, within the budget.
    ///
    /// The solver cannot be stopped by propagations, only by conflicts, and
    /// one conflict of a wide encoding can cost 10 000 propagations: a call
    /// allowed 20 000 conflicts ran 53 s. So a call is made in slices of
    /// conflicts, each sized from the propagations a conflict has cost so
    /// far and those left, and the propagation budget is checked between
    /// slices. A slice ends in a restart that keeps every learnt clause:
    /// the answer is the same, and counted work keeps it reproducible.
    fn query(&mut self, assumptions: &[Lit]) -> Query {
        let spent = || Query::Unknown("the solver budget was exhausted".into());
        if self.queries_left == 0 || self.conflicts_left == 0 || self.props_left() == 0 {
            return spent();
        }
        self.queries_left -= 1;
        let mut grant = self.budget.conflicts_per_query.min(self.conflicts_left);
        if grant == 0 {
            return spent();
        }
        let mut slice = FIRST_SLICE;
        loop {
            // Before any conflict there is no estimate (the propagations
            // of setting up would make one up), and the slice is whole.
            let this = match self
                .enc
                .s
                .num_propagations()
                .checked_div(self.conflicts_spent)
            {
                Some(per_conflict) => slice
                    .min(grant)
                    .min(self.props_left() / per_conflict.max(1))
                    .max(1),
                None => slice.min(grant),
            };
            let meter = self.enc.s.cb_mut();
            meter.conflicts = 0;
            meter.limit = this;
            let r = self.enc.s.solve_limited(assumptions);
            let used = self.enc.s.cb().conflicts.min(this);
            self.conflicts_left -= used;
            self.conflicts_spent += used;
            grant -= used;
            if r == lbool::TRUE {
                self.model = self.enc.s.get_model().to_vec();
                return Query::Sat;
            } else if r == lbool::FALSE {
                return Query::Unsat(self.enc.s.unsat_core().to_vec());
            }
            // Stopped by the meter: go on while budget is left.
            if used == 0 || grant == 0 || self.props_left() == 0 {
                return spent();
            }
            slice = slice.saturating_mul(2);
        }
    }

    /// Propagations the question may still spend.
    fn props_left(&self) -> u64 {
        self.budget
            .max_propagations
            .saturating_sub(self.enc.s.num_propagations())
    }

    /// The bit's value in the last model.
    fn val(&self, b: B) -> bool {
        match b {
            B::C(x) => x,
            B::L(l) => (self.model.get(l.var().idx() as usize) == Some(&lbool::TRUE)) == l.sign(),
        }
    }

    /// Make `want` hold if any model under the fixes so far allows it, and
    /// fix the bit either way. The last model satisfies every fix.
    fn prefer(&mut self, want: B) -> Result<(), String> {
        let B::L(l) = want else { return Ok(()) };
        if self.val(want) {
            return self.fix(want);
        }
        match self.query(&[l]) {
            Query::Sat => self.fix(want),
            Query::Unsat(_) => self.fix(!want),
            Query::Unknown(r) => Err(r),
        }
    }

    fn fix(&mut self, b: B) -> Result<(), String> {
        self.enc.clause(&[b]).map_err(|h| h.reason())
    }

    /// Deletion-based shrinking, refined by the solver's cores.
    fn minimal_set(&mut self, core: Vec<Lit>) -> (Vec<usize>, bool) {
        let mut set: Vec<usize> = (0..self.selectors.len())
            .filter(|i| core.contains(&!self.selectors[*i]))
            .collect();
        if set.is_empty() {
            set = (0..self.selectors.len()).collect();
        }
        let mut minimal = true;
        let mut i = 0;
        while i < set.len() {
            let rest: Vec<usize> = set.iter().copied().filter(|x| *x != set[i]).collect();
            let lits: Vec<Lit> = rest.iter().map(|x| self.selectors[*x]).collect();
            match self.query(&lits) {
                Query::Unsat(core) => {
                    // Members before i are necessary, so every core keeps them.
                    set = rest
                        .into_iter()
                        .filter(|x| core.contains(&!self.selectors[*x]))
                        .collect();
                }
                Query::Sat => i += 1,
                Query::Unknown(_) => {
                    minimal = false;
                    i += 1;
                }
            }
        }
        (set, minimal)
    }

    /// Successive preference, bit by bit from the most significant, in the
    /// order of the unknowns.
    fn witness(&mut self, prefs: &[Pref]) -> Result<Vec<i64>, String> {
        for s in self.selectors.clone() {
            self.fix(B::L(s))?;
        }
        for (v, pref) in prefs.iter().enumerate() {
            let x = self.vars[v].clone();
            match pref {
                Pref::Boolean { true_first } => {
                    let bit = x[0];
                    self.prefer(if *true_first { bit } else { !bit })?;
                }
                Pref::Integer { negative_first } => {
                    let sign = x[x.len() - 1];
                    let mag = self.magnitudes[v].clone();
                    for bit in mag.iter().rev() {
                        self.prefer(!*bit)?;
                    }
                    if mag.iter().any(|b| self.val(*b)) {
                        self.prefer(if *negative_first { sign } else { !sign })?;
                    }
                }
            }
        }
        Ok(self.vars.iter().map(|x| self.value(x)).collect())
    }

    fn value(&self, x: &[B]) -> i64 {
        let mut v: i128 = 0;
        for (i, b) in x.iter().enumerate() {
            if self.val(*b) {
                v |= 1 << i;
            }
        }
        if self.val(x[x.len() - 1]) {
            v -= 1 << x.len();
        }
        v as i64
    }
}

/// The canonical witness of a question each of whose formulas bounds one
/// unknown (`a·x + c ≤ 0`, `= 0` or `≠ 0`, a constant, or a conjunction of
/// these), found without the solver: the unknowns are then independent,
/// each ranges over an interval with finitely many holes, and the witness
/// order's first value of each is the first of its nearest values to zero
/// the interval holds (what the solver's bit-by-bit preference finds).
/// Building a solver for such a question cost ~60 µs (80 000 gates, each
/// bounding its parameter, took 4.9 s). `None` for other questions, and
/// where no value exists: the solver then decides, and finds the minimal
/// inadmissible set.
pub fn bounds_only(p: &Problem, prefs: &[Pref]) -> Option<Vec<i64>> {
    let n = p.domains.len();
    if prefs.len() != n {
        return None;
    }
    let mut lo: Vec<i128> = p.domains.iter().map(|d| i128::from(d.0)).collect();
    let mut hi: Vec<i128> = p.domains.iter().map(|d| i128::from(d.1)).collect();
    let mut holes: Vec<Vec<i128>> = vec![Vec::new(); n];
    // A shared subformula is bounded once: shared formulas make a DAG,
    // one used twice at each of many levels (40 lets: 2^40 paths).
    let mut seen: crate::Set<*const Form> = Default::default();
    fn bound(
        f: &Form,
        lo: &mut [i128],
        hi: &mut [i128],
        holes: &mut [Vec<i128>],
        seen: &mut crate::Set<*const Form>,
    ) -> Option<()> {
        match f {
            Form::Const(true) => Some(()),
            Form::And(fs) => fs.iter().try_for_each(|g| bound(g, lo, hi, holes, seen)),
            Form::Shared(g) if !seen.insert(std::rc::Rc::as_ptr(g)) => Some(()),
            Form::Shared(g) => bound(g, lo, hi, holes, seen),
            Form::Atom(l, rel) => match l.terms.as_slice() {
                [] => match rel {
                    Rel::Le => l.c <= 0,
                    Rel::Eq => l.c == 0,
                    Rel::Ne => l.c != 0,
                }
                .then_some(()),
                &[(v, a)] if a != 0 && v < lo.len() => {
                    // a·x + c (rel) 0, so a·x (rel) -c.
                    let r = l.c.checked_neg()?;
                    match rel {
                        Rel::Le if a > 0 => hi[v] = hi[v].min(r.div_euclid(a)),
                        // -b·x ≤ r ⇔ x ≥ ⌈-r / b⌉.
                        Rel::Le => lo[v] = lo[v].max(-(r.div_euclid(a.checked_neg()?))),
                        Rel::Eq if r % a != 0 => return None,
                        Rel::Eq => {
                            lo[v] = lo[v].max(r / a);
                            hi[v] = hi[v].min(r / a);
                        }
                        Rel::Ne if r % a == 0 => holes[v].push(r / a),
                        Rel::Ne => {}
                    }
                    Some(())
                }
                _ => None,
            },
            _ => None,
        }
    }
    for f in &p.formulas {
        bound(f, &mut lo, &mut hi, &mut holes, &mut seen)?;
    }
    let mut out = Vec::with_capacity(n);
    for v in 0..n {
        let (lo, hi, holes) = (lo[v], hi[v], &holes[v]);
        if lo > hi {
            return None;
        }
        let fits = |x: i128| lo <= x && x <= hi && !holes.contains(&x);
        let value = match prefs[v] {
            Pref::Boolean { true_first } => {
                let order = if true_first { [1, 0] } else { [0, 1] };
                order.into_iter().find(|x| fits(*x))?
            }
            Pref::Integer { negative_first } => {
                // Distances from zero, nearest first, from the interval's
                // nearest; each has a value in the interval, so the holes
                // bound the search.
                let mut d = if lo > 0 {
                    lo
                } else if hi < 0 {
                    -hi
                } else {
                    0
                };
                let far = lo.abs().max(hi.abs());
                loop {
                    if d > far {
                        return None;
                    }
                    let order = if negative_first { [-d, d] } else { [d, -d] };
                    if let Some(x) = order.into_iter().find(|x| fits(*x)) {
                        break x;
                    }
                    d += 1;
                }
            }
        };
        out.push(i64::try_from(value).ok()?);
    }
    Some(out)
}

/// [`resolve_spending`] when what it spends does not matter (tests).
#[cfg(test)]
pub fn resolve(p: &Problem, prefs: &[Pref], budget: &Budget) -> Outcome {
    resolve_spending(p, prefs, budget, &mut 0)
}

/// Decide one question with one solver: the canonical witness when an
/// assignment exists, a minimal inadmissible set when none does. Adds the
/// propagations the solver spent to `spent` (a run's questions share a
/// budget of them).
pub fn resolve_spending(p: &Problem, prefs: &[Pref], budget: &Budget, spent: &mut u64) -> Outcome {
    let mut s = match Session::new(p, budget) {
        Ok(s) => s,
        Err(h) => return Outcome::Unknown(h.reason()),
    };
    let outcome = s.decide(prefs);
    *spent = spent.saturating_add(s.enc.s.num_propagations());
    outcome
}

impl Session {
    fn decide(&mut self, prefs: &[Pref]) -> Outcome {
        let all = self.selectors.clone();
        match self.query(&all) {
            Query::Unknown(r) => Outcome::Unknown(r),
            Query::Unsat(core) => {
                let (core, minimal) = self.minimal_set(core);
                Outcome::Unsat { core, minimal }
            }
            Query::Sat => match self.witness(prefs) {
                Ok(values) => Outcome::Sat(values),
                Err(r) => Outcome::Unknown(r),
            },
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const BUDGET: Budget = Budget {
        conflicts_per_query: 100_000,
        total_conflicts: 1_000_000,
        max_queries: 10_000,
        max_clauses: 4_000_000,
        max_propagations: 1_000_000_000,
    };
    const I32: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);
    const I64: (i64, i64) = (i64::MIN, i64::MAX);

    fn ints(n: usize) -> Vec<Pref> {
        vec![
            Pref::Integer {
                negative_first: false
            };
            n
        ]
    }

    fn atom(terms: &[(usize, i128)], c: i128, rel: Rel) -> Form {
        Form::Atom(
            Lin {
                terms: terms.to_vec(),
                c,
            },
            rel,
        )
    }

    fn le(terms: &[(usize, i128)], c: i128) -> Form {
        atom(terms, c, Rel::Le)
    }

    /// 0, 1, -1, 2, -2, ...
    fn key(v: i64) -> (u64, bool) {
        (v.unsigned_abs(), v < 0)
    }

    /// A deterministic xorshift generator (the oracle tests' inputs).
    pub(crate) struct Rng(pub u64);
    impl Rng {
        pub fn next(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + (self.next((hi - lo) as u64 + 1)) as i64
        }
    }

    /// The questions of issue 10, over the declared domains.
    #[test]
    fn textbook_questions_are_decided_exactly() {
        let unsat3 = Outcome::Unsat {
            core: vec![0, 1, 2],
            minimal: true,
        };
        let cases = [
            // a > 5, b < 3, a < b (and b ≥ -100, not needed) over i32.
            (
                vec![I32, I32],
                vec![
                    le(&[(0, -1)], 6),
                    le(&[(1, 1)], -2),
                    le(&[(0, 1), (1, -1)], 1),
                    le(&[(1, -1)], -100),
                ],
                unsat3.clone(),
            ),
            // 3x + 5y = 1, x ≥ 0, y ≥ 0 over i32.
            (
                vec![I32, I32],
                vec![
                    atom(&[(0, 3), (1, 5)], -1, Rel::Eq),
                    le(&[(0, -1)], 0),
                    le(&[(1, -1)], 0),
                ],
                unsat3,
            ),
            // x + y = 10^12, x > 0, y > 0 over i64.
            (
                vec![I64, I64],
                vec![
                    atom(&[(0, 1), (1, 1)], -1_000_000_000_000, Rel::Eq),
                    le(&[(0, -1)], 1),
                    le(&[(1, -1)], 1),
                ],
                Outcome::Sat(vec![1, 999_999_999_999]),
            ),
        ];
        for (domains, formulas, expected) in cases {
            let p = Problem { domains, formulas };
            assert_eq!(resolve(&p, &ints(2), &BUDGET), expected, "{p:?}");
        }
    }

    #[test]
    fn the_ends_of_i64_are_exact() {
        // x ≤ i64::MIN + 1 ∧ x ≠ i64::MIN: the only value is MIN + 1.
        let p = Problem {
            domains: vec![I64],
            formulas: vec![
                le(&[(0, 1)], -(i64::MIN as i128 + 1)),
                atom(&[(0, 1)], -(i64::MIN as i128), Rel::Ne),
            ],
        };
        assert_eq!(
            resolve(&p, &ints(1), &BUDGET),
            Outcome::Sat(vec![i64::MIN + 1])
        );
        // x - y ≥ 2^63 + 1 over i64: only x = MAX, y = MIN - ... impossible
        // beyond the range, so exactly the pairs with x - y = 2^64 - 1.
        let p = Problem {
            domains: vec![I64, I64],
            formulas: vec![le(&[(0, -1), (1, 1)], (1i128 << 64) - 1)],
        };
        assert_eq!(
            resolve(&p, &ints(2), &BUDGET),
            Outcome::Sat(vec![i64::MAX, i64::MIN])
        );
    }

    /// Questions that only bound their unknowns: the witness found without
    /// the solver is the solver's, and where none is found the solver finds
    /// none either.
    #[test]
    fn bounds_only_agrees_with_the_solver() {
        let mut rng = Rng(0x3c6e_f372_fe94_f82b);
        let mut draw = |n: u64| rng.next(n);
        let (mut found, mut none) = (0, 0);
        for round in 0..600 {
            let wide = round % 3 == 0;
            let n = 1 + draw(3) as usize;
            let domains: Vec<(i64, i64)> = (0..n)
                .map(|_| match draw(3) {
                    0 if wide => I64,
                    0 => (0, 1),
                    1 => (-8, 8),
                    _ => I32,
                })
                .collect();
            let prefs: Vec<Pref> = domains
                .iter()
                .map(|d| match (*d, draw(2)) {
                    ((0, 1), b) => Pref::Boolean { true_first: b == 1 },
                    (_, b) => Pref::Integer {
                        negative_first: b == 1,
                    },
                })
                .collect();
            let mut formulas = Vec::new();
            for _ in 0..draw(5) {
                let v = draw(n as u64) as usize;
                let a = [1, -1, 2, -3, 5][draw(5) as usize] as i128;
                let c = draw(21) as i128 - 10 + if wide { (draw(3) as i128 - 1) << 62 } else { 0 };
                let rel = [Rel::Le, Rel::Le, Rel::Eq, Rel::Ne][draw(4) as usize];
                let f = atom(&[(v, a)], c, rel);
                formulas.push(if draw(4) == 0 { Form::And(vec![f]) } else { f });
            }
            let p = Problem { domains, formulas };
            let solver = resolve(&p, &prefs, &BUDGET);
            match bounds_only(&p, &prefs) {
                Some(w) => {
                    found += 1;
                    assert_eq!(solver, Outcome::Sat(w), "{p:?} {prefs:?}");
                }
                None => {
                    none += 1;
                    assert!(
                        matches!(solver, Outcome::Unsat { .. }),
                        "{p:?} {prefs:?}: {solver:?}"
                    );
                }
            }
        }
        assert!(found > 200 && none > 50, "{found} found, {none} none");
        // A bound shared at each of 60 levels is visited once.
        let mut f = Form::And(vec![le(&[(0, -1)], 3)]).shared();
        for _ in 0..60 {
            f = Form::And(vec![f.clone(), f]).shared();
        }
        let p = Problem {
            domains: vec![I32],
            formulas: vec![f],
        };
        assert_eq!(bounds_only(&p, &ints(1)), Some(vec![3]));
        // Two unknowns in one formula, or a disjunction: the solver's.
        let p = Problem {
            domains: vec![I32, I32],
            formulas: vec![le(&[(0, 1), (1, 1)], 0)],
        };
        assert_eq!(bounds_only(&p, &ints(2)), None);
        let p = Problem {
            domains: vec![I32],
            formulas: vec![Form::Or(vec![le(&[(0, 1)], 0)])],
        };
        assert_eq!(bounds_only(&p, &ints(1)), None);
    }

    #[test]
    fn booleans_follow_their_preference() {
        let p = Problem {
            domains: vec![(0, 1), (0, 1)],
            formulas: vec![],
        };
        let prefs = [
            Pref::Boolean { true_first: false },
            Pref::Boolean { true_first: true },
        ];
        assert_eq!(resolve(&p, &prefs, &BUDGET), Outcome::Sat(vec![0, 1]));
        let prefs = [Pref::Integer {
            negative_first: true,
        }];
        let p = Problem {
            domains: vec![(-5, 5)],
            formulas: vec![le(&[(0, -1)], 3)],
        };
        // |x| ≥ 3, negative first: -3.
        let p2 = Problem {
            domains: p.domains.clone(),
            formulas: vec![Form::Or(vec![le(&[(0, -1)], 3), le(&[(0, 1)], 3)])],
        };
        assert_eq!(resolve(&p2, &prefs, &BUDGET), Outcome::Sat(vec![-3]));
        assert_eq!(resolve(&p, &prefs, &BUDGET), Outcome::Sat(vec![3]));
    }

    #[test]
    fn one_solver_per_question() {
        let p = Problem {
            domains: vec![I32; 4],
            formulas: vec![
                le(&[(0, -1), (1, -1)], 10),
                atom(&[(2, 1), (3, -2)], -7, Rel::Eq),
                le(&[(0, 1)], -3),
            ],
        };
        let before = solvers_built();
        assert!(matches!(resolve(&p, &ints(4), &BUDGET), Outcome::Sat(_)));
        assert_eq!(solvers_built() - before, 1);
        let q = Problem {
            domains: vec![I32; 2],
            formulas: vec![
                le(&[(0, 1), (1, -1)], 1),
                le(&[(1, 1), (0, -1)], 0),
                le(&[(0, 1)], 0),
            ],
        };
        let before = solvers_built();
        assert!(matches!(
            resolve(&q, &ints(2), &BUDGET),
            Outcome::Unsat { .. }
        ));
        assert_eq!(solvers_built() - before, 1);
    }

    /// The propagation budget stops a call in the middle (it was checked
    /// only between calls: one call of 20 000 conflicts ran 53 s).
    #[test]
    fn propagations_stop_a_call() {
        // Subset sum with wide odd weights: refuting it takes many conflicts.
        let weights: Vec<(usize, i128)> = (0..12)
            .map(|i| (i, 1_000_000_007 + 7919 * (i * i) as i128))
            .collect();
        let target: i128 = weights.iter().step_by(2).map(|(_, w)| w).sum::<i128>() + 1;
        let mut formulas = vec![atom(&weights, -target, Rel::Eq)];
        for i in 0..12 {
            formulas.push(atom(&[(i, -1)], 0, Rel::Le));
            formulas.push(atom(&[(i, 1)], -1, Rel::Le));
        }
        let p = Problem {
            domains: vec![I64; 12],
            formulas,
        };
        let full = {
            let Ok(mut s) = Session::new(&p, &BUDGET) else {
                panic!("not encoded")
            };
            let all = s.selectors.clone();
            assert!(matches!(s.query(&all), Query::Unsat(_)));
            s.enc.s.num_propagations()
        };
        let cap = full / 4;
        let capped = Budget {
            max_propagations: cap,
            ..BUDGET
        };
        let Ok(mut s) = Session::new(&p, &capped) else {
            panic!("not encoded")
        };
        let all = s.selectors.clone();
        assert!(matches!(s.query(&all), Query::Unknown(_)));
        let used = s.enc.s.num_propagations();
        assert!(used < full / 2, "{used} of {full} with a cap of {cap}");
    }

    #[test]
    fn budgets_stop_the_solver() {
        // Parity over wide domains needs search; with no conflicts allowed
        // and one query, the answer is undetermined, never a guess.
        let p = Problem {
            domains: vec![I64, I64, I64],
            formulas: vec![atom(
                &[(0, 6), (1, 10), (2, 14)],
                -1_000_000_000_001,
                Rel::Eq,
            )],
        };
        let tight = Budget {
            conflicts_per_query: 0,
            ..BUDGET
        };
        assert!(matches!(resolve(&p, &ints(3), &tight), Outcome::Unknown(_)));
        let tiny = Budget {
            max_clauses: 50,
            ..BUDGET
        };
        match resolve(&p, &ints(3), &tiny) {
            Outcome::Unknown(r) => assert!(r.contains("clauses"), "{r}"),
            other => panic!("{other:?}"),
        }
        // Propagations are counted across calls: the witness search of
        // x + y = 10^12 needs more than one call.
        let sum = Problem {
            domains: vec![I64, I64],
            formulas: vec![atom(&[(0, 1), (1, 1)], -1_000_000_000_000, Rel::Eq)],
        };
        let few = Budget {
            max_propagations: 10,
            ..BUDGET
        };
        assert!(matches!(resolve(&sum, &ints(2), &few), Outcome::Unknown(_)));
        assert_eq!(
            resolve(&sum, &ints(2), &BUDGET),
            Outcome::Sat(vec![0, 1_000_000_000_000])
        );
        // And with the budget, parity refutes it exactly.
        assert_eq!(
            resolve(&p, &ints(3), &BUDGET),
            Outcome::Unsat {
                core: vec![0],
                minimal: true
            }
        );
    }

    /// Random small problems: the verdict, the canonical witness and the
    /// minimality of every set agree with brute force.
    #[test]
    fn agrees_with_brute_force() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let (mut sat, mut unsat) = (0, 0);
        for _ in 0..400 {
            let n = 1 + rng.next(3) as usize;
            let domains: Vec<(i64, i64)> = (0..n)
                .map(|_| {
                    let lo = rng.range(-6, 2);
                    (lo, lo + rng.range(0, 7))
                })
                .collect();
            let atom_of = |rng: &mut Rng| {
                let k = 1 + rng.next(n as u64) as usize;
                let mut terms: Vec<(usize, i128)> = (0..k)
                    .map(|_| (rng.next(n as u64) as usize, rng.range(-4, 4) as i128))
                    .collect();
                terms.sort();
                terms.dedup_by_key(|t| t.0);
                terms.retain(|t| t.1 != 0);
                let rel = [Rel::Le, Rel::Le, Rel::Eq, Rel::Ne][rng.next(4) as usize];
                atom(&terms, rng.range(-8, 8) as i128, rel)
            };
            let nf = 1 + rng.next(5) as usize;
            let formulas: Vec<Form> = (0..nf)
                .map(|_| match rng.next(5) {
                    0 => Form::Or(vec![atom_of(&mut rng), atom_of(&mut rng)]),
                    1 => Form::And(vec![atom_of(&mut rng), atom_of(&mut rng).not()]),
                    _ => atom_of(&mut rng),
                })
                .collect();
            let prefs: Vec<Pref> = (0..n)
                .map(|_| Pref::Integer {
                    negative_first: rng.next(2) == 0,
                })
                .collect();
            let p = Problem {
                domains: domains.clone(),
                formulas: formulas.clone(),
            };
            let all = assignments(&domains);
            let holds = |set: &[usize], x: &[i64]| set.iter().all(|i| formulas[*i].holds(x));
            let every: Vec<usize> = (0..nf).collect();
            let order = |x: &Vec<i64>| {
                x.iter()
                    .zip(&prefs)
                    .map(|(v, p)| match p {
                        Pref::Integer {
                            negative_first: true,
                        } => (v.unsigned_abs(), *v >= 0),
                        _ => key(*v),
                    })
                    .collect::<Vec<_>>()
            };
            let best = all
                .iter()
                .filter(|x| holds(&every, x))
                .min_by_key(|x| order(x))
                .cloned();
            match (resolve(&p, &prefs, &BUDGET), best) {
                (Outcome::Sat(got), Some(b)) => {
                    sat += 1;
                    assert_eq!(got, b, "canonical witness of {formulas:?} over {domains:?}");
                }
                (Outcome::Unsat { core, minimal }, None) => {
                    unsat += 1;
                    assert!(minimal);
                    assert!(
                        !all.iter().any(|x| holds(&core, x)),
                        "{core:?} must be inadmissible"
                    );
                    for i in &core {
                        let rest: Vec<usize> = core.iter().copied().filter(|j| j != i).collect();
                        assert!(
                            all.iter().any(|x| holds(&rest, x)),
                            "dropping #{i} must make {core:?} of {formulas:?} satisfiable"
                        );
                    }
                }
                (r, b) => panic!("{formulas:?} over {domains:?}: brute force {b:?}, solver {r:?}"),
            }
        }
        assert!(sat > 50 && unsat > 50, "{sat} satisfiable, {unsat} not");
    }

    /// Wide domains, where brute force is impossible: planted solutions must
    /// be found (and every model checked), planted contradictions refuted.
    #[test]
    fn planted_answers_on_wide_domains() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..60 {
            let n = 2 + rng.next(4) as usize;
            let wide = if round % 2 == 0 { I32 } else { I64 };
            let point: Vec<i64> = (0..n).map(|_| rng.range(wide.0 / 4, wide.1 / 4)).collect();
            let mut formulas = Vec::new();
            for _ in 0..1 + rng.next(4) {
                let mut terms: Vec<(usize, i128)> = Vec::new();
                for v in 0..n {
                    let a = rng.range(-9, 9) as i128;
                    if rng.next(2) == 0 && a != 0 {
                        terms.push((v, a));
                    }
                }
                let at: i128 = terms.iter().map(|(v, a)| a * point[*v] as i128).sum();
                let slack = rng.range(0, 1000) as i128;
                formulas.push(match rng.next(3) {
                    0 => atom(&terms, -at, Rel::Eq),
                    1 => le(&terms, -at - slack),
                    _ => atom(&terms, -at + 1 + slack, Rel::Ne),
                });
            }
            let p = Problem {
                domains: vec![wide; n],
                formulas: formulas.clone(),
            };
            match resolve(&p, &ints(n), &BUDGET) {
                Outcome::Sat(m) => {
                    assert!(
                        formulas.iter().all(|f| f.holds(&m)),
                        "model {m:?} of {formulas:?}"
                    )
                }
                other => panic!("{formulas:?} has the planted {point:?}, solver {other:?}"),
            }
            // A contradiction: L ≤ k and L ≥ k + 1 for a random linear L, plus noise.
            let terms: Vec<(usize, i128)> = (0..n).map(|v| (v, rng.range(1, 9) as i128)).collect();
            let k = rng.range(-1_000_000, 1_000_000) as i128;
            let mut forms = formulas.clone();
            forms.push(le(&terms, -k));
            let neg: Vec<(usize, i128)> = terms.iter().map(|(v, a)| (*v, -a)).collect();
            forms.push(le(&neg, k + 1));
            let last = forms.len();
            let p = Problem {
                domains: vec![wide; n],
                formulas: forms,
            };
            match resolve(&p, &ints(n), &BUDGET) {
                Outcome::Unsat {
                    core,
                    minimal: true,
                } => {
                    // The planted constraints hold together (the point), so
                    // the set has a half of the contradiction; and dropping
                    // any member leaves a satisfiable rest, checked on the
                    // model concretely.
                    assert!(core.contains(&(last - 2)) || core.contains(&(last - 1)));
                    for i in &core {
                        let rest: Vec<Form> = core
                            .iter()
                            .filter(|j| *j != i)
                            .map(|j| p.formulas[*j].clone())
                            .collect();
                        let q = Problem {
                            domains: p.domains.clone(),
                            formulas: rest.clone(),
                        };
                        match resolve(&q, &ints(n), &BUDGET) {
                            Outcome::Sat(m) => assert!(rest.iter().all(|f| f.holds(&m))),
                            other => panic!("dropping #{i} of {core:?}: {other:?}"),
                        }
                    }
                }
                other => panic!("planted contradiction, solver {other:?}"),
            }
        }
    }
}
