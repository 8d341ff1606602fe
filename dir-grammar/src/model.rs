//! The DIR model shared by both input forms. Every node carries its span.

pub use crate::exprs::{
    Args, ArgsIter, Expr, ExprId, ExprKind, ExprRoot, ExprTree, Exprs, Fields, FieldsIter,
    IdentRef, ItemIter, ItemList, Path,
};
use crate::json::Verbatim;
use crate::span::Span;

/// The text of a name. Names up to 24 bytes (nearly all) are stored
/// inline: a program's names cost no allocation each.
pub type Name = compact_str::CompactString;

/// A name together with where it was written.
#[derive(Clone, Debug)]
pub struct Ident {
    pub name: Name,
    pub span: Span,
}

impl Ident {
    pub fn new(name: impl Into<Name>, span: Span) -> Ident {
        Ident {
            name: name.into(),
            span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Regime {
    K,
    Q,
    Phi,
}

impl Regime {
    pub const ALL: [Regime; 3] = [Regime::K, Regime::Q, Regime::Phi];

    /// The regime's place in `ALL` (for lists kept by regime).
    pub fn index(self) -> usize {
        match self {
            Regime::K => 0,
            Regime::Q => 1,
            Regime::Phi => 2,
        }
    }

    /// The spelling DIR uses (`K`, `Q`, `Φ`).
    pub fn symbol(self) -> &'static str {
        match self {
            Regime::K => "K",
            Regime::Q => "Q",
            Regime::Phi => "Φ",
        }
    }

    /// Accepts the DIR spellings plus the ASCII `Phi`.
    pub fn parse(s: &str) -> Option<Regime> {
        match s {
            "K" => Some(Regime::K),
            "Q" => Some(Regime::Q),
            "Φ" | "Phi" => Some(Regime::Phi),
            _ => None,
        }
    }
}

/// Which input form a program came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceForm {
    Json,
    Text,
}

#[derive(Clone)]
pub struct Program {
    /// Declared DIR version (textual DIR header); JSON DIR carries none and is
    /// read as the executor's own version.
    pub version: Option<Ident>,
    pub forges: Vec<Forge>,
    /// Newer compiler output's top-level `types` (kept verbatim).
    pub types: Option<Verbatim>,
    pub form: SourceForm,
    /// The `//` comments of a textual DIR file, in order, so that `fmt`
    /// keeps them (JSON DIR has none). The printer attaches each to the
    /// declaration or statement that follows it.
    pub comments: Vec<Comment>,
    /// The arenas of the statements' expressions (`exprs.rs`).
    pub exprs: Vec<Exprs>,
    /// Whether the program has been checked (its marks set) before.
    pub checked: Checked,
}

/// Whether a program has been checked before: a check marks its
/// expressions (`Resolved`), so only a program's first check finds every
/// mark unset, which evaluating beside the check relies on (a mark it reads
/// is one that check set, by the check of the statement's own process:
/// statements share no expression node).
#[derive(Debug, Default)]
pub struct Checked(std::sync::atomic::AtomicBool);

impl Clone for Checked {
    fn clone(&self) -> Self {
        // A copy has the marks the program had.
        Checked(std::sync::atomic::AtomicBool::new(
            self.0.load(std::sync::atomic::Ordering::Acquire),
        ))
    }
}

impl Checked {
    /// Whether this is the program's first check (every later call: no).
    pub fn first(&self) -> bool {
        !self.0.swap(true, std::sync::atomic::Ordering::AcqRel)
    }
}

impl Program {
    /// A statement's expression: `r` is a root of one of this program's
    /// statements (roots are made only by the loaders, with their program).
    #[inline]
    pub fn expr(&self, r: ExprRoot) -> Expr<'_> {
        crate::exprs::root_in(&self.exprs, r)
    }
}

/// The program as a tree, each statement with its expression's tree: two
/// programs that say the same print the same, however their expressions'
/// arenas are cut (the tests of the readers compare this text).
impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Stmts<'a>(&'a Program, &'a [Stmt]);
        impl std::fmt::Debug for Stmts<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let p = self.0;
                let mut l = f.debug_list();
                for s in self.1 {
                    l.entry(&format_args!(
                        "{:?} {:?} {:?} {:?}",
                        s.kind.tag(),
                        s.span,
                        s.kind.bound(),
                        s.kind.evaluated().map(|r| p.expr(r))
                    ));
                    if let StmtKind::Effect { kind, .. } | StmtKind::Later { kind, .. } = &s.kind {
                        l.entry(kind);
                    }
                    if let StmtKind::Later { body, .. } = &s.kind {
                        l.entry(body);
                    }
                }
                l.finish()
            }
        }
        let mut d = f.debug_struct("Program");
        d.field("version", &self.version)
            .field("types", &self.types)
            .field("form", &self.form)
            .field("comments", &self.comments);
        for forge in &self.forges {
            d.field(
                "forge",
                &(&forge.name, &forge.shapes, &forge.binds, forge.span),
            );
            for pr in &forge.procs {
                d.field(
                    "proc",
                    &(
                        pr.regime,
                        pr.regime_span,
                        &pr.name,
                        &pr.params,
                        &pr.uses,
                        &pr.ret,
                        &pr.qualifiers,
                        &pr.locals,
                        pr.span,
                    ),
                );
                d.field("body", &Stmts(self, &pr.body));
            }
        }
        d.finish()
    }
}

/// A list as the model keeps it: for the whole run, so without the slack
/// a growing Vec holds (four places for one item; up to half of a large
/// body). Both fast readers build every list of the model through it.
pub(crate) fn exact<T>(mut v: Vec<T>) -> Vec<T> {
    v.shrink_to_fit();
    v
}

/// A `//` comment: its text (from `//` to the end of its line) and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// Every `//` comment of a textual DIR source, outside string and
/// character literals.
pub fn comments_of(src: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    // No comment starts after the last `//`: the scan (which must follow
    // literals from the start) ends with that line. A file without one,
    // as generated files are, is not scanned at all.
    let Some(last) = memchr::memmem::rfind(src.as_bytes(), b"//") else {
        return out;
    };
    let end = memchr::memchr(b'\n', &src.as_bytes()[last..]).map_or(src.len(), |n| last + n);
    crate::prescan::lexemes(&src[..end], |l| {
        if let crate::prescan::Lexeme::Comment(r) = l {
            out.push(Comment {
                text: src[r.clone()].trim_end().to_string(),
                span: Span::new(r.start, r.end),
            });
        }
    });
    out
}

#[derive(Clone, Debug)]
pub struct Forge {
    pub name: Ident,
    pub shapes: Vec<Shape>,
    pub procs: Vec<Proc>,
    pub binds: Vec<Bind>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Shape {
    pub name: Ident,
    pub fields: Vec<Field>,
    pub span: Span,
}

/// A `name: type` pair (shape field or proc parameter).
#[derive(Clone, Debug)]
pub struct Field {
    pub name: Ident,
    pub ty: Ident,
}

#[derive(Clone, Debug)]
pub struct Proc {
    pub regime: Regime,
    pub regime_span: Span,
    pub name: Ident,
    pub params: Vec<Field>,
    pub uses: Vec<Uses>,
    pub ret: Option<Ident>,
    pub qualifiers: Vec<Ident>,
    pub body: Vec<Stmt>,
    /// Newer compiler output's per-proc `locals` (kept verbatim).
    pub locals: Option<Verbatim>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Uses {
    pub resource: Ident,
    pub args: Vec<(Ident, Literal)>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Literal {
    pub value: LitValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LitValue {
    Int(i64),
    Bool(bool),
    String(String),
    Float(f64),
    Char(char),
}

/// The statement tags of DIR v0.1 (JSON DIR's object tags). Textual DIR
/// writes these in their own forms; `@Tag {...}` is for later statements.
pub const V01_STATEMENT_TAGS: [&str; 6] = ["Let", "Constrain", "Prove", "Effect", "Return", "Call"];

/// The words that begin a statement of textual DIR. An effect kind cannot
/// be one of them: `return 1;` is a return, not an effect named `return`.
pub const TEXT_STATEMENT_KEYWORDS: [&str; 5] = ["let", "constrain", "prove", "return", "call"];

/// A capitalised ASCII identifier, the shape of every DIR statement tag.
pub fn is_statement_tag(t: &str) -> bool {
    t.starts_with(|c: char| c.is_ascii_uppercase())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A later statement's tag: a statement tag that is not one of v0.1's.
pub fn is_later_tag(t: &str) -> bool {
    is_statement_tag(t) && !V01_STATEMENT_TAGS.contains(&t)
}

/// An identifier: a letter or `_`, then letters, digits and `_` (ASCII).
pub fn is_identifier(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A DIR version as the textual header writes it: `0.1`, `1.2.3`.
pub fn is_version(t: &str) -> bool {
    !t.is_empty()
        && t.split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// The regimes a later version's wrapped type names (`K[Int]`).
pub const TYPE_WRAPPERS: [&str; 3] = ["K", "Q", "Phi"];

/// A type as both forms write it: an identifier, or a later version's
/// regime-wrapped form such as `K[Int]` (rejected by validation, not by
/// the loaders). The textual grammar's `type_name` rule.
pub fn is_type_name(t: &str) -> bool {
    match t.split_once('[') {
        None => is_identifier(t),
        Some((wrapper, rest)) => {
            TYPE_WRAPPERS.contains(&wrapper) && rest.strip_suffix(']').is_some_and(is_type_name)
        }
    }
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    Let {
        name: Ident,
        expr: ExprRoot,
    },
    Constrain {
        predicate: ExprRoot,
    },
    Prove {
        name: Ident,
        from: ExprRoot,
    },
    Effect {
        kind: Ident,
        payload: ExprRoot,
    },
    Return {
        expr: Option<ExprRoot>,
    },
    /// The compiler's lowering of a v0.1 call `let y = f(a, b);` (§8.3):
    /// `call` is an `ExprKind::Call` whose callee span is the target's.
    /// `result: None` discards the callee's value (valid only for Unit).
    Call {
        call: ExprRoot,
        result: Option<Ident>,
    },
    /// A statement of a later DIR version (`While`, `Assign`, ...). It loads
    /// verbatim so validation can reject it with a precise message (§14.5).
    Later {
        kind: Ident,
        /// Boxed: later statements are rare, and the largest variant sets
        /// the size of every statement.
        body: Box<Verbatim>,
    },
}

impl StmtKind {
    /// The statement's DIR tag (`Let`, `Effect`, `While`, ...).
    pub fn tag(&self) -> &str {
        match self {
            StmtKind::Let { .. } => "Let",
            StmtKind::Constrain { .. } => "Constrain",
            StmtKind::Prove { .. } => "Prove",
            StmtKind::Effect { .. } => "Effect",
            StmtKind::Return { .. } => "Return",
            StmtKind::Call { .. } => "Call",
            StmtKind::Later { kind, .. } => &kind.name,
        }
    }

    /// The expression an `Eval` action evaluates.
    pub fn evaluated(&self) -> Option<ExprRoot> {
        match self {
            StmtKind::Let { expr, .. } => Some(*expr),
            StmtKind::Prove { from, .. } => Some(*from),
            StmtKind::Effect { payload, .. } => Some(*payload),
            StmtKind::Return { expr } => *expr,
            StmtKind::Constrain { predicate } => Some(*predicate),
            StmtKind::Call { call, .. } => Some(*call),
            StmtKind::Later { .. } => None,
        }
    }

    /// The name a `Bind` action binds.
    pub fn bound(&self) -> Option<&Ident> {
        match self {
            StmtKind::Let { name, .. }
            | StmtKind::Prove { name, .. }
            | StmtKind::Call {
                result: Some(name), ..
            } => Some(name),
            _ => None,
        }
    }
}

/// A binding `source -> target` with its contract clauses (§10).
#[derive(Clone, Debug)]
pub struct Bind {
    pub source: PathRef,
    pub target: PathRef,
    pub contract: Vec<Clause>,
    pub span: Span,
}

/// A `::`-separated reference such as `Φ::validate` or `Forge::K::main`.
/// One path (inline when short), not a list of strings: a program of
/// many bound processes has two of these per binding.
#[derive(Clone, Debug)]
pub struct PathRef {
    pub path: PathName,
    pub span: Span,
}

impl PathRef {
    pub fn text(&self) -> &str {
        self.path.text()
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.path.segments()
    }
}

#[derive(Clone, Debug)]
pub struct Clause {
    pub key: Ident,
    pub op: Ident,
    pub value: Ident,
    pub span: Span,
}

// ------------------------------------------------------------ expressions

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub const ALL: [BinOp; 11] = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Eq,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::And,
        BinOp::Or,
    ];

    /// The word form the compiler renders.
    pub fn word(self) -> &'static str {
        match self {
            BinOp::Add => "Add",
            BinOp::Sub => "Sub",
            BinOp::Mul => "Mul",
            BinOp::Div => "Div",
            BinOp::Eq => "Eq",
            BinOp::Lt => "Lt",
            BinOp::Le => "Le",
            BinOp::Gt => "Gt",
            BinOp::Ge => "Ge",
            BinOp::And => "And",
            BinOp::Or => "Or",
        }
    }

    pub fn from_token(tok: &str) -> Option<BinOp> {
        Some(match tok {
            "Add" | "+" => BinOp::Add,
            "Sub" | "-" => BinOp::Sub,
            "Mul" | "*" => BinOp::Mul,
            "Div" | "/" => BinOp::Div,
            "Eq" | "==" => BinOp::Eq,
            "Lt" | "<" => BinOp::Lt,
            "Le" | "<=" => BinOp::Le,
            "Gt" | ">" => BinOp::Gt,
            "Ge" | ">=" => BinOp::Ge,
            "And" | "&&" => BinOp::And,
            "Or" | "||" => BinOp::Or,
            _ => return None,
        })
    }

    /// Binding strength, lowest first (§3.8): Or < And < Eq < compare < add < mul.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq => 3,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div => 6,
        }
    }
}

/// What the engine's validation resolved a node to (a name's binding
/// slot, an operator's type), so that evaluation need not look it up by
/// name again: dense numbers instead of a hash lookup per node evaluated.
/// It is not part of what the program says: programs compare equal and
/// print the same whatever it holds, and a program not validated holds
/// none. Validation sets it on every node it checks, so the marks are
/// those of the program's latest validation: evaluation must use the
/// result of that validation (the engine loads, validates and evaluates
/// each run's program in turn). After a check, a name's mark is checked
/// against the name before it is trusted; an operator's is not. Evaluated
/// beside the program's first check, a name's mark is trusted as that check
/// sets it (the check sets it only to the slot it bound that name in),
/// which holds because no node is shared between statements: each
/// statement's expression is a tree of its own (every loader makes one root
/// per statement), so only its own process's check marks it. (Atomic only
/// so that a program can be checked on another thread; relaxed access is a
/// plain load or store.)
pub struct Resolved(std::sync::atomic::AtomicU32);

impl Resolved {
    const NONE: u32 = u32::MAX;

    /// Not resolved (what every node holds until validation marks it).
    pub(crate) const fn unresolved() -> Resolved {
        Resolved(std::sync::atomic::AtomicU32::new(Self::NONE))
    }

    pub fn get(&self) -> Option<u32> {
        Some(self.0.load(std::sync::atomic::Ordering::Relaxed)).filter(|v| *v != Self::NONE)
    }

    /// Forgets any resolution (the node is not resolved, or not yet).
    pub fn clear(&self) {
        self.0
            .store(Self::NONE, std::sync::atomic::Ordering::Relaxed);
    }

    /// Records a resolution (a number past `u32::MAX - 1` is kept as none).
    pub fn set(&self, v: usize) {
        let v = u32::try_from(v).unwrap_or(Self::NONE);
        self.0.store(v, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Clone for Resolved {
    fn clone(&self) -> Resolved {
        Resolved(std::sync::atomic::AtomicU32::new(
            self.0.load(std::sync::atomic::Ordering::Relaxed),
        ))
    }
}

impl Default for Resolved {
    fn default() -> Resolved {
        Resolved::unresolved()
    }
}

impl PartialEq for Resolved {
    fn eq(&self, _: &Resolved) -> bool {
        true
    }
}

impl Eq for Resolved {}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("_")
    }
}

/// A name or a `::`-qualified path as written (`x`, `Q::tag`), kept as one
/// string: most are single names, and a `Vec` of segments cost a second
/// allocation for each.
#[derive(Clone, PartialEq, Eq)]
pub struct PathName {
    text: Name,
    single: bool,
}

impl std::fmt::Debug for PathName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("PathName").field(&self.text).finish()
    }
}

/// The segments of a path written with `::` (what `text.split("::")`
/// gives). `str::split` with a string pattern builds a two-way searcher on
/// every call, which cost more than the rest of reading a short path.
pub fn path_segments(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let r = rest?;
        match separator_at(r) {
            Some(i) => {
                rest = Some(&r[i + 2..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Where the first `::` of `text` starts.
pub(crate) fn separator_at(text: &str) -> Option<usize> {
    text.as_bytes().windows(2).position(|w| w == b"::")
}

impl PathName {
    /// A path from its text as written, segments joined by `::`.
    pub fn from_text(text: &str) -> PathName {
        PathName {
            single: separator_at(text).is_none(),
            text: Name::new(text),
        }
    }

    /// The path's text, segments joined by `::`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The name, when the path is a single segment.
    pub fn single(&self) -> Option<&str> {
        self.single.then_some(self.text.as_str())
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        path_segments(&self.text)
    }
}

#[cfg(test)]
mod tests {
    /// A program's first check is told apart from every later one, and a
    /// copy of a checked program (its marks set) is not checked first.
    #[test]
    fn only_the_first_check_is_first() {
        let p = crate::load_str("dir 0.1;\nforge F {\n  proc K main() {\n    return;\n  }\n}\n")
            .expect("loads");
        let fresh = p.clone();
        assert!(p.checked.first());
        assert!(!p.checked.first());
        assert!(!p.clone().checked.first());
        assert!(fresh.checked.first());
    }

    /// The comments of a whole-file scan: the oracle of `comments_of`,
    /// which stops after the last `//`.
    fn every_comment(src: &str) -> Vec<super::Comment> {
        let mut out = Vec::new();
        crate::prescan::lexemes(src, |l| {
            if let crate::prescan::Lexeme::Comment(r) = l {
                out.push(super::Comment {
                    text: src[r.clone()].trim_end().to_string(),
                    span: crate::Span::new(r.start, r.end),
                });
            }
        });
        out
    }

    #[test]
    fn comments_of_agrees_with_a_whole_file_scan() {
        let mut files = crate::testing::corpus_programs();
        files.extend(
            [
                "no comment at all",
                "a // one\nb",
                "a // last line without a newline",
                "x \"in // a string\" y",
                "// c\nx \"a string // that does not end",
                "// c\n'//'\n\"\\\"//\" // real\n\"//\"",
                "//\n//\n",
            ]
            .map(String::from),
        );
        let mut r = crate::testing::Rng(0x3c6e_f372_fe94_f82b);
        for i in 0..files.len() {
            let f = files[i].clone();
            files.push(crate::testing::corrupt(
                &mut r,
                &f,
                &["//", "\"", "'", "\n", "\\"],
            ));
        }
        for f in &files {
            assert_eq!(super::comments_of(f), every_comment(f), "{f}");
        }
    }

    #[test]
    fn path_segments_split_as_str_split_does() {
        for t in [
            "",
            "a",
            "a::b",
            "K::p0",
            "F::Φ::check",
            "::",
            "a::",
            "::b",
            "a:::b",
            "a::::b",
            "a:b",
            ":",
            "a:b::c:d",
            "Φ",
        ] {
            let ours: Vec<&str> = super::path_segments(t).collect();
            let std: Vec<&str> = t.split("::").collect();
            assert_eq!(ours, std, "{t:?}");
            let single = super::PathName::from_text(t).single().is_some();
            assert_eq!(single, std.len() == 1, "{t:?}");
            let path = super::PathName::from_text(t);
            assert!(path.segments().eq(std.iter().copied()), "{t:?}");
        }
    }
}
