//! Expressions as arenas of small nodes (issue 13's compact model).
//!
//! A program's expressions live in arenas (`Exprs`): one for what is
//! parsed where it is read, and one per batch parsed beside a large file
//! (`beside.rs`), which becomes one of the program's as it is (no node is
//! copied from one arena to another; an arena with much room to spare is
//! trimmed once, as any list the model keeps).
//! A statement holds where its expression is (`ExprRoot`: an arena and a
//! node, or an arena and a place in its list of roots); readers of the
//! model walk it through views (`Expr`, `ExprKind`), which borrow the
//! arena. Nodes are 16 bytes, their spans in a list of
//! their own (read for diagnostics, not by every walk), and laid out in the
//! order they were parsed (operands before their operator, the right one
//! last, so an operator keeps only its left operand): a walk reads memory in
//! order, where the boxed tree it replaces cost an allocation per operator
//! and a pointer to chase per node. Names and strings are kept in the
//! arena's text; call arguments, struct fields and a field access's name
//! in its item list.

use crate::model::{path_segments, separator_at, BinOp, Resolved};
use crate::span::Span;

/// A node's number in its arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(u32);

impl ExprId {
    #[inline]
    fn at(i: usize) -> ExprId {
        ExprId(narrow(i))
    }

    #[inline]
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a statement's expression is: the program's arena and the node,
/// or (`LISTED` set in `chunk`) the arena and the number of the root in
/// its list of roots: an expression parsed beside the reading of a large
/// file (`beside.rs`) is given its statement before it is parsed, as the
/// place it will have in its batch, so no statement is visited again once
/// the batches are parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExprRoot {
    chunk: u32,
    id: ExprId,
}

impl ExprRoot {
    /// Stands in a statement while the reader still makes its root; never
    /// left in a loaded program.
    pub(crate) const PLACEHOLDER: ExprRoot = ExprRoot {
        chunk: u32::MAX,
        id: ExprId(u32::MAX),
    };

    /// The flag of `chunk` for a root found in its arena's list.
    const LISTED: u32 = 1 << 31;

    #[inline]
    pub(crate) fn new(chunk: usize, id: ExprId) -> ExprRoot {
        ExprRoot {
            chunk: narrow(chunk),
            id,
        }
    }

    /// The `k`th root of arena `chunk`'s list (`Exprs::roots`). Arenas
    /// number far fewer than 2^31 (each holds at least one expression of
    /// an input of at most 64 MiB).
    #[inline]
    pub(crate) fn listed(chunk: usize, k: usize) -> ExprRoot {
        ExprRoot {
            chunk: narrow(chunk) | ExprRoot::LISTED,
            id: ExprId::at(k),
        }
    }
}

/// An arena offset or length in 32 bits: an arena holds what one input of
/// at most 64 MiB (`error::limits`) says, and each node and byte of text
/// takes at least a byte of input, so no count comes near `u32::MAX` (the
/// placeholder's, where it would be kept).
#[inline]
fn narrow(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Text of the arena's (a name, a decoded string).
#[derive(Clone, Copy, Debug)]
struct Text {
    start: u32,
    len: u32,
}

/// A run of the arena's items (call arguments, struct fields).
#[derive(Clone, Copy, Debug)]
struct Items {
    start: u32,
    len: u32,
}

/// A call argument (`name` empty) or a struct field and its name. A call's
/// first item is its callee, a struct literal's its shape's name (`expr`
/// unused).
#[derive(Clone, Debug)]
pub(crate) struct Item {
    name: Text,
    span: Span,
    expr: ExprId,
}

#[derive(Clone, Debug)]
enum NodeKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(Text),
    Path {
        text: Text,
        single: bool,
        slot: Resolved,
    },
    /// The right operand is the node just before this one (operands are
    /// laid out before their operator, the right one last), and the
    /// operator's span is kept as where it starts and how long it is (a
    /// token: at most a few bytes, escaped ones included), so that a node
    /// is 16 bytes: an operator is the commonest node.
    Binary {
        op: BinOp,
        op_len: u16,
        op_start: u32,
        lhs: ExprId,
        width: Resolved,
    },
    /// The field's name and span are an item of the arena's.
    Field {
        base: ExprId,
        field: u32,
    },
    /// A call: its callee (the first item) is one segment or not.
    Call {
        items: Items,
        single: bool,
    },
    Struct(Items),
}

// Every node of a program pays for the largest kind; its span is kept
// apart (`Exprs::spans`): checking and evaluating a program read the kinds
// of all its nodes and the spans of few (diagnostics, a few literals), so
// they stream 16 bytes a node, not 24.
const _: () = assert!(std::mem::size_of::<NodeKind>() <= 16);

/// An arena of expression nodes.
#[derive(Clone, Debug, Default)]
pub struct Exprs {
    nodes: Vec<NodeKind>,
    /// Each node's span, by the node's number.
    spans: Vec<Span>,
    text: String,
    items: Vec<Item>,
    /// The roots of a batch's expressions in the order they were met
    /// (`ExprRoot::listed`); empty for an arena whose roots are its nodes.
    roots: Vec<ExprId>,
}

/// Where an arena stood (to go back to if a parse gives up), or what it
/// held.
#[derive(Clone, Copy)]
pub(crate) struct Mark {
    nodes: usize,
    text: usize,
    items: usize,
}

impl Exprs {
    /// An arena with room for what `like` holds (a batch like the last).
    /// With a sixty-fourth more (and a little): batches alike differ by a
    /// few nodes, and one node past the room doubled the lists by copies
    /// (5 M instructions of the K 100k JSON run; a sixteenth more saved
    /// no more and took 130 more fresh pages).
    pub(crate) fn with_room_of(like: Mark) -> Exprs {
        let more = |n: usize| if n == 0 { 0 } else { n + n / 64 + 16 };
        Exprs {
            nodes: Vec::with_capacity(more(like.nodes)),
            spans: Vec::with_capacity(more(like.nodes)),
            text: String::with_capacity(more(like.text)),
            items: Vec::with_capacity(more(like.items)),
            roots: Vec::new(),
        }
    }

    /// Lists the roots of the expressions parsed into this arena, in the
    /// order met: what `ExprRoot::listed` numbers.
    pub(crate) fn list_roots(&mut self, roots: Vec<ExprId>) {
        self.roots = roots;
    }

    /// Gives back the room beyond what the arena holds where it is more
    /// than an eighth: an arena is kept for the whole run (a copy where the
    /// allocator cannot shrink in place).
    pub(crate) fn trim(&mut self) {
        fn spare(len: usize, capacity: usize) -> bool {
            capacity - len > len / 8
        }
        if spare(self.nodes.len(), self.nodes.capacity()) {
            self.nodes.shrink_to_fit();
            self.spans.shrink_to_fit();
        }
        if spare(self.items.len(), self.items.capacity()) {
            self.items.shrink_to_fit();
        }
        if spare(self.text.len(), self.text.capacity()) {
            self.text.shrink_to_fit();
        }
    }

    /// `parse` into this arena, and what it put there taken back where it
    /// gives up (`None`): every parser's give-up leaves the arena as it was.
    pub(crate) fn or_undo<T>(&mut self, parse: impl FnOnce(&mut Exprs) -> Option<T>) -> Option<T> {
        let mark = self.mark();
        let found = parse(self);
        if found.is_none() {
            self.reset(mark);
        }
        found
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            nodes: self.nodes.len(),
            text: self.text.len(),
            items: self.items.len(),
        }
    }

    /// Forgets what was added since `m`.
    pub(crate) fn reset(&mut self, m: Mark) {
        self.nodes.truncate(m.nodes);
        self.spans.truncate(m.nodes);
        self.text.truncate(m.text);
        self.items.truncate(m.items);
    }

    /// The nodes of the arena.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The view of node `id`.
    #[inline]
    pub fn get(&self, id: ExprId) -> Expr<'_> {
        Expr { ex: self, id }
    }

    fn push(&mut self, kind: NodeKind, span: Span) -> ExprId {
        let id = ExprId::at(self.nodes.len());
        self.nodes.push(kind);
        self.spans.push(span);
        id
    }

    fn text(&mut self, s: &str) -> Text {
        let start = narrow(self.text.len());
        self.text.push_str(s);
        Text {
            start,
            len: narrow(s.len()),
        }
    }

    /// An item's name, with where.
    #[inline]
    fn ident(&self, it: &Item) -> IdentRef<'_> {
        IdentRef {
            name: self.str_of(it.name),
            span: it.span,
        }
    }

    #[inline]
    fn str_of(&self, t: Text) -> &str {
        let start = t.start as usize;
        self.text
            .get(start..start + t.len as usize)
            .unwrap_or_default()
    }

    pub(crate) fn int(&mut self, v: i64, span: Span) -> ExprId {
        self.push(NodeKind::Int(v), span)
    }

    pub(crate) fn float(&mut self, v: f64, span: Span) -> ExprId {
        self.push(NodeKind::Float(v), span)
    }

    pub(crate) fn boolean(&mut self, v: bool, span: Span) -> ExprId {
        self.push(NodeKind::Bool(v), span)
    }

    pub(crate) fn string(&mut self, s: &str, span: Span) -> ExprId {
        let t = self.text(s);
        self.push(NodeKind::Str(t), span)
    }

    /// A name or a path, its segments joined by `::` as written.
    pub(crate) fn path(&mut self, text: &str, span: Span) -> ExprId {
        let single = separator_at(text).is_none();
        let text = self.text(text);
        self.push(
            NodeKind::Path {
                text,
                single,
                slot: Resolved::default(),
            },
            span,
        )
    }

    /// An operator node over `lhs` and `rhs`, which must be the node made
    /// last (every parser makes the right operand just before its
    /// operator); None where it is not, or where the operator's span is
    /// not a token's (neither happens: a parser gives up on None).
    pub(crate) fn binary(
        &mut self,
        op: BinOp,
        op_span: Span,
        lhs: ExprId,
        rhs: ExprId,
        span: Span,
    ) -> Option<ExprId> {
        if rhs.index() + 1 != self.nodes.len() {
            return None;
        }
        let op_len = u16::try_from(op_span.end().checked_sub(op_span.start())?).ok()?;
        let op_start = u32::try_from(op_span.start()).ok()?;
        Some(self.push(
            NodeKind::Binary {
                op,
                op_len,
                op_start,
                lhs,
                width: Resolved::default(),
            },
            span,
        ))
    }

    pub(crate) fn field(
        &mut self,
        base: ExprId,
        name: &str,
        name_span: Span,
        span: Span,
    ) -> ExprId {
        let item = Item {
            name: self.text(name),
            span: name_span,
            expr: base,
        };
        let field = narrow(self.items.len());
        self.items.push(item);
        self.push(NodeKind::Field { base, field }, span)
    }

    /// An item of a call or struct literal under construction (kept by the
    /// parser until its node is made: lists nest).
    pub(crate) fn item(&mut self, name: &str, span: Span, expr: ExprId) -> Item {
        Item {
            name: self.text(name),
            span,
            expr,
        }
    }

    fn items(&mut self, head: Item, rest: impl IntoIterator<Item = Item>) -> Items {
        let start = narrow(self.items.len());
        self.items.push(head);
        self.items.extend(rest);
        Items {
            start,
            len: narrow(self.items.len()) - start,
        }
    }

    /// A call of `callee` (its path as written) with the arguments' nodes.
    pub(crate) fn call(
        &mut self,
        callee: &str,
        callee_span: Span,
        args: impl IntoIterator<Item = ExprId>,
        span: Span,
    ) -> ExprId {
        let single = separator_at(callee).is_none();
        let head = self.item(callee, callee_span, ExprId(u32::MAX));
        let args = args.into_iter().map(|expr| Item {
            name: Text { start: 0, len: 0 },
            span: Span::default(),
            expr,
        });
        let items = self.items(head, args);
        self.push(NodeKind::Call { items, single }, span)
    }

    /// A struct literal of shape `name` with its field items (`item`).
    pub(crate) fn struct_lit(
        &mut self,
        name: &str,
        name_span: Span,
        fields: impl IntoIterator<Item = Item>,
        span: Span,
    ) -> ExprId {
        let head = self.item(name, name_span, ExprId(u32::MAX));
        let items = self.items(head, fields);
        self.push(NodeKind::Struct(items), span)
    }
}

/// An expression: a node of an arena, with the arena it is read from.
#[derive(Clone, Copy)]
pub struct Expr<'a> {
    ex: &'a Exprs,
    id: ExprId,
}

/// What an expression is, its operands as expressions.
#[derive(Clone, Copy, Debug)]
pub enum ExprKind<'a> {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(&'a str),
    /// A name or a qualified path (`x`, `Q::tag`), and the binding
    /// validation resolved it to (its slot in the process).
    Path(Path<'a>, &'a Resolved),
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Expr<'a>,
        rhs: Expr<'a>,
        /// The type the operation works in, as validation decided it.
        width: &'a Resolved,
    },
    /// `base.field`.
    Field {
        base: Expr<'a>,
        field: IdentRef<'a>,
    },
    /// A call `callee(args)`.
    Call {
        callee: Path<'a>,
        callee_span: Span,
        args: Args<'a>,
    },
    /// A struct literal `Name { field: expr, ... }`.
    Struct {
        name: IdentRef<'a>,
        fields: Fields<'a>,
    },
}

/// A name as written, with where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdentRef<'a> {
    pub name: &'a str,
    pub span: Span,
}

/// A name or a `::`-qualified path as written (whether it is one segment
/// is decided once, when it is parsed).
#[derive(Clone, Copy)]
pub struct Path<'a> {
    text: &'a str,
    single: bool,
}

impl<'a> Path<'a> {
    /// The path's text, segments joined by `::`.
    #[inline]
    pub fn text(self) -> &'a str {
        self.text
    }

    /// The name, when the path is a single segment.
    #[inline]
    pub fn single(self) -> Option<&'a str> {
        self.single.then_some(self.text)
    }

    #[inline]
    pub fn segments(self) -> impl Iterator<Item = &'a str> {
        path_segments(self.text)
    }
}

impl std::fmt::Debug for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Path").field(&self.text).finish()
    }
}

/// Items of a call or struct literal (after the head), each read as `T`
/// by `read`: what a call's arguments and a struct's fields share.
pub struct ItemList<'a, T> {
    ex: &'a Exprs,
    items: &'a [Item],
    read: fn(&'a Exprs, &'a Item) -> T,
}

// (By hand: derived, they would ask `T: Copy` of the items read.)
impl<T> Clone for ItemList<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ItemList<'_, T> {}

/// A call's arguments.
pub type Args<'a> = ItemList<'a, Expr<'a>>;

/// A struct literal's fields, as written: each name and value.
pub type Fields<'a> = ItemList<'a, (IdentRef<'a>, Expr<'a>)>;

impl<'a, T> ItemList<'a, T> {
    #[inline]
    pub fn len(self) -> usize {
        self.items.len()
    }

    #[inline]
    pub fn is_empty(self) -> bool {
        self.items.is_empty()
    }

    #[inline]
    pub fn get(self, i: usize) -> Option<T> {
        self.items.get(i).map(|it| (self.read)(self.ex, it))
    }

    #[inline]
    pub fn first(self) -> Option<T> {
        self.get(0)
    }

    /// The only item, if there is exactly one.
    #[inline]
    pub fn only(self) -> Option<T> {
        (self.len() == 1).then(|| self.get(0)).flatten()
    }

    #[inline]
    pub fn iter(self) -> ItemIter<'a, T> {
        ItemIter {
            ex: self.ex,
            items: self.items.iter(),
            read: self.read,
        }
    }
}

impl<'a, T> IntoIterator for ItemList<'a, T> {
    type Item = T;
    type IntoIter = ItemIter<'a, T>;

    #[inline]
    fn into_iter(self) -> ItemIter<'a, T> {
        self.iter()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for ItemList<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The items of an `ItemList`, in order.
pub struct ItemIter<'a, T> {
    ex: &'a Exprs,
    items: std::slice::Iter<'a, Item>,
    read: fn(&'a Exprs, &'a Item) -> T,
}

/// A call's arguments, in order.
pub type ArgsIter<'a> = ItemIter<'a, Expr<'a>>;

/// A struct literal's fields, in order.
pub type FieldsIter<'a> = ItemIter<'a, (IdentRef<'a>, Expr<'a>)>;

impl<T> Clone for ItemIter<'_, T> {
    fn clone(&self) -> Self {
        ItemIter {
            ex: self.ex,
            items: self.items.clone(),
            read: self.read,
        }
    }
}

impl<T> Iterator for ItemIter<'_, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        self.items.next().map(|it| (self.read)(self.ex, it))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

impl<T> ExactSizeIterator for ItemIter<'_, T> {}

impl<'a> Expr<'a> {
    #[inline]
    fn node(self) -> &'a NodeKind {
        &self.ex.nodes[self.id.index()]
    }

    #[inline]
    pub fn span(self) -> Span {
        self.ex.spans[self.id.index()]
    }

    /// Whether `self` and `other` are the same node of the same arena.
    #[inline]
    pub fn same(self, other: Expr<'_>) -> bool {
        std::ptr::eq(self.ex, other.ex) && self.id == other.id
    }

    /// The items of a call or struct literal: the head (callee or shape
    /// name) and the rest.
    #[inline]
    fn items(self, r: Items) -> (&'a Item, &'a [Item]) {
        let start = r.start as usize;
        let all = &self.ex.items[start..start + r.len as usize];
        // A list always has its head (`Exprs::items`).
        (&all[0], &all[1..])
    }

    // Always inlined: where the caller matches on the result at once, the
    // two matches become one (no view of the node is built).
    #[inline(always)]
    pub fn kind(self) -> ExprKind<'a> {
        let ex = self.ex;
        match self.node() {
            NodeKind::Int(v) => ExprKind::Int(*v),
            NodeKind::Float(v) => ExprKind::Float(*v),
            NodeKind::Bool(v) => ExprKind::Bool(*v),
            NodeKind::Str(t) => ExprKind::Str(ex.str_of(*t)),
            NodeKind::Path { text, single, slot } => ExprKind::Path(
                Path {
                    text: ex.str_of(*text),
                    single: *single,
                },
                slot,
            ),
            NodeKind::Binary {
                op,
                op_len,
                op_start,
                lhs,
                width,
            } => {
                let start = *op_start as usize;
                ExprKind::Binary {
                    op: *op,
                    op_span: Span::new(start, start + usize::from(*op_len)),
                    lhs: ex.get(*lhs),
                    // The node before this one (`Exprs::binary`).
                    rhs: ex.get(ExprId(self.id.0.wrapping_sub(1))),
                    width,
                }
            }
            NodeKind::Field { base, field } => ExprKind::Field {
                base: ex.get(*base),
                field: ex.ident(&ex.items[*field as usize]),
            },
            NodeKind::Call { items, single } => {
                let (head, rest) = self.items(*items);
                let callee = ex.ident(head);
                ExprKind::Call {
                    callee: Path {
                        text: callee.name,
                        single: *single,
                    },
                    callee_span: callee.span,
                    args: Args {
                        ex,
                        items: rest,
                        read: |ex, it| ex.get(it.expr),
                    },
                }
            }
            NodeKind::Struct(r) => {
                let (head, rest) = self.items(*r);
                ExprKind::Struct {
                    name: ex.ident(head),
                    fields: Fields {
                        ex,
                        items: rest,
                        read: |ex, it| (ex.ident(it), ex.get(it.expr)),
                    },
                }
            }
        }
    }

    /// Visit this expression and every sub-expression, pre-order.
    /// Depth is bounded at parse time, so recursion here is safe.
    pub fn walk(self, f: &mut dyn FnMut(Expr<'a>)) {
        f(self);
        match self.kind() {
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            ExprKind::Field { base, .. } => base.walk(f),
            ExprKind::Call { args, .. } => args.iter().for_each(|a| a.walk(f)),
            ExprKind::Struct { fields, .. } => fields.iter().for_each(|(_, e)| e.walk(f)),
            _ => {}
        }
    }
}

/// The tree, spans included (what tests compare).
impl std::fmt::Debug for Expr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} @ {:?}", self.kind(), self.span())
    }
}

/// An expression with an arena of its own (an argument given on the
/// command line, an expression parsed alone).
#[derive(Clone)]
pub struct ExprTree {
    exprs: Exprs,
    root: ExprId,
}

impl ExprTree {
    pub(crate) fn new(mut exprs: Exprs, root: ExprId) -> ExprTree {
        exprs.trim();
        ExprTree { exprs, root }
    }

    #[inline]
    pub fn root(&self) -> Expr<'_> {
        self.exprs.get(self.root)
    }
}

impl std::fmt::Debug for ExprTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.root().fmt(f)
    }
}

/// A program's arenas: where its statements' expressions are.
#[inline]
pub(crate) fn root_in(chunks: &[Exprs], r: ExprRoot) -> Expr<'_> {
    if r.chunk & ExprRoot::LISTED == 0 {
        return chunks[r.chunk as usize].get(r.id);
    }
    let ex = &chunks[(r.chunk & !ExprRoot::LISTED) as usize];
    ex.get(ex.roots[r.id.index()])
}

#[cfg(test)]
mod tests {
    /// `src` parsed by the pest grammar and by the fast parser, into `ex`.
    fn both_parsers(src: &str, ex: &mut super::Exprs) -> [super::ExprId; 2] {
        let pest = crate::expr::parse_expr_pest(src, &|o| o, ex).unwrap();
        let fast = match crate::fast_expr::parse(src, &|o| o, ex) {
            crate::fast_expr::Parsed::Expr(e) => e,
            _ => panic!("{src}"),
        };
        [pest, fast]
    }

    /// An operator node's parts: operator, its span's ends, operands.
    fn binary<'a>(
        e: super::Expr<'a>,
        src: &str,
    ) -> (
        crate::model::BinOp,
        (usize, usize),
        super::Expr<'a>,
        super::Expr<'a>,
    ) {
        let super::ExprKind::Binary {
            op,
            op_span,
            lhs,
            rhs,
            ..
        } = e.kind()
        else {
            panic!("{src}: not an operator")
        };
        (op, (op_span.start(), op_span.end()), lhs, rhs)
    }
    /// A parse that gives up through `or_undo` leaves the arena as it was
    /// (nodes, text and items: a textual call statement that is not a call,
    /// a JSON call statement with a bad argument); one that answers keeps
    /// what it put there.
    #[test]
    fn a_parse_that_gives_up_is_undone() {
        let mut ex = super::Exprs::default();
        let map = |o: usize| o;
        let kept = crate::expr::parse_expr("S{a: f(1, \"x\")}", &map, &mut ex).unwrap();
        let before = (ex.nodes.len(), ex.text.len(), ex.items.len());
        let gave_up = ex.or_undo(|ex| {
            crate::expr::parse_expr("T{b: g(2, \"yy\")}", &map, ex).ok()?;
            None::<()>
        });
        assert!(gave_up.is_none());
        assert_eq!((ex.nodes.len(), ex.text.len(), ex.items.len()), before);
        let answered = ex.or_undo(|ex| crate::expr::parse_expr("h(3)", &map, ex).ok());
        assert!(answered.is_some() && ex.nodes.len() > before.0);
        assert_eq!(format!("{:?}", ex.get(kept)).matches("\"x\"").count(), 1);
    }

    /// An operator's right operand is the node made just before it, and its
    /// span a token's: both parsers give each operator its operands and
    /// the operator's own span (`(a Add b) Mul c`, written with words and
    /// with symbols), and an operator over a right operand that is not the
    /// last node made is refused, not built wrong.
    #[test]
    fn operators_read_back_their_operands_and_spans() {
        use crate::model::BinOp;
        for (src, outer, inner) in [
            ("(a Add bb) Mul c", (11, 14), (3, 6)),
            ("(a + bb) * c", (9, 10), (3, 4)),
        ] {
            let mut ex = super::Exprs::default();
            for root in both_parsers(src, &mut ex) {
                let (op, span, lhs, rhs) = binary(ex.get(root), src);
                assert_eq!((op, span), (BinOp::Mul, outer));
                assert!(matches!(rhs.kind(), super::ExprKind::Path(c, _) if c.text() == "c"));
                let (op, span, a, b) = binary(lhs, src);
                assert_eq!((op, span), (BinOp::Add, inner));
                assert!(matches!(a.kind(), super::ExprKind::Path(p, _) if p.text() == "a"));
                assert!(matches!(b.kind(), super::ExprKind::Path(p, _) if p.text() == "bb"));
            }
        }
        let mut ex = super::Exprs::default();
        let span = crate::span::Span::new(0, 1);
        let a = ex.int(1, span);
        let b = ex.int(2, span);
        let _c = ex.int(3, span);
        assert!(ex.binary(BinOp::Add, span, a, b, span).is_none());
    }

    /// Whether a call's callee and a name are one segment is decided when
    /// they are parsed, as the text says, by both parsers.
    #[test]
    fn paths_know_their_segments() {
        for (src, callee_single) in [("f(x)", true), ("Φ::g(x)", false), ("a::b::c(x)", false)] {
            let mut ex = super::Exprs::default();
            for root in both_parsers(src, &mut ex) {
                let super::ExprKind::Call { callee, args, .. } = ex.get(root).kind() else {
                    panic!("{src}")
                };
                assert_eq!(callee.single().is_some(), callee_single, "{src}");
                assert_eq!(callee.segments().count(), callee.text().split("::").count());
                let Some(super::ExprKind::Path(x, _)) = args.only().map(|a| a.kind()) else {
                    panic!("{src}")
                };
                assert_eq!(x.single(), Some("x"));
            }
        }
    }
}
