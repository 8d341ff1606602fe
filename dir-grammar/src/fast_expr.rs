//! A hand-written parser for expression strings, for speed: the pest
//! grammar (`dir.pest`, `expr.rs`) stays the normative one. This parser
//! accepts only what it is sure the grammar accepts, building the same tree
//! with the same spans; on anything else it gives up (`None`) and the pest
//! parser decides, so errors and their messages are always the grammar's.
//! A test checks the two agree on generated and corpus expressions.
//!
//! An explicit exception to "never hand-write what a crate does": pest is
//! the measured bottleneck of loading JSON DIR (a fresh parse per
//! expression string).

use crate::class::{digit_run, ident_char, signed};
use crate::error::limits;
use crate::expr::decode_expr_string;
use crate::model::{BinOp, ExprId, Exprs};
use crate::span::Span;

/// `M` maps an offset in the text to a file offset: generic, so that the
/// common maps (an expression string without escapes is its file offset
/// plus a constant) are inlined at each of a node's spans. The pre-scan
/// and pest, which run only where this reader gives up, take it as a
/// `dyn` map (`OffsetMap`).
struct P<'a, M: Fn(usize) -> usize + ?Sized> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    map: &'a M,
    /// Where the nodes go.
    ex: &'a mut Exprs,
    /// Open brackets around the cursor, counted as the pre-scan counts
    /// them (in a valid expression every bracket is syntax), and the
    /// pre-scan's limit: past it this reader gives up and the pre-scan
    /// reports, so no separate scan is needed when this reader succeeds.
    depth: usize,
    limit: usize,
    /// The first node deeper than `MAX_EXPR_DEPTH` (in the order the
    /// reference builds them) and where the reference reports it. The
    /// reader goes on, checking the syntax without building the rest, so
    /// that a valid expression too deep is reported without pest reading
    /// it again (a 10 MB field chain took 2.2 s).
    too_deep: Option<Span>,
}

const PHI: &str = "Φ";

/// What [`parse`] found: the expression, or that it is valid but deeper
/// than `MAX_EXPR_DEPTH` (the span the reference reports), or nothing
/// certain (the pre-scan and pest decide).
pub(crate) enum Parsed {
    Expr(ExprId),
    TooDeep(Span),
    Unsure,
}

/// Parse `src` if it is certainly valid and nests within the expression
/// pre-scan's limit.
/// Its nodes go to `ex` (nothing, unless it answers with an expression).
pub(crate) fn parse<M: Fn(usize) -> usize + ?Sized>(src: &str, map: &M, ex: &mut Exprs) -> Parsed {
    let mark = ex.mark();
    let mut p = P {
        s: src,
        b: src.as_bytes(),
        i: 0,
        map,
        ex,
        depth: 0,
        limit: limits::MAX_EXPR_NESTING,
        too_deep: None,
    };
    p.ws();
    let parsed = match p.expr() {
        None => Parsed::Unsure,
        Some((e, _)) => {
            p.ws();
            match (p.i == p.b.len(), p.too_deep) {
                (false, _) => Parsed::Unsure,
                (true, Some(at)) => Parsed::TooDeep(at),
                (true, None) => Parsed::Expr(e),
            }
        }
    };
    if !matches!(parsed, Parsed::Expr(_)) {
        ex.reset(mark);
    }
    parsed
}

/// A reader at byte `at` of a whole textual DIR file (spans are file
/// offsets), inside `depth` open brackets of the file's `limit`.
fn in_file<'a>(
    src: &'a str,
    at: usize,
    depth: usize,
    limit: usize,
    ex: &'a mut Exprs,
) -> P<'a, impl Fn(usize) -> usize> {
    P {
        s: src,
        b: src.as_bytes(),
        i: at,
        map: &std::convert::identity,
        ex,
        depth,
        limit,
        too_deep: None,
    }
}

/// An expression of textual DIR at byte `at`: the expression and where it
/// stops, before any trailing blank. The caller checks what the grammar
/// requires next.
/// Its nodes go to `ex` (nothing, where it gives up).
pub(crate) fn parse_at(
    src: &str,
    at: usize,
    depth: usize,
    limit: usize,
    ex: &mut Exprs,
) -> Option<(ExprId, usize)> {
    let (e, end) = parse_at_or_deep(src, at, depth, limit, ex)?;
    Some((e.ok()?, end))
}

/// [`parse_at`], or where a valid expression is too deep, the span the
/// reference reports (`Err`), the rest read for syntax only.
/// Its nodes go to `ex` (nothing, unless it answers with an expression).
pub(crate) fn parse_at_or_deep(
    src: &str,
    at: usize,
    depth: usize,
    limit: usize,
    ex: &mut Exprs,
) -> Option<(Result<ExprId, Span>, usize)> {
    let mark = ex.mark();
    let mut p = in_file(src, at, depth, limit, ex);
    let Some((e, _)) = p.expr() else {
        ex.reset(mark);
        return None;
    };
    let (too_deep, i) = (p.too_deep, p.i);
    if too_deep.is_some() {
        ex.reset(mark);
    }
    Some((too_deep.map_or(Ok(e), Err), i))
}

/// The expression of textual DIR from byte `at` that ends at `end`: only
/// blanks and comments may follow its last token before `end` (a
/// statement's `;`). None otherwise, or where `parse_at` gives up.
/// Its nodes go to `ex` (nothing, where it gives up).
pub(crate) fn parse_exactly(
    src: &str,
    at: usize,
    end: usize,
    depth: usize,
    limit: usize,
    ex: &mut Exprs,
) -> Option<ExprId> {
    ex.or_undo(|ex| {
        let mut p = in_file(src, at, depth, limit, ex);
        let (e, _) = p.expr()?;
        p.ws();
        (p.i == end && p.too_deep.is_none()).then_some(e)
    })
}

/// A primary (`call`, `path`, literal, ...) of textual DIR at byte `at`:
/// `call_s` takes a bare call, which the `->` after it must not extend.
/// Its nodes go to `ex` (nothing, where it gives up).
pub(crate) fn parse_primary_at(
    src: &str,
    at: usize,
    depth: usize,
    limit: usize,
    ex: &mut Exprs,
) -> Option<(ExprId, usize)> {
    ex.or_undo(|ex| {
        let mut p = in_file(src, at, depth, limit, ex);
        let (e, _) = p.primary()?;
        p.too_deep.is_none().then_some((e, p.i))
    })
}

impl<M: Fn(usize) -> usize + ?Sized> P<'_, M> {
    /// Whether a node of `depth` is past the limit, or one before it was;
    /// the first such is where the reference reports (at `at`).
    fn deeper(&mut self, depth: usize, at: Span) -> bool {
        if self.too_deep.is_none() && depth > limits::MAX_EXPR_DEPTH {
            self.too_deep = Some(at);
        }
        self.too_deep.is_some()
    }

    fn span(&self, a: usize, b: usize) -> Span {
        Span::new((self.map)(a), (self.map)(b))
    }

    /// Implicit whitespace and `//` comments, as the grammar skips them.
    fn ws(&mut self) {
        loop {
            match self.b.get(self.i) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.i += 1,
                Some(b'/') if self.b.get(self.i + 1) == Some(&b'/') => {
                    while self.i < self.b.len() && self.b[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                _ => return,
            }
        }
    }

    /// An opening bracket at the cursor: consumed, counted, within the limit.
    fn open(&mut self) -> Option<()> {
        self.i += 1;
        self.depth += 1;
        (self.depth <= self.limit).then_some(())
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// An ASCII identifier at the cursor (not consumed): its end.
    fn ident_end(&self, at: usize) -> Option<usize> {
        crate::class::ident_end(self.b, at)
    }

    /// A path segment: an identifier or `Φ` alone.
    fn segment_end(&self, at: usize) -> Option<usize> {
        if self.s[at..].starts_with(PHI) {
            return Some(at + PHI.len());
        }
        self.ident_end(at)
    }

    /// A binary operator at the cursor: the operator and the token's end.
    fn infix(&self) -> Option<(BinOp, usize)> {
        // The symbols, longest first where one is a prefix of another
        // (`<=` before `<`), decided by the first byte.
        let next = self.b.get(self.i + 1).copied();
        let sym = match (self.peek()?, next) {
            (b'|', Some(b'|')) => Some((BinOp::Or, 2)),
            (b'&', Some(b'&')) => Some((BinOp::And, 2)),
            (b'=', Some(b'=')) => Some((BinOp::Eq, 2)),
            (b'<', Some(b'=')) => Some((BinOp::Le, 2)),
            (b'>', Some(b'=')) => Some((BinOp::Ge, 2)),
            (b'<', _) => Some((BinOp::Lt, 1)),
            (b'>', _) => Some((BinOp::Gt, 1)),
            (b'+', _) => Some((BinOp::Add, 1)),
            (b'-', _) => Some((BinOp::Sub, 1)),
            (b'*', _) => Some((BinOp::Mul, 1)),
            (b'/', _) => Some((BinOp::Div, 1)),
            _ => None,
        };
        if let Some((op, len)) = sym {
            return Some((op, self.i + len));
        }
        let end = self.ident_end(self.i)?;
        let word = &self.s[self.i..end];
        BinOp::from_token(word)
            .filter(|_| word.chars().all(|c| c.is_ascii_alphabetic()))
            .map(|op| (op, end))
    }

    /// `postfix (infix postfix)*`, by precedence climbing (all operators
    /// left-associative), with the tree depth `expr.rs` computes.
    fn expr(&mut self) -> Option<(ExprId, usize)> {
        self.climb(1)
    }

    fn climb(&mut self, min: u8) -> Option<(ExprId, usize)> {
        let (mut lhs, mut ld) = self.postfix()?;
        loop {
            let save = self.i;
            self.ws();
            let Some((op, end)) = self.infix() else {
                self.i = save;
                return Some((lhs, ld));
            };
            let prec = op.precedence();
            if prec < min {
                self.i = save;
                return Some((lhs, ld));
            }
            let op_span = self.span(self.i, end);
            self.i = end;
            self.ws();
            let (rhs, rd) = self.climb(prec + 1)?;
            let depth = ld.max(rd) + 1;
            if self.deeper(depth, op_span) {
                // The tree is not wanted any more: only the syntax is read.
                continue;
            }
            let span = self.span_of(lhs).to(self.span_of(rhs));
            lhs = self.ex.binary(op, op_span, lhs, rhs, span)?;
            ld = depth;
        }
    }

    fn postfix(&mut self) -> Option<(ExprId, usize)> {
        let (mut acc, mut depth) = self.primary()?;
        loop {
            let save = self.i;
            self.ws();
            if !self.eat(b'.') {
                self.i = save;
                return Some((acc, depth));
            }
            self.ws();
            let end = self.ident_end(self.i)?;
            let fs = self.span(self.i, end);
            let name = &self.s[self.i..end];
            self.i = end;
            depth += 1;
            if self.deeper(depth, fs) {
                continue;
            }
            let span = self.span_of(acc).to(fs);
            acc = self.ex.field(acc, name, fs, span);
        }
    }

    fn span_of(&self, e: ExprId) -> Span {
        self.ex.get(e).span()
    }

    fn primary(&mut self) -> Option<(ExprId, usize)> {
        let a = self.i;
        match self.peek()? {
            b'(' => {
                self.open()?;
                self.ws();
                let inner = self.expr()?;
                self.ws();
                self.depth -= 1;
                self.eat(b')').then_some(inner)
            }
            b'"' => {
                self.i += 1;
                let start = self.i;
                loop {
                    match self.peek()? {
                        b'"' => break,
                        b'\\' => {
                            self.i += 1;
                            // `\` and then any character.
                            let c = self.s[self.i..].chars().next()?;
                            self.i += c.len_utf8();
                        }
                        _ => {
                            let c = self.s[self.i..].chars().next()?;
                            self.i += c.len_utf8();
                        }
                    }
                }
                let raw = &self.s[start..self.i];
                self.i += 1;
                let v = decode_expr_string(raw, start, &|o| (self.map)(o)).ok()?;
                let span = self.span(a, self.i);
                Some((self.ex.string(&v, span), 1))
            }
            b'-' | b'0'..=b'9' => self.number(a),
            _ => self.word(a),
        }
    }

    /// `float = "-"? digits "." digits`, else `int = "-"? digits !ident_char`.
    fn number(&mut self, a: usize) -> Option<(ExprId, usize)> {
        let neg = self.b[a] == b'-';
        let digits = a + usize::from(neg);
        let (j, magnitude) = digit_run(self.b, digits);
        if j == digits {
            return None;
        }
        if self.b.get(j) == Some(&b'.') && self.b.get(j + 1).is_some_and(u8::is_ascii_digit) {
            let mut k = j + 1;
            while k < self.b.len() && self.b[k].is_ascii_digit() {
                k += 1;
            }
            let v: f64 = self.s[a..k].parse().ok()?;
            if !v.is_finite() {
                return None;
            }
            self.i = k;
            let span = self.span(a, self.i);
            return Some((self.ex.float(v, span), 1));
        }
        if self.b.get(j).is_some_and(|c| ident_char(*c)) {
            return None;
        }
        let v = match magnitude {
            Some(m) => signed(neg, m)?,
            None => self.s[a..j].parse().ok()?,
        };
        self.i = j;
        let span = self.span(a, self.i);
        Some((self.ex.int(v, span), 1))
    }

    /// Booleans, struct literals, calls and paths: what starts with a word.
    fn word(&mut self, a: usize) -> Option<(ExprId, usize)> {
        let end = self.segment_end(a)?;
        let word = &self.s[a..end];
        if (word == "true" || word == "false") && !self.b.get(end).is_some_and(|c| ident_char(*c)) {
            self.i = end;
            let span = self.span(a, self.i);
            return Some((self.ex.boolean(word == "true", span), 1));
        }
        // A path: segments joined by `::` with nothing between.
        let mut pend = end;
        let mut single = true;
        while self.s[pend..].starts_with("::") {
            pend = self.segment_end(pend + 2)?;
            single = false;
        }
        // The segments as written, nothing between them.
        let text = &self.s[a..pend];
        self.i = pend;
        let path_span = self.span(a, pend);
        let save = self.i;
        self.ws();
        match self.peek() {
            // A struct literal's name is one identifier (not `Φ`, no `::`).
            Some(b'{') if single && word != PHI => {
                self.open()?;
                let mut fields = Vec::new();
                let mut depth = 1;
                self.ws();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        let fe = self.ident_end(self.i)?;
                        let fspan = self.span(self.i, fe);
                        let fname = &self.s[self.i..fe];
                        self.i = fe;
                        self.ws();
                        if !self.eat(b':') {
                            return None;
                        }
                        self.ws();
                        let (e, d) = self.expr()?;
                        depth = depth.max(d + 1);
                        fields.push(self.ex.item(fname, fspan, e));
                        self.ws();
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                        self.ws();
                        if self.eat(b'}') {
                            break;
                        }
                    }
                }
                self.deeper(depth, self.span(a, self.i));
                self.depth -= 1;
                let span = self.span(a, self.i);
                Some((self.ex.struct_lit(word, path_span, fields, span), depth))
            }
            Some(b'(') => {
                self.open()?;
                let mut args = Vec::new();
                let mut depth = 1;
                self.ws();
                if !self.eat(b')') {
                    loop {
                        self.ws();
                        let (e, d) = self.expr()?;
                        depth = depth.max(d + 1);
                        args.push(e);
                        self.ws();
                        if self.eat(b')') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                self.deeper(depth, self.span(a, self.i));
                self.depth -= 1;
                let span = self.span(a, self.i);
                Some((self.ex.call(text, path_span, args, span), depth))
            }
            _ => {
                self.i = save;
                Some((self.ex.path(text, path_span), 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::expr::parse_expr_pest;
    use crate::model::Exprs;
    use crate::testing::{corrupt, Rng};

    /// Whitespace as the grammar allows it between tokens.
    fn gap(r: &mut Rng) -> &'static str {
        ["", "", " ", "  ", "\n", "\t", " // note\n"][r.next(7) as usize]
    }

    fn gen(r: &mut Rng, depth: u32) -> String {
        let leaf = depth == 0 || r.next(3) == 0;
        if leaf {
            return match r.next(9) {
                0 => r
                    .pick(&[
                        "0",
                        "7",
                        "-3",
                        "007",
                        "9223372036854775807",
                        "-9223372036854775808",
                    ])
                    .into(),
                1 => r.pick(&["1.5", "-0.25", "3.0"]).into(),
                2 => r.pick(&["true", "false", "trueish"]).into(),
                3 => r
                    .pick(&["\"\"", "\"a b\"", "\"q\\\"x\\n\"", "\"é Φ\""])
                    .into(),
                4 => r.pick(&["x", "c", "_y1", "Add", "Eq2"]).into(),
                5 => r.pick(&["a::b", "Φ::main", "K::f"]).into(),
                6 => format!("c{}.{}x", gap(r), gap(r)),
                7 => "Unit".into(),
                _ => "v".into(),
            };
        }
        match r.next(5) {
            0 => format!("({}{}{})", gap(r), gen(r, depth - 1), gap(r)),
            1 => {
                let n = r.next(3);
                let args: Vec<String> = (0..n).map(|_| gen(r, depth - 1)).collect();
                format!(
                    "{}{}({})",
                    r.pick(&["f", "q_use", "Φ::g"]),
                    gap(r),
                    args.join(&format!(",{}", gap(r)))
                )
            }
            2 => {
                let n = r.next(3);
                let fields: Vec<String> = (0..n)
                    .map(|i| format!("f{i}{}:{}{}", gap(r), gap(r), gen(r, depth - 1)))
                    .collect();
                let trail = if n > 0 && r.next(2) == 0 { "," } else { "" };
                format!("S{}{{{}{}{}}}", gap(r), fields.join(","), trail, gap(r))
            }
            3 => format!("({}).{}", gen(r, depth - 1), r.pick(&["x", "id"])),
            _ => {
                let op = r.pick(&[
                    "Add", "Sub", "Mul", "Div", "Eq", "Lt", "Le", "Gt", "Ge", "And", "Or", "+",
                    "-", "*", "/", "==", "<", "<=", ">", ">=", "&&", "||",
                ]);
                let sep = if op.chars().all(|c| c.is_ascii_alphabetic()) {
                    " "
                } else {
                    ""
                };
                format!(
                    "{}{sep}{}{op}{sep}{}{}",
                    gen(r, depth - 1),
                    gap(r),
                    gap(r),
                    gen(r, depth - 1)
                )
            }
        }
    }

    /// Wherever the fast parser accepts, pest accepts with the same tree
    /// and spans; it accepts almost every valid expression; and random
    /// corruptions never make it accept what pest rejects.
    #[test]
    fn agrees_with_the_pest_grammar() {
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        let (mut valid, mut fast_ok) = (0, 0);
        for round in 0..4000 {
            let mut src = gen(&mut r, 1 + (round % 5) as u32);
            if round % 4 == 3 {
                let ins = [
                    "(", ")", "{", "}", ",", ":", ".", "-", "\"", "A", " ", "Φ", "1",
                ];
                src = corrupt(&mut r, &src, &ins);
            }
            let map = |o: usize| o + 10;
            let (mut px, mut fx) = (Exprs::default(), Exprs::default());
            let pest = parse_expr_pest(&src, &map, &mut px).map(|p| px.get(p));
            let fast = super::parse(&src, &map, &mut fx);
            if pest.is_ok() {
                valid += 1;
            }
            match fast {
                super::Parsed::Expr(f) => {
                    fast_ok += 1;
                    let f = fx.get(f);
                    match pest {
                        Ok(p) => assert_eq!(format!("{f:?}"), format!("{p:?}"), "{src:?}"),
                        Err(e) => panic!("fast accepts what pest rejects: {src:?}: {}", e.message),
                    }
                }
                super::Parsed::TooDeep(at) => panic!("{src:?} is not deep, yet {at:?}"),
                super::Parsed::Unsure => {}
            }
        }
        assert!(valid > 2000, "{valid} valid");
        assert!(
            fast_ok * 100 >= valid * 98,
            "fast parsed {fast_ok} of {valid} valid"
        );
    }

    /// An arena holds exactly the nodes of the expressions parsed into it:
    /// where the fast reader gives up part way, and where the parse fails
    /// (too deep, a syntax error, a literal out of range), nothing is left
    /// behind, whatever the arena held before.
    #[test]
    fn an_arena_holds_only_what_parsed() {
        let mut r = Rng(0x6a09_e667_f3bc_c908);
        let mut ex = Exprs::default();
        let mut roots = Vec::new();
        let (mut given_up, mut failed) = (0, 0);
        for round in 0..3000 {
            let mut src = gen(&mut r, 1 + (round % 5) as u32);
            match round % 6 {
                3 => src = corrupt(&mut r, &src, &["(", ")", "{", ",", ".", "\"", "A", " "]),
                4 => src = format!("{src} Add 99999999999999999999"),
                5 => src = vec!["x"; 300 + r.next(50) as usize].join(" Add "),
                _ => {}
            }
            let map = |o: usize| o;
            if matches!(
                super::parse(&src, &map, &mut Exprs::default()),
                super::Parsed::Unsure
            ) {
                given_up += 1;
            }
            let before = ex.len();
            match crate::expr::parse_expr(&src, &map, &mut ex) {
                Ok(root) => {
                    let mut n = 0;
                    ex.get(root).walk(&mut |_| n += 1);
                    assert_eq!(ex.len() - before, n, "{src:?}");
                    roots.push((root, format!("{:?}", ex.get(root))));
                }
                Err(_) => {
                    failed += 1;
                    assert_eq!(ex.len(), before, "{src:?}");
                }
            }
        }
        // What was parsed before is as it was.
        for (root, tree) in &roots {
            assert_eq!(&format!("{:?}", ex.get(*root)), tree);
        }
        assert!(
            given_up > 200 && failed > 600,
            "{given_up} given up, {failed} failed"
        );
    }

    /// Expressions past the depth limit (chains of fields and operators,
    /// in brackets, calls and struct literals, beside shallow ones): where
    /// the fast reader says so, the pre-scan and pest report the same
    /// error at the same node; corruptions never make it say so of what
    /// pest rejects for another reason.
    #[test]
    fn too_deep_expressions_are_reported_as_pest_reports_them() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut deep, mut fast_deep) = (0, 0);
        for round in 0..600 {
            let n = 250 + r.next(120) as usize;
            let chain = match r.next(4) {
                0 => format!("x{}", ".f".repeat(n)),
                1 => vec!["a"; n].join(" Add "),
                2 => format!("({}).g Mul {}", vec!["b"; n].join(" * "), ".h".repeat(n)),
                _ => format!(
                    "f({}, S{{x: {}}})",
                    gen(&mut r, 2),
                    vec!["c.d"; n].join(" - ")
                ),
            };
            let chain = chain.replace("Mul .h", "Mul y.h");
            let mut src = match r.next(3) {
                0 => chain,
                1 => format!("{} Add ({chain})", gen(&mut r, 3)),
                _ => format!("g({chain}, {})", gen(&mut r, 3)),
            };
            if round % 3 == 2 {
                let ins = ["(", ")", "{", "}", ",", ":", ".", "-", "\"", "A", " ", "1"];
                src = corrupt(&mut r, &src, &ins);
            }
            let map = |o: usize| o + 10;
            let (mut px, mut fx) = (Exprs::default(), Exprs::default());
            let pest = crate::expr::prescan_expr(&src, &map)
                .and_then(|()| parse_expr_pest(&src, &map, &mut px))
                .map(|p| px.get(p));
            if pest
                .as_ref()
                .is_err_and(|e| e.message.contains("nested deeper"))
            {
                deep += 1;
            }
            match super::parse(&src, &map, &mut fx) {
                super::Parsed::TooDeep(at) => {
                    fast_deep += 1;
                    let fast = crate::expr::too_deep(at);
                    match pest {
                        Err(p) => assert_eq!(format!("{fast:?}"), format!("{p:?}"), "{src:?}"),
                        Ok(_) => panic!("fast says too deep, pest accepts: {src:?}"),
                    }
                }
                super::Parsed::Expr(f) => match pest {
                    Ok(p) => assert_eq!(format!("{:?}", fx.get(f)), format!("{p:?}"), "{src:?}"),
                    Err(e) => panic!("fast accepts what pest rejects: {src:?}: {}", e.message),
                },
                super::Parsed::Unsure => {}
            }
        }
        assert!(deep > 300, "{deep} too deep");
        assert!(
            fast_deep * 100 >= deep * 95,
            "fast found {fast_deep} of {deep}"
        );
    }
}
