//! Property tests over randomly generated textual DIR programs (the corpus
//! tests in corpus.rs check the same properties on the fixed corpus).
//!
//! A small typed generator writes programs with shapes, K/Q/Φ processes
//! with parameters, lets, constraints (anywhere in the body: their scope is
//! the whole process, §7.3), `prove`, the three effects, calls between
//! processes (with the bindings cross-regime calls need), struct literals,
//! field access, every operator (as words and as symbols) and literals of
//! every type. Programs come in three kinds:
//!
//! - `Safe`: built to execute (small literals, divisors that are non-zero
//!   literals, constraints that hold);
//! - `Risky`: random constraints and literals, contracts and deadlines that
//!   may not hold, and a fault planted after the last effect (division by
//!   zero, overflow, a non-finite float, a false constraint), so runs fail or
//!   are inadmissible after effects were recorded;
//! - `Bug`: a valid program with one static error planted (unknown name,
//!   type error, duplicate process, effect in Q or Φ, recursion, ...).
//!
//! Properties (each test collects every violation and fails with their
//! number and the first in full; `GEN_ALL=1` prints them all):
//!
//! 1. text -> JSON -> text round trips, for all three kinds (and the
//!    canonical text is a fixed point); and JSON -> text -> JSON on the JSON
//!    of generated programs edited the way only JSON spells things;
//! 2. runs are deterministic: the same engine twice, a fresh engine, the
//!    explanation, and the program's JSON form decides the same;
//! 3. realize mode hands the realizer exactly the trace's effects of an
//!    executed run, and nothing at all for any other outcome (with every
//!    outcome category, and runs stopped after recording effects, occurring
//!    often enough);
//! 4. the generator's intent holds: a `Safe`/`Risky` program is never
//!    rejected, a `Bug` program always is.
//!
//! Every failure message names the seed and prints the program. To look at
//! programs and their verdicts: `GEN_SEEDS=300131..300140 cargo test -p
//! conformance --test generated -- --ignored --nocapture`, or
//! `GEN_FILE=path` for a hand-minimised one; `GEN_N=5000` soaks.

use engine::{Engine, Mode, Outcome, Report, RunConfig, Source, Tables};
use std::collections::{BTreeMap, BTreeSet};

// ------------------------------------------------------------------ rng

/// xorshift64, seeded through splitmix64 so neighbouring seeds differ.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(z | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with probability `pct` percent.
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------- model

#[derive(Clone, Debug, PartialEq)]
enum Ty {
    I64,
    I32,
    F64,
    F32,
    Bool,
    Str,
    Shape(usize),
    Witness(Box<Ty>),
}

impl Ty {
    fn is_int(&self) -> bool {
        matches!(self, Ty::I64 | Ty::I32)
    }
    fn is_num(&self) -> bool {
        matches!(self, Ty::I64 | Ty::I32 | Ty::F64 | Ty::F32)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Regime {
    K,
    Q,
    Phi,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Safe,
    Risky,
    Bug,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Or,
    And,
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn prec(self) -> u8 {
        match self {
            Op::Or => 1,
            Op::And => 2,
            Op::Eq => 3,
            Op::Lt | Op::Le | Op::Gt | Op::Ge => 4,
            Op::Add | Op::Sub => 5,
            Op::Mul | Op::Div => 6,
        }
    }
    fn word(self) -> &'static str {
        match self {
            Op::Or => "Or",
            Op::And => "And",
            Op::Eq => "Eq",
            Op::Lt => "Lt",
            Op::Le => "Le",
            Op::Gt => "Gt",
            Op::Ge => "Ge",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
        }
    }
    fn symbol(self) -> &'static str {
        match self {
            Op::Or => "||",
            Op::And => "&&",
            Op::Eq => "==",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
        }
    }
}

/// An expression tree, printed with the fewest parentheses §3.8 needs
/// (plus some redundant ones), so the printer's precedence is exercised.
#[derive(Clone, Debug)]
enum E {
    /// A literal or a name, printed as is.
    Atom(String),
    Bin(Box<E>, Op, Box<E>),
    Field(Box<E>, String),
    Call(String, Vec<E>),
    Struct(String, Vec<(String, E)>),
    Paren(Box<E>),
}

fn atom(s: impl Into<String>) -> E {
    E::Atom(s.into())
}

fn bin(l: E, op: Op, r: E) -> E {
    E::Bin(Box::new(l), op, Box::new(r))
}

struct ShapeDef {
    name: String,
    fields: Vec<(String, Ty)>,
}

struct ProcDef {
    regime: Regime,
    name: String,
    params: Vec<(String, Ty)>,
    ret: Option<Ty>,
    /// Performs an effect, itself or through a call.
    emits: bool,
    /// Calls a Q process, itself or through a call.
    calls_q: bool,
    text: String,
}

/// A generated program and how to run it.
struct Program {
    seed: u64,
    kind: Kind,
    /// What was planted (a static error for `Bug`, a late fault for `Risky`).
    planted: Option<&'static str>,
    text: String,
    args: Vec<String>,
    /// The entry declares `uses` (resources decide differently per mode).
    uses: bool,
    /// A fault was planted in main after an effect statement: the run
    /// records effects before it stops.
    fault_after_effect: bool,
    /// `--entry` as given (main, K::main or Forge::K::main), if any.
    entry: Option<String>,
    /// `--deny-resource`.
    deny: Vec<String>,
}

impl Program {
    fn config(&self, mode: Mode) -> RunConfig {
        let mut cfg = RunConfig::new(mode);
        cfg.args = self.args.iter().map(|a| RunConfig::arg(a)).collect();
        cfg.entry = self.entry.clone();
        cfg.deny_resources = self.deny.clone();
        cfg
    }

    fn show(&self) -> String {
        format!(
            "seed {} ({:?}, planted {:?}, args {:?}, entry {:?}, deny {:?}):\n{}",
            self.seed, self.kind, self.planted, self.args, self.entry, self.deny, self.text
        )
    }
}

/// The scope an expression is generated in.
struct Cx {
    vars: Vec<(String, Ty)>,
    regime: Regime,
    /// Inside `constrain`/`prove`: only effect-free calls (§7.2).
    pred: bool,
    /// Processes `procs[..callable]` may be called (acyclic by construction).
    callable: usize,
    /// The qualified name of the process being generated (`K::name`).
    me: String,
}

struct Gen {
    rng: Rng,
    kind: Kind,
    forge: String,
    shapes: Vec<ShapeDef>,
    procs: Vec<ProcDef>,
    /// (source, target, clauses), by unordered endpoint pair.
    binds: BTreeMap<(String, String), (String, String, Vec<String>)>,
    fresh: usize,
    /// Set while generating a body: it performs an effect / calls Q.
    cur_emits: bool,
    cur_calls_q: bool,
    /// A fault was planted in main after an effect statement.
    fault_after_effect: bool,
}

const NAME_STEMS: &[&str] = &[
    "a", "v", "x", "n", "tmp", "Address", "Orbit", "Eqn", "Divide", "Lteq", "Gtx", "Andy", "Order",
    "Subtotal", "Mulch", "true_", "falsey", "letter", "emitted", "returns", "calls", "proven",
    "from_", "dirt", "forged", "shaped", "uses_", "bindx", "_u", "K2",
];

const STRING_PIECES: &[&str] = &[
    "a", "Z", "hello", " ", "\\\"", "\\\\", "\\n", "\\r", "\\t", "Φ", "✓", "é", "日本", "//", "/*",
    "{", "}", ";", "->", "::", "'", "0", "Add", "%", "#", "@", "emit", "-1", "1.5", "\t", "\n",
    "\u{7f}", "\u{1}", "\u{2028}",
];

impl Gen {
    fn new(seed: u64, kind: Kind) -> Gen {
        let mut rng = Rng::new(seed);
        let forge = rng
            .pick(&["Gen", "Examples", "F", "Forge", "Lab"])
            .to_string();
        Gen {
            rng,
            kind,
            forge,
            shapes: Vec::new(),
            procs: Vec::new(),
            binds: BTreeMap::new(),
            fresh: 0,
            cur_emits: false,
            cur_calls_q: false,
            fault_after_effect: false,
        }
    }

    fn safe(&self) -> bool {
        self.kind != Kind::Risky
    }

    fn name(&mut self) -> String {
        self.fresh += 1;
        let stem = *self.rng.pick(NAME_STEMS);
        format!("{stem}{}", self.fresh)
    }

    fn spell(&mut self, t: &Ty) -> String {
        let r = &mut self.rng;
        match t {
            Ty::I64 => r.pick(&["i64", "i64", "Int", "I64"]).to_string(),
            Ty::I32 => r.pick(&["i32", "i32", "I32"]).to_string(),
            Ty::F64 => r.pick(&["f64", "F64"]).to_string(),
            Ty::F32 => r.pick(&["f32", "F32"]).to_string(),
            Ty::Bool => r.pick(&["bool", "bool", "Bool"]).to_string(),
            Ty::Str => r.pick(&["String", "String", "string", "str"]).to_string(),
            Ty::Shape(i) => self.shapes[*i].name.clone(),
            Ty::Witness(_) => "PhiWitness".into(),
        }
    }

    /// A type a value can be generated for (no witnesses).
    fn any_ty(&mut self) -> Ty {
        let n = self.shapes.len();
        match self.rng.below(100) {
            0..=29 => Ty::I64,
            30..=44 => Ty::I32,
            45..=52 => Ty::F64,
            53..=57 => Ty::F32,
            58..=71 => Ty::Bool,
            72..=81 => Ty::Str,
            _ if n > 0 => Ty::Shape(self.rng.below(n)),
            _ => Ty::I64,
        }
    }

    fn num_ty(&mut self) -> Ty {
        self.rng
            .pick(&[Ty::I64, Ty::I64, Ty::I32, Ty::F64, Ty::F32])
            .clone()
    }

    fn small_int(&mut self) -> i64 {
        if self.rng.chance(80) {
            self.rng.range(-20, 20)
        } else {
            self.rng.range(-1000, 1000)
        }
    }

    fn int_lit(&mut self, t: &Ty) -> String {
        if !self.safe() && self.rng.chance(12) {
            let xs: &[&str] = if *t == Ty::I32 {
                &["2147483647", "-2147483648", "65536", "46341", "-46341"]
            } else {
                &[
                    "9223372036854775807",
                    "-9223372036854775808",
                    "4000000000",
                    "-3037000500",
                    "3037000500",
                ]
            };
            return self.rng.pick(xs).to_string();
        }
        match self.rng.below(40) {
            0 => "-0".into(),
            1 => "007".into(),
            _ => self.small_int().to_string(),
        }
    }

    fn float_lit(&mut self, t: &Ty) -> String {
        if !self.safe() && *t == Ty::F64 && self.rng.chance(8) {
            return format!("1{}.0", "0".repeat(200));
        }
        match self.rng.below(30) {
            0 => "-0.0".into(),
            1 => "1.50".into(),
            2 => "0.1".into(),
            _ => {
                let i = self.rng.range(-30, 30);
                let f = self.rng.range(0, 999);
                let neg = if i == 0 && self.rng.chance(30) {
                    "-"
                } else {
                    ""
                };
                format!("{neg}{i}.{f}")
            }
        }
    }

    fn nonzero_lit(&mut self, t: &Ty) -> String {
        let n = self.rng.range(1, 9) * if self.rng.chance(30) { -1 } else { 1 };
        if t.is_int() {
            n.to_string()
        } else {
            format!("{n}.{}", self.rng.pick(&["0", "5", "25"]))
        }
    }

    fn str_lit(&mut self) -> String {
        let n = self.rng.below(6);
        let mut s = String::from("\"");
        for _ in 0..n {
            let piece: &&str = self.rng.pick(STRING_PIECES);
            s.push_str(piece);
        }
        s.push('"');
        s
    }

    /// A constant of type `t` (literals and struct literals only).
    fn literal(&mut self, t: &Ty) -> E {
        match t {
            Ty::I64 | Ty::I32 => atom(self.int_lit(t)),
            Ty::F64 | Ty::F32 => atom(self.float_lit(t)),
            Ty::Bool => atom(*self.rng.pick(&["true", "false"])),
            Ty::Str => atom(self.str_lit()),
            Ty::Shape(i) => {
                let fields = self.shapes[*i].fields.clone();
                let mut inits: Vec<(String, E)> = fields
                    .iter()
                    .map(|(f, ft)| (f.clone(), self.literal(ft)))
                    .collect();
                if self.rng.chance(40) {
                    self.rng.shuffle(&mut inits);
                }
                E::Struct(self.shapes[*i].name.clone(), inits)
            }
            Ty::Witness(_) => atom("\"no witness literal\""),
        }
    }

    /// Every path from `base` (of type `have`) to a value of type `want`.
    fn paths(&self, base: E, have: &Ty, want: &Ty, depth: u32, out: &mut Vec<E>) {
        if have == want {
            out.push(base.clone());
        }
        if depth == 0 {
            return;
        }
        match have {
            Ty::Shape(i) => {
                for (f, ft) in &self.shapes[*i].fields {
                    self.paths(
                        E::Field(Box::new(base.clone()), f.clone()),
                        ft,
                        want,
                        depth - 1,
                        out,
                    );
                }
            }
            Ty::Witness(sub) => {
                if *want == Ty::Str {
                    for f in ["id", "kind", "proc", "constraint_digest"] {
                        out.push(E::Field(Box::new(base.clone()), f.into()));
                    }
                }
                self.paths(
                    E::Field(Box::new(base), "subject".into()),
                    sub,
                    want,
                    depth - 1,
                    out,
                );
            }
            _ => {}
        }
    }

    fn reference(&mut self, t: &Ty, cx: &Cx) -> Option<E> {
        let mut out = Vec::new();
        for (v, vt) in &cx.vars {
            self.paths(atom(v.clone()), vt, t, 2, &mut out);
        }
        if out.is_empty() {
            None
        } else {
            let i = self.rng.below(out.len());
            Some(out.swap_remove(i))
        }
    }

    /// The name a call uses for `procs[i]`: plain, regime- or forge-qualified.
    fn callee_name(&mut self, i: usize) -> String {
        let (r, n) = (self.procs[i].regime, self.procs[i].name.clone());
        let sym = match r {
            Regime::K => "K",
            Regime::Q => "Q",
            Regime::Phi => "Φ",
        };
        let sym = if r == Regime::Phi && self.rng.chance(30) {
            "Phi"
        } else {
            sym
        };
        match self.rng.below(10) {
            0..=5 => n,
            6..=8 => format!("{sym}::{n}"),
            _ => format!("{}::{sym}::{n}", self.forge),
        }
    }

    fn qname(r: Regime, n: &str) -> String {
        let sym = match r {
            Regime::K => "K",
            Regime::Q => "Q",
            Regime::Phi => "Φ",
        };
        format!("{sym}::{n}")
    }

    /// The binding a cross-regime call needs (§4.6), once per pair.
    fn need_bind(&mut self, caller: &str, callee: String) {
        let key = if caller < callee.as_str() {
            (caller.to_string(), callee.clone())
        } else {
            (callee.clone(), caller.to_string())
        };
        if self.binds.contains_key(&key) {
            return;
        }
        let (src, dst) = if self.rng.chance(50) {
            (callee, caller.to_string())
        } else {
            (caller.to_string(), callee)
        };
        let mut clauses = Vec::new();
        let n = self.rng.below(3);
        for _ in 0..n {
            let c = if self.safe() {
                match self.rng.below(8) {
                    0 => "latency_us < 1000000".to_string(),
                    1 => "witness_transfer == true".into(),
                    2 => "effects_allowed == true".into(),
                    3 => "priority == 3".into(),
                    4 => "latency_us \"<=\" 2000000".into(),
                    5 => "level > -5".into(),
                    6 => "note != \"say \\\"hi\\\" Φ\"".into(),
                    _ => "owner == \"ops team\"".into(),
                }
            } else {
                match self.rng.below(5) {
                    0 => format!("latency_us < {}", self.rng.pick(&[1, 20, 60, 5000])),
                    1 => format!("latency_us <= {}", self.rng.pick(&[0, 15, 100000])),
                    2 => "effects_allowed == false".into(),
                    3 => "witness_transfer == true".into(),
                    _ => "effects_allowed == true".into(),
                }
            };
            if !clauses.contains(&c) {
                clauses.push(c);
            }
        }
        // `effects_allowed` twice with opposite values is a malformed contract.
        if clauses.iter().any(|c| c == "effects_allowed == true")
            && clauses.iter().any(|c| c == "effects_allowed == false")
        {
            clauses.retain(|c| c != "effects_allowed == true");
        }
        self.binds.insert(key, (src, dst, clauses));
    }

    /// A call returning `t` (`None`: a Unit callee), if one is callable here.
    fn call(&mut self, t: Option<&Ty>, depth: u32, cx: &Cx) -> Option<E> {
        if cx.regime != Regime::K {
            return None;
        }
        let cands: Vec<usize> = (0..cx.callable)
            .filter(|&i| {
                let p = &self.procs[i];
                p.ret.as_ref() == t
                    && match p.regime {
                        Regime::K => !cx.pred || (!p.emits && !p.calls_q),
                        Regime::Phi => true,
                        Regime::Q => !cx.pred,
                    }
            })
            .collect();
        if cands.is_empty() {
            return None;
        }
        let i = *self.rng.pick(&cands);
        let params = self.procs[i].params.clone();
        let args = params
            .iter()
            .map(|(_, pt)| self.expr(pt, depth.saturating_sub(1), cx))
            .collect();
        let name = self.callee_name(i);
        let p = &self.procs[i];
        self.cur_emits |= p.emits;
        self.cur_calls_q |= p.calls_q || p.regime == Regime::Q;
        if p.regime != Regime::K {
            let callee = Gen::qname(p.regime, &p.name);
            self.need_bind(&cx.me.clone(), callee);
        }
        Some(E::Call(name, args))
    }

    fn expr(&mut self, t: &Ty, depth: u32, cx: &Cx) -> E {
        if depth == 0 || self.rng.chance(25) {
            let mut e = match self.reference(t, cx) {
                Some(e) if self.rng.chance(60) => e,
                _ => self.literal(t),
            };
            if self.rng.chance(1) {
                // Deeply parenthesised (within the documented nesting limit).
                for _ in 0..self.rng.range(2, 40) {
                    e = E::Paren(Box::new(e));
                }
            }
            return e;
        }
        let d = depth - 1;
        match self.rng.below(12) {
            0..=5 => self.compound(t, depth, cx),
            6 | 7 => match self.call(Some(t), depth, cx) {
                Some(c) => c,
                None => self.compound(t, depth, cx),
            },
            8 => {
                // A field of a struct literal or of a call's result.
                let owners: Vec<(usize, String)> = self
                    .shapes
                    .iter()
                    .enumerate()
                    .flat_map(|(i, s)| {
                        s.fields
                            .iter()
                            .filter(|(_, ft)| ft == t)
                            .map(move |(f, _)| (i, f.clone()))
                    })
                    .collect();
                if owners.is_empty() {
                    return self.compound(t, depth, cx);
                }
                let (si, f) = self.rng.pick(&owners).clone();
                let base = match self.call(Some(&Ty::Shape(si)), d, cx) {
                    Some(c) if self.rng.chance(40) => c,
                    _ => self.compound(&Ty::Shape(si), d, cx),
                };
                E::Field(Box::new(base), f)
            }
            9 => E::Paren(Box::new(self.expr(t, d, cx))),
            _ => self
                .reference(t, cx)
                .unwrap_or_else(|| self.compound(t, depth, cx)),
        }
    }

    /// An operator (or struct literal) at the top.
    fn compound(&mut self, t: &Ty, depth: u32, cx: &Cx) -> E {
        let d = depth.saturating_sub(1);
        if (t.is_int() || *t == Ty::Bool) && self.rng.chance(2) {
            // A long operator chain (within the documented depth limit).
            let n = self.rng.range(10, 120);
            let (ops, unit): (&[Op], &str) = if *t == Ty::Bool {
                (&[Op::And, Op::Or, Op::Eq], "true")
            } else {
                (&[Op::Add, Op::Sub], "1")
            };
            let mut e = atom(unit);
            for _ in 0..n {
                let op = *self.rng.pick(ops);
                e = bin(e, op, atom(unit));
            }
            return e;
        }
        match t {
            _ if t.is_num() => {
                let op = *self.rng.pick(&[Op::Add, Op::Sub, Op::Mul, Op::Div]);
                let l = self.expr(t, d, cx);
                let r = match op {
                    Op::Div if self.safe() => atom(self.nonzero_lit(t)),
                    Op::Mul if self.safe() => {
                        let n = self.rng.range(-3, 3);
                        if t.is_int() {
                            atom(n.to_string())
                        } else {
                            atom(format!("{n}.5"))
                        }
                    }
                    _ => self.expr(t, d, cx),
                };
                bin(l, op, r)
            }
            Ty::Bool => match self.rng.below(10) {
                0..=3 => {
                    let nt = self.num_ty();
                    let op = *self.rng.pick(&[Op::Lt, Op::Le, Op::Gt, Op::Ge]);
                    bin(self.expr(&nt, d, cx), op, self.expr(&nt, d, cx))
                }
                4..=6 => {
                    let et = self.any_ty();
                    bin(self.expr(&et, d, cx), Op::Eq, self.expr(&et, d, cx))
                }
                _ => {
                    let op = *self.rng.pick(&[Op::And, Op::Or]);
                    bin(self.expr(t, d, cx), op, self.expr(t, d, cx))
                }
            },
            Ty::Shape(i) => {
                let fields = self.shapes[*i].fields.clone();
                let mut inits: Vec<(String, E)> = fields
                    .iter()
                    .map(|(f, ft)| (f.clone(), self.expr(ft, d, cx)))
                    .collect();
                if self.rng.chance(40) {
                    self.rng.shuffle(&mut inits);
                }
                E::Struct(self.shapes[*i].name.clone(), inits)
            }
            _ => self.reference(t, cx).unwrap_or_else(|| self.literal(t)),
        }
    }

    /// A predicate that holds (for `Safe`), or any predicate.
    fn predicate(&mut self, cx: &Cx) -> E {
        if self.safe() {
            match self.rng.below(4) {
                0 => {
                    let t = self.any_ty();
                    let e = self.expr(&t, 1, cx);
                    bin(e.clone(), Op::Eq, e)
                }
                1 => {
                    let b = self.expr(&Ty::Bool, 2, cx);
                    bin(b, Op::Or, atom("true"))
                }
                2 => {
                    let b = self.expr(&Ty::Bool, 1, cx);
                    bin(b.clone(), Op::Or, bin(b, Op::Eq, atom("false")))
                }
                _ => atom("true"),
            }
        } else {
            self.expr(&Ty::Bool, 2, cx)
        }
    }

    // ------------------------------------------------------- printing

    fn ws(&mut self) -> &'static str {
        match self.rng.below(60) {
            0 => "  ",
            1 => "\n        ",
            2 => "\t",
            3 => " // a comment inside an expression\n        ",
            _ => " ",
        }
    }

    fn show(&mut self, e: &E, out: &mut String) {
        match e {
            E::Atom(s) => out.push_str(s),
            E::Bin(l, op, r) => {
                let p = op.prec();
                let lp = matches!(&**l, E::Bin(_, o, _) if o.prec() < p);
                let rp = matches!(&**r, E::Bin(_, o, _) if o.prec() <= p);
                self.show_sub(l, lp, out);
                out.push_str(self.ws());
                out.push_str(if self.rng.chance(20) {
                    op.symbol()
                } else {
                    op.word()
                });
                out.push_str(self.ws());
                self.show_sub(r, rp, out);
            }
            E::Field(b, f) => {
                let parens = matches!(&**b, E::Bin(..));
                self.show_sub(b, parens, out);
                out.push('.');
                out.push_str(f);
            }
            E::Call(c, args) => {
                out.push_str(c);
                out.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.show(a, out);
                }
                out.push(')');
            }
            E::Struct(n, fields) => {
                out.push_str(n);
                out.push('{');
                for (i, (f, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(f);
                    out.push_str(": ");
                    self.show(v, out);
                }
                if !fields.is_empty() && self.rng.chance(10) {
                    out.push(',');
                }
                out.push('}');
            }
            E::Paren(e) => self.show_sub(e, true, out),
        }
    }

    fn show_sub(&mut self, e: &E, parens: bool, out: &mut String) {
        if parens {
            out.push('(');
            self.show(e, out);
            out.push(')');
        } else {
            self.show(e, out);
        }
    }

    fn text(&mut self, e: &E) -> String {
        let mut s = String::new();
        self.show(e, &mut s);
        s
    }

    fn comment(&mut self) -> String {
        let words = [
            "note",
            "Φ",
            "emit \"x\";",
            "}",
            "let a = 1;",
            "✓",
            "// nested",
        ];
        let n = 1 + self.rng.below(3);
        let mut s = String::from("//");
        for _ in 0..n {
            s.push(' ');
            let w: &&str = self.rng.pick(&words);
            s.push_str(w);
        }
        s
    }

    // ------------------------------------------------------ processes

    fn params(&mut self, n: usize, phi: bool) -> Vec<(String, Ty)> {
        // Φ unknowns: integers, booleans and shapes of them, field by field.
        let flat: Vec<usize> = (0..self.shapes.len())
            .filter(|&i| {
                self.shapes[i]
                    .fields
                    .iter()
                    .all(|(_, t)| t.is_int() || *t == Ty::Bool)
            })
            .collect();
        (0..n)
            .map(|_| {
                let t = if phi {
                    if !flat.is_empty() && self.rng.chance(20) {
                        Ty::Shape(*self.rng.pick(&flat))
                    } else {
                        self.rng.pick(&[Ty::I32, Ty::I64, Ty::Bool]).clone()
                    }
                } else {
                    self.any_ty()
                };
                (self.name(), t)
            })
            .collect()
    }

    fn signature(
        &mut self,
        regime: Regime,
        name: &str,
        params: &[(String, Ty)],
        ret: &Option<Ty>,
        tail: &str,
    ) -> String {
        let sym = match regime {
            Regime::K => "K",
            Regime::Q => "Q",
            Regime::Phi => *self.rng.pick(&["Φ", "Φ", "Phi"]),
        };
        let ps: Vec<String> = params
            .iter()
            .map(|(n, t)| format!("{n}: {}", self.spell(t)))
            .collect();
        let mut s = format!("  proc {sym} {name}({})", ps.join(", "));
        if let Some(r) = ret {
            s.push_str(&format!(" -> {}", self.spell(r)));
        }
        s.push_str(tail);
        s
    }

    fn body_text(&mut self, sig: String, stmts: &[String]) -> String {
        let mut s = sig;
        s.push_str(" {\n");
        for st in stmts {
            if self.rng.chance(5) {
                let c = self.comment();
                s.push_str(&format!("    {c}\n"));
            }
            if self.rng.chance(3) {
                s.push('\n');
            }
            s.push_str("    ");
            s.push_str(st);
            if self.rng.chance(4) {
                let c = self.comment();
                s.push_str(&format!(" {c}"));
            }
            s.push('\n');
        }
        s.push_str("  }\n");
        s
    }

    /// A K body: lets, effects, calls, proves and constraints (placed
    /// anywhere: their scope is the whole process), then the return.
    fn k_body(
        &mut self,
        me: &str,
        params: &[(String, Ty)],
        ret: &Option<Ty>,
        fault: Option<&'static str>,
    ) -> Vec<String> {
        let mut cx = Cx {
            vars: params.to_vec(),
            regime: Regime::K,
            pred: false,
            callable: self.procs.len(),
            me: me.to_string(),
        };
        let depth = if self.safe() { 2 } else { 3 };
        let mut stmts: Vec<String> = Vec::new();
        let mut last_effect = None;
        let n = 1 + self.rng.below(8);
        let mut constraints = 0;
        for _ in 0..n {
            match self.rng.below(100) {
                0..=37 => {
                    let t = self.any_ty();
                    let e = self.expr(&t, depth, &cx);
                    let v = self.name();
                    let e = self.text(&e);
                    stmts.push(format!("let {v} = {e};"));
                    cx.vars.push((v, t));
                }
                38..=47 => {
                    let t = if self.rng.chance(15) {
                        None
                    } else {
                        Some(self.any_ty())
                    };
                    let Some(E::Call(c, args)) = self.call(t.as_ref(), depth, &cx) else {
                        continue;
                    };
                    let call = self.text(&E::Call(c, args));
                    match t {
                        Some(t) => {
                            let v = self.name();
                            if self.rng.chance(50) {
                                stmts.push(format!("call {call} -> {v};"));
                            } else {
                                stmts.push(format!("let {v} = {call};"));
                            }
                            cx.vars.push((v, t));
                        }
                        None => stmts.push(format!("call {call};")),
                    }
                }
                48..=77 => {
                    let kind = *self.rng.pick(&["emit", "emit", "emit", "observe", "seal"]);
                    let e = if self.rng.chance(20) && !cx.vars.is_empty() {
                        atom(self.rng.pick(&cx.vars).0.clone())
                    } else {
                        let t = self.any_ty();
                        self.expr(&t, depth, &cx)
                    };
                    let e = self.text(&e);
                    stmts.push(format!("{kind} {e};"));
                    self.cur_emits = true;
                    last_effect = Some((stmts.len(), cx.vars.len()));
                }
                78..=87 => {
                    let mut t = self.any_ty();
                    if t == Ty::Bool {
                        t = Ty::I64;
                    }
                    cx.pred = true;
                    let e = self.expr(&t, depth - 1, &cx);
                    cx.pred = false;
                    let w = self.name();
                    let e = self.text(&e);
                    stmts.push(format!("prove {w} from {e};"));
                    cx.vars.push((w, Ty::Witness(Box::new(t))));
                }
                88..=93 => {
                    cx.pred = true;
                    let e = self.predicate(&cx);
                    cx.pred = false;
                    let w = self.name();
                    let e = self.text(&e);
                    // A boolean `prove` binds a name that is not used again.
                    stmts.push(format!("prove {w} from {e};"));
                }
                _ => constraints += 1,
            }
        }
        if let Some(f) = fault {
            self.fault_after_effect |= last_effect.is_some() && me == "K::main";
            let (at, in_scope) = last_effect.unwrap_or((stmts.len(), cx.vars.len()));
            let planted = self.fault(f, &cx.vars[..in_scope]);
            for (k, s) in planted.into_iter().enumerate() {
                stmts.insert(at + k, s);
            }
        }
        // Constraints see every let of the process (§7.3): generated with
        // the whole scope, placed anywhere before the return.
        if self.rng.chance(30) {
            constraints += 1;
        }
        for _ in 0..constraints {
            cx.pred = true;
            let e = self.predicate(&cx);
            cx.pred = false;
            let e = self.text(&e);
            let at = self.rng.below(stmts.len() + 1);
            stmts.insert(at, format!("constrain {e};"));
        }
        let r = match ret {
            Some(t) => {
                let e = self.expr(t, depth, &cx);
                format!("return {};", self.text(&e))
            }
            None => "return;".into(),
        };
        stmts.push(r);
        stmts
    }

    /// Statements that fault at run time (or make the process inadmissible).
    fn fault(&mut self, f: &'static str, vars: &[(String, Ty)]) -> Vec<String> {
        let a = self.name();
        let b = self.name();
        let int_var = vars
            .iter()
            .filter(|(_, t)| *t == Ty::I64)
            .map(|(v, _)| v.clone())
            .next()
            .unwrap_or_else(|| "41".into());
        match f {
            "division by zero" => vec![
                format!("let {a} = 0;"),
                format!("let {b} = {int_var} Div {a};"),
            ],
            "i64 overflow" => vec![
                format!("let {a} = 9223372036854775807;"),
                format!("let {b} = {a} Add {};", self.rng.range(1, 9)),
            ],
            "i64::MIN / -1" => vec![
                format!("let {a} = -9223372036854775808;"),
                format!("let {b} = {a} Div -1;"),
            ],
            "float overflow" => vec![
                format!("let {a} = 1{}.0;", "0".repeat(200)),
                format!("let {b} = {a} Mul {a};"),
            ],
            "float division by zero" => {
                vec![format!("let {a} = 0.0;"), format!("let {b} = 1.5 Div {a};")]
            }
            _ => vec![
                format!("let {a} = {};", self.rng.range(-5, 5)),
                format!("constrain {a} Lt {a};"),
            ],
        }
    }

    fn k_helper(&mut self, fault: Option<&'static str>) -> ProcDef {
        let name = self.name();
        let np = self.rng.below(3);
        let params = self.params(np, false);
        let ret = if self.rng.chance(80) {
            Some(self.any_ty())
        } else {
            None
        };
        self.cur_emits = false;
        self.cur_calls_q = false;
        let me = Gen::qname(Regime::K, &name);
        let stmts = self.k_body(&me, &params, &ret, fault);
        let sig = self.signature(Regime::K, &name, &params, &ret, "");
        let text = self.body_text(sig, &stmts);
        ProcDef {
            regime: Regime::K,
            name,
            params,
            ret,
            emits: self.cur_emits,
            calls_q: self.cur_calls_q,
            text,
        }
    }

    /// A Φ process over integers and booleans: linear lets and constraints.
    fn phi_proc(&mut self, name: String, params: Vec<(String, Ty)>) -> ProcDef {
        // Shape parameters are used through their fields.
        let mut vars: Vec<(String, Ty)> = Vec::new();
        for (p, t) in &params {
            match t {
                Ty::Shape(i) => {
                    for (f, ft) in &self.shapes[*i].fields {
                        vars.push((format!("{p}.{f}"), ft.clone()));
                    }
                }
                _ => vars.push((p.clone(), t.clone())),
            }
        }
        let mut stmts = Vec::new();
        if vars.is_empty() {
            // Only empty shapes: a boolean let to constrain.
            let v = self.name();
            stmts.push(format!("let {v} = true;"));
            vars.push((v, Ty::Bool));
        }
        for _ in 0..self.rng.below(3) {
            let ints: Vec<(String, Ty)> =
                vars.iter().filter(|(_, t)| t.is_int()).cloned().collect();
            if ints.is_empty() {
                break;
            }
            let (p, t) = self.rng.pick(&ints).clone();
            let same: Vec<String> = ints
                .iter()
                .filter(|(_, u)| *u == t)
                .map(|(v, _)| v.clone())
                .collect();
            let e = match self.rng.below(3) {
                0 => bin(atom(p), Op::Add, atom(self.small_int().to_string())),
                1 => bin(atom(p), Op::Sub, atom(self.rng.pick(&same).clone())),
                _ => bin(atom(p), Op::Mul, atom(self.rng.range(-3, 3).to_string())),
            };
            let v = self.name();
            let e = self.text(&e);
            stmts.push(format!("let {v} = {e};"));
            vars.push((v, t));
        }
        for _ in 0..1 + self.rng.below(2) {
            let (v, t) = self.rng.pick(&vars).clone();
            let e = if self.safe() {
                bin(atom(v.clone()), Op::Eq, atom(v))
            } else if t == Ty::Bool {
                match self.rng.below(3) {
                    0 => atom(v),
                    1 => bin(atom(v), Op::Eq, atom("false")),
                    _ => bin(atom(v.clone()), Op::Or, atom(v)),
                }
            } else if self.rng.chance(15) {
                // Non-linear: decided, or undetermined, never guessed.
                let op = *self.rng.pick(&[Op::Lt, Op::Gt, Op::Eq]);
                bin(
                    bin(atom(v.clone()), Op::Mul, atom(v)),
                    op,
                    atom(self.rng.range(-6, 50).to_string()),
                )
            } else {
                let op = *self.rng.pick(&[Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Eq]);
                bin(atom(v), op, atom(self.rng.range(-6, 6).to_string()))
            };
            let e = self.text(&e);
            let at = self.rng.below(stmts.len() + 1);
            stmts.insert(at, format!("constrain {e};"));
        }
        let (rv, rt) = self.rng.pick(&vars).clone();
        stmts.push(format!("return {rv};"));
        let ret = Some(rt);
        let tail = if self.rng.chance(15) { " [linear]" } else { "" };
        let sig = self.signature(Regime::Phi, &name, &params, &ret, tail);
        let text = self.body_text(sig, &stmts);
        ProcDef {
            regime: Regime::Phi,
            name,
            params,
            ret,
            emits: false,
            calls_q: false,
            text,
        }
    }

    /// A Q process: its linear parameter used exactly once.
    fn q_proc(&mut self, name: String) -> ProcDef {
        let shaped: Vec<usize> = (0..self.shapes.len())
            .filter(|&i| self.shapes[i].fields.iter().any(|(_, t)| t.is_int()))
            .collect();
        let mut stmts = Vec::new();
        let (params, ret);
        if !shaped.is_empty() && self.rng.chance(40) {
            let si = *self.rng.pick(&shaped);
            let t = Ty::Shape(si);
            let p = self.name();
            if self.rng.chance(30) {
                stmts.push(format!("return {p};"));
            } else {
                // Rebuild: one field read (the one use), the rest constants.
                let fields = self.shapes[si].fields.clone();
                let ints: Vec<usize> = (0..fields.len())
                    .filter(|&k| fields[k].1.is_int())
                    .collect();
                let k = *self.rng.pick(&ints);
                let inits = fields
                    .iter()
                    .enumerate()
                    .map(|(j, (f, ft))| {
                        let e = if j == k {
                            bin(
                                E::Field(Box::new(atom(p.clone())), f.clone()),
                                Op::Add,
                                atom(self.rng.range(0, 9).to_string()),
                            )
                        } else {
                            self.literal(ft)
                        };
                        (f.clone(), e)
                    })
                    .collect();
                let u = self.name();
                let e = E::Struct(self.shapes[si].name.clone(), inits);
                let e = self.text(&e);
                stmts.push(format!("let {u} = {e};"));
                stmts.push(format!("return {u};"));
            }
            params = vec![(p, t.clone())];
            ret = Some(t);
        } else {
            let t = self.rng.pick(&[Ty::I64, Ty::I32]).clone();
            let p = self.name();
            if self.rng.chance(40) {
                // Mentions in constraints are non-consuming reads (§7.5.2).
                let e = if self.safe() {
                    bin(atom(p.clone()), Op::Eq, atom(p.clone()))
                } else {
                    bin(atom(p.clone()), Op::Gt, atom(self.small_int().to_string()))
                };
                let e = self.text(&e);
                stmts.push(format!("constrain {e};"));
            }
            let w = self.name();
            let op = *self.rng.pick(&[Op::Add, Op::Sub, Op::Mul]);
            let e = bin(atom(p.clone()), op, atom(self.rng.range(-4, 9).to_string()));
            let e = self.text(&e);
            stmts.push(format!("let {w} = {e};"));
            stmts.push(format!("return {w};"));
            params = vec![(p, t.clone())];
            ret = Some(t);
        }
        let sig = self.signature(Regime::Q, &name, &params, &ret, " [linear]");
        let text = self.body_text(sig, &stmts);
        ProcDef {
            regime: Regime::Q,
            name,
            params,
            ret,
            emits: false,
            calls_q: false,
            text,
        }
    }

    fn shapes(&mut self) {
        for _ in 0..self.rng.below(4) {
            let name = format!(
                "{}{}",
                self.rng.pick(&["Cand", "Pair", "Token", "S", "Box_"]),
                self.fresh + 1
            );
            self.fresh += 1;
            let n = self.rng.below(4);
            let mut fields = Vec::new();
            for _ in 0..n {
                let t = match self.rng.below(10) {
                    0..=3 => Ty::I32,
                    4..=5 => Ty::I64,
                    6 => Ty::Bool,
                    7 => Ty::Str,
                    8 => Ty::F64,
                    _ if !self.shapes.is_empty() => Ty::Shape(self.rng.below(self.shapes.len())),
                    _ => Ty::I64,
                };
                let f = format!(
                    "{}{}",
                    self.rng.pick(&["x", "y", "id", "ok", "label", "inner"]),
                    fields.len()
                );
                fields.push((f, t));
            }
            self.shapes.push(ShapeDef { name, fields });
        }
    }

    fn shape_text(&mut self, i: usize) -> String {
        let fields = self.shapes[i].fields.clone();
        let fs: Vec<String> = fields
            .iter()
            .map(|(f, t)| format!("{f}: {}", self.spell(t)))
            .collect();
        let trailing = if !fs.is_empty() && self.rng.chance(15) {
            ","
        } else {
            ""
        };
        format!(
            "  shape {} {{ {}{trailing} }}\n",
            self.shapes[i].name,
            fs.join(", ")
        )
    }
}

/// A planted static error: extra items and/or statements for `main`.
const BUGS: &[&str] = &[
    "unknown identifier",
    "unknown process",
    "int plus bool",
    "string arithmetic",
    "i32 plus i64",
    "rebinding",
    "duplicate process",
    "unknown shape",
    "unknown field",
    "missing struct field",
    "emit in Φ",
    "seal in Q",
    "unknown effect kind",
    "return type",
    "missing return",
    "unbound cross-regime call",
    "recursion",
    "constrain not bool",
    "Q without linear",
    "later statements",
    "unary operator",
    "arity",
    "phi_witness in K",
    "unknown type",
    "DIR 0.2 header",
    "Q value used twice",
    "Q value never used",
    "return not last",
    "unresolved binding",
    "unknown qualifier",
    "effect in a constraint's call",
    "bad uses argument",
    "v0.2 types and locals",
];

const FAULTS: &[&str] = &[
    "division by zero",
    "i64 overflow",
    "i64::MIN / -1",
    "float overflow",
    "float division by zero",
    "false constraint",
];

/// The program for `seed`.
fn program(seed: u64) -> Program {
    program_with(seed, None)
}

/// The program for `seed`, with static error `forced` planted if given.
fn program_with(seed: u64, forced: Option<&'static str>) -> Program {
    let mut g = Gen::new(seed, Kind::Safe);
    let kind = match g.rng.below(100) {
        0..=49 => Kind::Safe,
        50..=84 => Kind::Risky,
        _ => Kind::Bug,
    };
    let kind = if forced.is_some() { Kind::Bug } else { kind };
    g.kind = kind;
    let bug = (kind == Kind::Bug).then(|| forced.unwrap_or_else(|| *g.rng.pick(BUGS)));
    let fault = (kind == Kind::Risky && g.rng.chance(60)).then(|| *g.rng.pick(FAULTS));
    g.shapes();

    // Helpers, each calling only earlier ones (no recursion, §8.8).
    let fault_in_helper = fault.is_some() && g.rng.chance(30);
    let mut helper_fault = if fault_in_helper { fault } else { None };
    for _ in 0..g.rng.below(5) {
        let p = match g.rng.below(100) {
            0..=54 => g.k_helper(helper_fault.take()),
            55..=79 => {
                let name = g.name();
                let n = 1 + g.rng.below(3);
                let params = g.params(n, true);
                g.phi_proc(name, params)
            }
            _ => {
                let name = g.name();
                g.q_proc(name)
            }
        };
        g.procs.push(p);
    }
    let main_fault = if fault_in_helper && helper_fault.is_none() {
        None
    } else {
        fault
    };

    // The entry.
    let mut args = Vec::new();
    let mut uses = false;
    let mut deny = Vec::new();
    // Planted errors go into a K entry.
    let entry_kind = if kind == Kind::Bug {
        99
    } else {
        g.rng.below(100)
    };
    let main_regime = match entry_kind {
        0..=7 => "Φ",
        8..=11 => "Q",
        _ => "K",
    };
    let entry = match g.rng.below(10) {
        0 => Some("main".to_string()),
        1 => Some(format!("{main_regime}::main")),
        2 => Some(format!("{}::{main_regime}::main", g.forge)),
        _ => None,
    };
    let main = if entry_kind < 8 {
        let n = 1 + g.rng.below(3);
        let params = g.params(n, true);
        g.phi_proc("main".into(), params)
    } else if entry_kind < 12 {
        let q = g.q_proc("main".into());
        let (p, t) = q.params[0].clone();
        let v = g.literal(&t);
        let v = g.text(&v);
        args.push(format!("{p}={v}"));
        q
    } else {
        let np = if g.rng.chance(20) {
            1 + g.rng.below(2)
        } else {
            0
        };
        let params = g.params(np, false);
        for (p, t) in &params {
            // Entry arguments are constants (literals and struct literals).
            let e = g.literal(t);
            let e = g.text(&e);
            args.push(format!("{p}={e}"));
        }
        let ret = if g.rng.chance(75) {
            Some(g.any_ty())
        } else {
            None
        };
        g.cur_emits = false;
        g.cur_calls_q = false;
        let mut stmts = g.k_body("K::main", &params, &ret, main_fault);
        if let Some(b) = bug {
            plant_in_main(&mut g, b, &mut stmts);
        }
        let mut tail = String::new();
        if bug == Some("unknown qualifier") {
            tail.push_str(" [linear, fancy]");
        } else if g.rng.chance(10) {
            tail.push_str(" [linear]");
        }
        let mut us = Vec::new();
        if g.rng.chance(15) {
            us.push(if g.safe() || g.rng.chance(50) {
                "Console(device = \"stdout\")".to_string()
            } else {
                "Console(device = \"stderr\")".to_string()
            });
        }
        if g.rng.chance(10) {
            us.push(if g.safe() {
                "Timer(deadline_us = 1000000)".into()
            } else {
                format!(
                    "Timer(deadline_us = {}, jitter_us = {})",
                    g.rng.pick(&[0, 5, 30, 1000]),
                    g.rng.pick(&[0, 2])
                )
            });
        }
        if bug == Some("bad uses argument") {
            us.push("Console(colour = 3)".into());
        }
        if !g.safe() && g.rng.chance(8) {
            // Not in the catalogue: simulated in simulate mode, unavailable
            // when realizing.
            us.push("Sensor(rate = 1.5, on = true, tag = 'x', name = \"a\\tb\", n = -3)".into());
        }
        if !us.is_empty() && !g.safe() && g.rng.chance(20) {
            deny.push(g.rng.pick(&["Console", "Timer", "Sensor"]).to_string());
        }
        if !us.is_empty() {
            uses = true;
            tail.push_str(&format!(" uses {}", us.join(", ")));
        }
        let sig = g.signature(Regime::K, "main", &params, &ret, &tail);
        let text = g.body_text(sig, &stmts);
        ProcDef {
            regime: Regime::K,
            name: "main".into(),
            params,
            ret,
            emits: g.cur_emits,
            calls_q: g.cur_calls_q,
            text,
        }
    };
    g.procs.push(main);

    // Items: shapes, processes, bindings, in a shuffled order.
    let mut items: Vec<String> = Vec::new();
    for i in 0..g.shapes.len() {
        items.push(g.shape_text(i));
    }
    for p in &g.procs {
        items.push(p.text.clone());
    }
    for (src, dst, clauses) in g.binds.values() {
        let mut s = format!("  bind {src} -> {dst}");
        if !clauses.is_empty() {
            s.push_str(&format!(" {{ {} }}", clauses.join("; ")));
        }
        s.push_str(";\n");
        items.push(s);
    }
    if let Some(b) = bug {
        plant_items(&mut g, b, &mut items);
    }
    if g.rng.chance(50) {
        g.rng.shuffle(&mut items);
    }
    if bug == Some("v0.2 types and locals") {
        items.push(
            "  proc K later() locals [{\"name\": \"a\", \"ty\": \"i64\"}] {\n    return;\n  }\n"
                .into(),
        );
    }
    let version = if bug == Some("DIR 0.2 header") {
        "0.2"
    } else {
        "0.1"
    };
    let mut text = format!("dir {version};\n");
    if g.rng.chance(30) {
        text.push_str(&g.comment());
        text.push('\n');
    }
    if bug == Some("v0.2 types and locals") {
        text.push_str("types [{\"name\": \"T\", \"fields\": [1, -2.5, 1e3, true, null, \"x\\\"y\\u00e9\"], \"more\": {}}];\n");
    }
    text.push_str(&format!("forge {} {{\n", g.forge));
    for (i, it) in items.iter().enumerate() {
        if i > 0 && g.rng.chance(70) {
            text.push('\n');
        }
        text.push_str(it);
    }
    text.push_str("}\n");
    if g.rng.chance(10) {
        // A second forge: another namespace (no main, so the entry stays).
        text.push_str("\nforge Other {\n  shape Cand { x: i32 }\n  proc K helper() -> i64 {\n    return 1;\n  }\n}\n");
    }
    Program {
        seed,
        kind,
        planted: bug.or(fault),
        text,
        args,
        uses,
        fault_after_effect: g.fault_after_effect,
        entry,
        deny,
    }
}

/// Later-version statements (`@Name {json}`). Tags named like v0.1
/// statements (`@Let`) or not capitalised (`@while`) are load errors in
/// text, as their JSON is (dir-grammar/tests/grammar.rs pins that).
const LATER: &[&str] = &[
    "@While {\"cond\": \"true\", \"body\": []};",
    "@Assign {\"name\": \"x\", \"expr\": \"1 Add 2\"};",
    "@If {\"cond\": \"a Lt 1\", \"then\": [{\"Let\": {\"name\": \"q\", \"expr\": \"\\\"s\\\\n\\\"\"}}], \"else\": null};",
    "@For {\"var\": \"i\", \"range\": [0, 10.5e2, -1], \"body\": [], \"note\": \"\\u03a6\"};",
    "@Index {};",
];

/// Plant a statement-level static error in main's body (before its return).
fn plant_in_main(g: &mut Gen, bug: &str, stmts: &mut Vec<String>) {
    let at = g.rng.below(stmts.len());
    let n = g.name();
    let s: Option<String> = match bug {
        "unknown identifier" => Some("emit nosuch_name;".into()),
        "unknown process" => Some(format!("let {n} = nosuch_proc(1);")),
        "int plus bool" => Some(format!("let {n} = 1 Add true;")),
        "string arithmetic" => Some(format!("let {n} = \"a\" Add \"b\";")),
        "rebinding" => {
            stmts.insert(at, format!("let {n} = 1;"));
            Some(format!("let {n} = 2;"))
        }
        "unknown shape" => Some(format!("let {n} = NoSuchShape{{a: 1}};")),
        "unknown field" => Some("emit \"s\".nofield;".into()),
        "unknown effect kind" => Some("print \"x\";".into()),
        "constrain not bool" => Some("constrain 5;".into()),
        "later statements" => {
            // One to three DPL v0.2 statements (`@Name {json}`).
            let n = 1 + g.rng.below(3);
            let mut v = Vec::new();
            for _ in 0..n {
                v.push(LATER[g.rng.below(LATER.len())]);
            }
            Some(v.join("\n    "))
        }
        "unary operator" => Some(format!("let {n} = Neg(5);")),
        "phi_witness in K" => Some(format!("let {n} = phi_witness(\"digest\");")),
        "return not last" => {
            // A second return before the real one.
            Some("return;".into())
        }
        _ => None,
    };
    if let Some(s) = s {
        let at = at.min(stmts.len() - 1);
        stmts.insert(at, s);
    }
}

/// Plant an item-level static error.
fn plant_items(g: &mut Gen, bug: &str, items: &mut Vec<String>) {
    let n = g.name();
    let item = match bug {
        "i32 plus i64" => format!(
            "  shape W32{n} {{ v: i32 }}\n  shape W64{n} {{ w: i64 }}\n  proc K mix{n}() -> i64 {{\n    let a = W32{n}{{v: 1}}.v;\n    let b = W64{n}{{w: 2}}.w;\n    return a Add b;\n  }}\n"
        ),
        "duplicate process" => {
            let i = g.rng.below(g.procs.len());
            g.procs[i].text.clone()
        }
        "missing struct field" => {
            format!("  shape Wide{n} {{ a: i64, b: i64 }}\n  proc K make{n}() -> Wide{n} {{\n    return Wide{n}{{a: 1}};\n  }}\n")
        }
        "emit in Φ" => format!("  proc Φ noisy{n}(x: i64) -> i64 {{\n    emit x;\n    return x;\n  }}\n"),
        "seal in Q" => format!("  proc Q noisy{n}(x: i64) -> i64 [linear] {{\n    seal \"q\";\n    return x;\n  }}\n"),
        "return type" => format!("  proc K bad{n}() -> i64 {{\n    return \"text\";\n  }}\n"),
        "missing return" => format!("  proc K bad{n}() -> i64 {{\n    emit 1;\n  }}\n"),
        "unbound cross-regime call" => format!(
            "  proc Φ check{n}(x: i64) -> i64 {{\n    constrain x Gt 0;\n    return x;\n  }}\n  proc K caller{n}() -> i64 {{\n    return Φ::check{n}(5);\n  }}\n"
        ),
        "recursion" => format!("  proc K loop{n}(x: i64) -> i64 {{\n    let y = loop{n}(x);\n    return y;\n  }}\n"),
        "Q without linear" => format!("  proc Q plain{n}(x: i64) -> i64 {{\n    return x;\n  }}\n"),
        "arity" => format!("  proc K two{n}(a: i64, b: i64) -> i64 {{\n    return a;\n  }}\n  proc K one{n}() -> i64 {{\n    return two{n}(1);\n  }}\n"),
        "unknown type" => format!("  proc K typed{n}(x: Unheard) {{\n    return;\n  }}\n"),
        "Q value used twice" => format!("  proc Q twice{n}(x: i64) -> i64 [linear] {{\n    let a = x Add 1;\n    let b = x Add 2;\n    return a Add b;\n  }}\n"),
        "Q value never used" => format!("  proc Q drop{n}(x: i64) -> i64 [linear] {{\n    let a = 1;\n    return x;\n  }}\n"),
        "unresolved binding" => "  bind K::main -> K::nowhere;\n".to_string(),
        "effect in a constraint's call" => format!(
            "  proc K loud{n}() -> bool {{\n    emit \"loud\";\n    return true;\n  }}\n  proc K quiet{n}() -> i64 {{\n    constrain loud{n}();\n    return 1;\n  }}\n"
        ),
        _ => return,
    };
    items.push(item);
}

// --------------------------------------------------------------- running

fn engine() -> Engine {
    Engine::new(Tables::defaults().expect("default tables")).expect("engine")
}

fn run(engine: &Engine, p: &Program, bytes: &[u8], mode: Mode) -> Report {
    engine.run(&Source { name: "gen", bytes }, &p.config(mode))
}

/// Diagnostics as dustrun renders them (human and JSON), for comparison.
fn rendered(bytes: &[u8], r: &Report) -> String {
    let src = Source { name: "gen", bytes };
    r.diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}{}\n",
                engine::render::human(&src, d),
                engine::render::json(&src, d)
            )
        })
        .collect()
}

/// Programs with each static error of `BUGS` planted, `per` seeds each.
fn every_bug(base: u64, per: u64) -> impl Iterator<Item = Program> {
    BUGS.iter().enumerate().flat_map(move |(i, b)| {
        (0..per).map(move |k| program_with(base + 1000 * i as u64 + k, Some(b)))
    })
}

/// `n` seeds from `base`; `GEN_N=5000` soaks with more.
fn seeds(base: u64, n: u64) -> impl Iterator<Item = u64> {
    let n = std::env::var("GEN_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n);
    (0..n).map(move |i| base + i)
}

const N: u64 = 300;

/// Text -> JSON -> text, JSON -> JSON and canonical text -> text; and the
/// commented canonical text (fmt keeps comments) is a fixed point keeping
/// every comment.
fn round_trip(src: &str) -> Result<(), String> {
    use dir_grammar::print::{to_json, to_text};
    let mut first =
        dir_grammar::load_str(src).map_err(|e| format!("generated text does not load: {e:?}"))?;
    let commented = to_text(&first);
    let again = dir_grammar::load_str(&commented)
        .map_err(|e| format!("commented canonical text does not load: {e:?}\n{commented}"))?;
    if to_text(&again) != commented || again.comments.len() != first.comments.len() {
        return Err(format!(
            "commented text is not a fixed point\n--- first ---\n{commented}--- reprinted ---\n{}",
            to_text(&again)
        ));
    }
    // JSON has no comments: the forms are compared without them.
    first.comments.clear();
    let text = to_text(&first);
    let json = to_json(&first);
    let from_json = dir_grammar::load_str(&json)
        .map_err(|e| format!("its JSON does not load: {e:?}\n--- JSON ---\n{json}"))?;
    let again = to_text(&from_json);
    if again != text {
        return Err(format!(
            "text -> JSON -> text differs\n--- first canonical text ---\n{text}--- text of its JSON ---\n{again}--- JSON ---\n{json}"
        ));
    }
    if to_json(&from_json) != json {
        return Err(format!(
            "JSON -> load -> JSON differs\n--- first ---\n{json}--- second ---\n{}",
            to_json(&from_json)
        ));
    }
    // The canonical text is a fixed point too.
    let from_text = dir_grammar::load_str(&text)
        .map_err(|e| format!("canonical text does not load: {e:?}\n--- canonical ---\n{text}"))?;
    if to_text(&from_text) != text || to_json(&from_text) != json {
        return Err(format!(
            "canonical text is not a fixed point\n--- canonical ---\n{text}--- reprinted ---\n{}",
            to_text(&from_text)
        ));
    }
    Ok(())
}

/// Fail with the number of violations and the first in full (all of them
/// with `GEN_ALL=1`).
fn report(what: &str, wrong: &[String]) {
    if std::env::var_os("GEN_ALL").is_some() {
        for w in wrong {
            eprintln!("=====\n{w}");
        }
    }
    assert!(
        wrong.is_empty(),
        "{what}: {} generated program(s) violate the property; the first:\n{}",
        wrong.len(),
        wrong.first().map(String::as_str).unwrap_or("")
    );
}

// ----------------------------------------------------------- properties

/// Text -> JSON -> text is the identity on the canonical text, and the
/// JSON of the reloaded program is byte-identical, for valid programs and
/// for programs with a planted static error alike.
#[test]
fn generated_programs_round_trip_between_text_and_json() {
    let mut kinds = BTreeMap::new();
    let mut wrong = Vec::new();
    for p in seeds(1, N).map(program).chain(every_bug(400_001, 4)) {
        *kinds.entry(format!("{:?}", p.kind)).or_insert(0) += 1;
        if let Err(why) = round_trip(&p.text) {
            wrong.push(format!("{why}\n{}", p.show()));
        }
    }
    report("round trip", &wrong);
    assert!(
        kinds.len() == 3,
        "every kind of program was generated: {kinds:?}"
    );
}

/// The other direction, JSON -> text -> JSON, on the JSON of generated
/// programs edited in ways only JSON spells directly (the compiler writes
/// JSON): effect kinds named like statement keywords, `Char` and `Float`
/// resource arguments, a later version's regime-wrapped types (brief 2.1:
/// such files must load), contract values and operators of any text. When
/// the edited JSON loads, its canonical text must load and print back the
/// same JSON.
#[test]
fn generated_json_round_trips_through_text() {
    let mut wrong = Vec::new();
    let mut loaded = 0;
    for seed in seeds(700_001, N) {
        let p = program(seed);
        let Ok(first) = dir_grammar::load_str(&p.text) else {
            continue;
        };
        let mut rng = Rng::new(seed ^ 0x5eed);
        let mut v = dir_grammar::print::to_json_value(&first);
        let Some(edit) = edit_json(&mut rng, &mut v) else {
            continue;
        };
        let json = serde_json::to_string_pretty(&v).unwrap();
        let Ok(prog) = dir_grammar::load_str(&json) else {
            continue;
        };
        loaded += 1;
        let canonical = dir_grammar::print::to_json(&prog);
        assert_eq!(
            canonical,
            format!(
                "{}\n",
                serde_json::to_string_pretty(&dir_grammar::print::to_json_value(&prog)).unwrap()
            ),
            "seed {seed}: streamed JSON differs from the tree's"
        );
        let text = dir_grammar::print::to_text(&prog);
        let why = match dir_grammar::load_str(&text) {
            Err(e) => Some(format!("its canonical text does not load: {e:?}")),
            Ok(back) if dir_grammar::print::to_json(&back) != canonical => Some(format!(
                "JSON -> text -> JSON differs\n--- text of the JSON read back ---\n{}",
                dir_grammar::print::to_text(&back)
            )),
            Ok(_) => None,
        };
        if let Some(why) = why {
            wrong.push(format!(
                "{why}\n--- edit: {edit}\n--- canonical text ---\n{text}--- JSON ---\n{canonical}{}",
                p.show()
            ));
        }
    }
    assert!(
        loaded * 3 > N as usize,
        "too few edited JSON programs load: {loaded}"
    );
    report("JSON round trip", &wrong);
}

/// Edit a program's JSON in place, one edit; what was done. `None` when
/// the program has nothing the chosen edit applies to.
fn edit_json(rng: &mut Rng, v: &mut serde_json::Value) -> Option<String> {
    use serde_json::json;
    let forge = v["forges"].get_mut(0)?;
    let n = forge["procs"].as_array()?.len();
    let pr = &mut forge["procs"][rng.below(n)];
    match rng.below(6) {
        0 => {
            // An effect kind named like a statement keyword.
            let body = pr["body"].as_array_mut()?;
            let e = body.iter_mut().find_map(|st| st.get_mut("Effect"))?;
            let k = *rng.pick(&[
                "return",
                "constrain",
                "call",
                "let",
                "prove",
                "bind",
                "Emit",
            ]);
            e["kind"] = json!(k);
            Some(format!("effect kind `{k}`"))
        }
        1 => {
            let c = *rng.pick(&["'", "\\", "\"", "\n", "Φ", "\u{1}", "x"]);
            pr["uses"] = json!([{"resource": "Sensor", "args": [["c", {"Char": c}]]}]);
            Some(format!("uses argument Char {c:?}"))
        }
        2 => {
            let (what, lit) = match rng.below(3) {
                0 => {
                    let f = *rng.pick(&[0.1, -0.0, 1e300, 5e-324, 2.5, 1e21]);
                    (format!("Float {f:?}"), json!({ "Float": f }))
                }
                1 => {
                    let i = *rng.pick(&[i64::MIN, -1, 0, i64::MAX]);
                    (format!("Int {i}"), json!({ "Int": i }))
                }
                _ => {
                    let s = *rng.pick(&["a\"b", "a\\b", "\t\n\r", "Φ", "\u{1}", ""]);
                    (format!("String {s:?}"), json!({ "String": s }))
                }
            };
            pr["uses"] = json!([{"resource": "Sensor", "args": [["a", lit]]}]);
            Some(format!("uses argument {what}"))
        }
        3 => {
            // A later version's regime-wrapped type (brief 2.1: must load).
            let t = *rng.pick(&["K[Int]", "Q[i64]"]);
            if rng.chance(50) {
                pr["ret"] = json!(t);
                Some(format!("return type `{t}`"))
            } else {
                let ps = pr["params"].as_array_mut()?;
                let k = rng.below(ps.len().max(1));
                ps.get_mut(k)?["ty"] = json!(t);
                Some(format!("parameter type `{t}`"))
            }
        }
        4 => {
            let value = *rng.pick(&[
                "99999999999999999999999",
                "007",
                "-0",
                "true",
                "a b",
                "",
                "-",
                "x\"y",
                "Φ",
            ]);
            forge["binds"] = json!([{"source": "K::main", "target": "K::main",
                "contract": [{"key": "attr", "op": "==", "value": value}]}]);
            Some(format!("contract value {value:?}"))
        }
        _ => {
            let op = *rng.pick(&["<", "==", "=>", "", "\"", "in", "!="]);
            forge["binds"] = json!([{"source": "K::main", "target": "K::main",
                "contract": [{"key": "attr", "op": op, "value": "1"}]}]);
            Some(format!("contract operator {op:?}"))
        }
    }
}

/// The same program and configuration give byte-identical traces and
/// identical diagnostics: twice on one engine, once on a fresh engine; and
/// the program's JSON form decides the same (outcome, code, effects, value).
#[test]
fn generated_runs_are_deterministic() {
    let shared = engine();
    let mut wrong = Vec::new();
    let all = seeds(100_001, N).map(program).chain(every_bug(600_001, 1));
    for (i, p) in all.enumerate() {
        let bytes = p.text.as_bytes();
        let a = run(&shared, &p, bytes, Mode::Simulate);
        let b = run(&shared, &p, bytes, Mode::Simulate);
        // A fresh engine (loading the tables again) for every fifth program:
        // building one costs more than running most programs.
        let fresh = (i % 5 == 0).then(engine);
        let c = fresh.as_ref().map(|e| run(e, &p, bytes, Mode::Simulate));
        let ta = a.trace.to_json();
        for (what, other) in [("same engine", Some(&b)), ("fresh engine", c.as_ref())] {
            let Some(o) = other else { continue };
            let tb = o.trace.to_json();
            if ta != tb {
                wrong.push(format!(
                    "trace differs ({what})\n--- first ---\n{ta}--- again ---\n{tb}{}",
                    p.show()
                ));
            } else if a.diagnostics != o.diagnostics || rendered(bytes, &a) != rendered(bytes, o) {
                wrong.push(format!(
                    "diagnostics differ ({what})\n--- first ---\n{}--- again ---\n{}{}",
                    rendered(bytes, &a),
                    rendered(bytes, o),
                    p.show()
                ));
            } else if events(&a) != events(o) {
                wrong.push(format!("realizer events differ ({what})\n{}", p.show()));
            }
        }
        // `explain` is deterministic too, and collecting it changes nothing.
        if i % 2 == 0 {
            let mut cfg = p.config(Mode::Simulate);
            cfg.explain = true;
            let src = Source { name: "gen", bytes };
            let (x, y) = (shared.run(&src, &cfg), shared.run(&src, &cfg));
            let show = |r: &Report| {
                r.explanation.as_ref().map(|x| {
                    format!(
                        "{}\n{}\n{}",
                        serde_json::to_string(x).unwrap(),
                        engine::explain::human(x),
                        engine::explain::dot(x, r.trace.outcome.name())
                    )
                })
            };
            if show(&x) != show(&y) {
                wrong.push(format!("explanations differ\n{}", p.show()));
            }
            if x.trace.to_json() != ta {
                wrong.push(format!(
                    "collecting the explanation changes the trace\n--- without ---\n{ta}--- with ---\n{}{}",
                    x.trace.to_json(),
                    p.show()
                ));
            }
        }
        // The JSON form of a program that loads decides the same.
        if let Ok(prog) = dir_grammar::load(bytes) {
            let json = dir_grammar::print::to_json(&prog);
            let j = run(&shared, &p, json.as_bytes(), Mode::Simulate);
            let (x, y) = (decision(&a), decision(&j));
            if x != y {
                wrong.push(format!(
                    "the JSON form decides differently\n--- text form ---\n{x}\n--- JSON form ---\n{y}\n{}\n--- JSON ---\n{json}",
                    p.show()
                ));
            }
        }
    }
    report("determinism", &wrong);
}

/// What a run decided, independent of the input's form (spans differ).
fn decision(r: &Report) -> String {
    let t = &r.trace;
    format!(
        "outcome {}, error {:?}, effects {}, returned {}, phi {}, rules {:?}",
        t.outcome.name(),
        t.error.as_ref().map(|e| (&e.code, &e.rule, &e.message)),
        serde_json::to_string(&t.effects).unwrap(),
        serde_json::to_string(&t.returned).unwrap(),
        serde_json::to_string(&t.phi).unwrap(),
        t.rules
    )
}

fn events(r: &Report) -> Vec<(String, String, u64, String)> {
    r.events()
        .iter()
        .map(|e| {
            (
                e.kind.to_string(),
                e.payload.to_string(),
                e.tick,
                e.proc.to_string(),
            )
        })
        .collect()
}

/// Realize mode hands the realizer (`Report::events`: what `dustrun`
/// enacts, in order, on stdout and the ledger; cli/src/main.rs `realize`)
/// exactly the trace's effects, in order, for an executed run, and nothing
/// at all for any other outcome, even when effects were recorded before the
/// run failed or was found inadmissible. Every outcome category must occur
/// often enough that the property is really exercised.
#[test]
fn realize_enacts_exactly_the_traced_effects_or_none() {
    let engine = engine();
    let mut wrong = Vec::new();
    let mut by_outcome: BTreeMap<&'static str, usize> = BTreeMap::new();
    // Stopped runs whose entry recorded effects before the planted fault.
    let mut stopped_after_effects = 0;
    // Rules of executed runs: the generated programs really execute calls
    // into every regime, through bindings, with every effect kind.
    let mut executed_rules = BTreeSet::new();
    for seed in seeds(200_001, N) {
        let p = program(seed);
        let bytes = p.text.as_bytes();
        let r = run(&engine, &p, bytes, Mode::Realize);
        let t = &r.trace;
        *by_outcome.entry(t.outcome.name()).or_insert(0) += 1;
        if t.outcome == Outcome::Executed {
            executed_rules.extend(t.rules.iter().cloned());
        }
        // The realizer is handed the trace's own list (`Report::events`).
        let realized = events(&r);
        if t.outcome == Outcome::Executed {
            let tables = engine.tables();
            if let Some(e) = r
                .events()
                .iter()
                .find(|e| !tables.effects.kinds.iter().any(|k| *k.kind == *e.kind))
            {
                wrong.push(format!(
                    "effect kind `{}` has no realizer\n{}",
                    e.kind,
                    p.show()
                ));
            }
            if t.error.is_some() || t.returned.is_none() {
                wrong.push(format!(
                    "an executed run with an error or no value\n{}",
                    p.show()
                ));
            }
        } else {
            if !realized.is_empty() {
                wrong.push(format!(
                    "a {} run has effects: {realized:?}\n{}",
                    t.outcome.name(),
                    p.show()
                ));
            }
            if t.returned.is_some() || t.error.is_none() {
                wrong.push(format!(
                    "a {} run returned a value or has no error\n{}",
                    t.outcome.name(),
                    p.show()
                ));
            }
            if p.fault_after_effect {
                stopped_after_effects += 1;
            }
        }
        // Without resources, realize and simulate decide identically.
        if !p.uses {
            let s = run(&engine, &p, bytes, Mode::Simulate);
            let strip = |j: String| {
                let mut v: serde_json::Value = serde_json::from_str(&j).unwrap();
                v["config"]["mode"] = serde_json::Value::Null;
                v
            };
            if strip(s.trace.to_json()) != strip(t.to_json()) {
                wrong.push(format!(
                    "simulate and realize decide differently\n--- simulate ---\n{}--- realize ---\n{}{}",
                    s.trace.to_json(),
                    t.to_json(),
                    p.show()
                ));
            }
        }
    }
    report("realization", &wrong);
    let total: usize = by_outcome.values().sum();
    let get = |k: &str| by_outcome.get(k).copied().unwrap_or(0);
    eprintln!("realize: outcomes {by_outcome:?}, stops after effects {stopped_after_effects}");
    assert!(
        get("executed") * 100 >= total * 30,
        "too few executed runs: {by_outcome:?}"
    );
    for k in ["failed", "inadmissible", "rejected"] {
        assert!(get(k) >= 15, "too few {k} runs: {by_outcome:?}");
    }
    for id in [
        "K-STEP-CALL",
        "CALL-BOUND",
        "Q-STEP-LET",
        "PHI-STEP-CONSTRAIN",
        "K-STEP-PROVE",
        "K-EXIT-CONSTRAINTS",
        "EFFECT-EMIT",
        "EFFECT-OBSERVE",
        "EFFECT-SEAL",
    ] {
        assert!(
            executed_rules.contains(id),
            "no executed run applied {id}: {executed_rules:?}"
        );
    }
    assert!(
        stopped_after_effects >= 15,
        "too few runs stopped after recording effects: {stopped_after_effects}"
    );
}

/// The generator's intent: a program built by the typing rules is never
/// rejected, and a program with a planted static error always is (and its
/// error is catalogued).
#[test]
fn generated_verdicts_match_the_generator() {
    let engine = engine();
    let mut planted_seen = BTreeSet::new();
    let mut wrong = Vec::new();
    let mut table: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
    for p in seeds(300_001, N).map(program).chain(every_bug(500_001, 2)) {
        let r = run(&engine, &p, p.text.as_bytes(), Mode::Simulate);
        let t = &r.trace;
        *table
            .entry((format!("{:?}", p.kind), t.outcome.name()))
            .or_insert(0) += 1;
        let why = || {
            format!(
                "{}\n--- diagnostics ---\n{}",
                p.show(),
                rendered(p.text.as_bytes(), &r)
            )
        };
        assert!(
            !matches!(t.outcome, Outcome::Internal | Outcome::NotRun),
            "outcome {}\n{}",
            t.outcome.name(),
            why()
        );
        match p.kind {
            Kind::Bug => {
                planted_seen.insert(p.planted);
                if t.outcome != Outcome::Rejected {
                    wrong.push(format!(
                        "a planted static error was not rejected ({})\n{}",
                        t.outcome.name(),
                        why()
                    ));
                }
            }
            _ => {
                if t.outcome == Outcome::Rejected {
                    wrong.push(format!("a well-typed program was rejected\n{}", why()));
                }
            }
        }
    }
    eprintln!("verdicts by kind: {table:?}");
    report("the generator's intent", &wrong);
    assert_eq!(planted_seen.len(), BUGS.len(), "{planted_seen:?}");
}

/// Print generated programs and their verdicts, to reproduce a failure:
/// `GEN_SEEDS=300131..300140 cargo test -p conformance --test generated -- --ignored --nocapture`.
#[test]
#[ignore]
fn show_generated_programs() {
    if let Ok(path) = std::env::var("GEN_FILE") {
        // A hand-minimised program: its verdict and its two canonical forms.
        let bytes = std::fs::read(&path).unwrap();
        let engine = engine();
        let r = engine.run(
            &Source {
                name: "gen",
                bytes: &bytes,
            },
            &RunConfig::new(Mode::Simulate),
        );
        eprintln!(
            "--- {} {:?} effects {:?}\n{}",
            r.trace.outcome.name(),
            r.trace.error.as_ref().map(|e| (&e.code, &e.message)),
            events(&r),
            rendered(&bytes, &r)
        );
        match dir_grammar::load(&bytes) {
            Ok(p) => {
                let json = dir_grammar::print::to_json(&p);
                eprintln!(
                    "--- text\n{}--- JSON\n{json}",
                    dir_grammar::print::to_text(&p)
                );
                match dir_grammar::load_str(&json) {
                    Ok(q) => eprintln!("--- text of JSON\n{}", dir_grammar::print::to_text(&q)),
                    Err(e) => eprintln!("--- JSON does not load: {e:?}"),
                }
            }
            Err(e) => eprintln!("--- does not load: {e:?}"),
        }
        return;
    }
    let spec = std::env::var("GEN_SEEDS").unwrap_or_else(|_| "1..10".into());
    let (a, b) = spec.split_once("..").unwrap_or((&spec, &spec));
    let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
    let engine = engine();
    for seed in a..=b {
        let p = program(seed);
        let r = run(&engine, &p, p.text.as_bytes(), Mode::Simulate);
        let t = &r.trace;
        eprintln!(
            "===== {}\n--- {} {:?} effects {} returned {}\n{}",
            p.show(),
            t.outcome.name(),
            t.error.as_ref().map(|e| (&e.code, &e.message)),
            t.effects.events.len(),
            serde_json::to_string(&t.returned).unwrap(),
            rendered(p.text.as_bytes(), &r)
        );
    }
}
