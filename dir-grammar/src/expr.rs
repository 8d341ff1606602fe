//! Expression strings (brief 2.3): parsed once, at load, into nodes of an
//! arena (`exprs.rs`) whose spans are file offsets.

use crate::error::{limits, LoadError, LoadErrorKind};
use crate::grammar::{pest_error, DirParser, Rule};
use crate::model::{BinOp, ExprId, ExprTree, Exprs};
use crate::prescan::{scan, Lexical};
use crate::span::Span;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;

thread_local! {
    /// Binary operator precedence, lowest first (§3.8); all left-associative.
    static PRATT: PrattParser<Rule> = PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::infix(Rule::op_eq, Assoc::Left))
        .op(Op::infix(Rule::op_cmp, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left));
}

/// Maps an offset within the parsed text to a file offset.
pub(crate) type OffsetMap<'a> = &'a dyn Fn(usize) -> usize;

/// Parse a standalone expression string. `map` gives file offsets.
/// Its nodes go to `ex` (nothing, on an error).
pub fn parse_expr<M: Fn(usize) -> usize>(
    src: &str,
    map: &M,
    ex: &mut Exprs,
) -> Result<ExprId, LoadError> {
    // The fast reader counts brackets as the pre-scan does and gives up
    // past its limit, so the scan is needed only when it gives up.
    match crate::fast_expr::parse(src, map, ex) {
        crate::fast_expr::Parsed::Expr(e) => return Ok(e),
        crate::fast_expr::Parsed::TooDeep(at) => return Err(too_deep(at)),
        crate::fast_expr::Parsed::Unsure => {}
    }
    prescan_expr(src, map)?;
    parse_expr_pest(src, map, ex)
}

/// The lexical pre-scan every expression string passes first: it enforces
/// the nesting limit before any recursive parser runs.
pub(crate) fn prescan_expr(src: &str, map: OffsetMap<'_>) -> Result<(), LoadError> {
    scan(
        src,
        Lexical {
            line_comments: true,
            char_quotes: false,
        },
        limits::MAX_EXPR_NESTING,
        "an expression",
        map,
    )
}

/// The normative parse of an expression string (after the pre-scan); its
/// nodes go to `ex` (nothing, on an error).
pub(crate) fn parse_expr_pest(
    src: &str,
    map: OffsetMap<'_>,
    ex: &mut Exprs,
) -> Result<ExprId, LoadError> {
    let mut pairs = DirParser::parse(Rule::expr_only, src)
        .map_err(|e| pest_error(e, LoadErrorKind::ExprSyntax, map))?;
    let top = pairs
        .next()
        .and_then(|p| p.into_inner().find(|p| p.as_rule() == Rule::expr))
        .ok_or_else(|| {
            LoadError::new(
                LoadErrorKind::ExprSyntax,
                "empty expression",
                Span::new(map(0), map(0)),
            )
        })?;
    let mark = ex.mark();
    let cell = std::cell::RefCell::new(std::mem::take(ex));
    let built = build_expr(top, map, &cell);
    *ex = cell.into_inner();
    match built {
        Ok((e, _)) => Ok(e),
        Err(err) => {
            ex.reset(mark);
            Err(err)
        }
    }
}

/// Parse an expression given on the command line (`--arg c=Candidate{x: 7}`).
/// Spans are offsets into `src`.
pub fn parse_standalone(src: &str) -> Result<ExprTree, LoadError> {
    crate::on_parse_stack(|| {
        let mut ex = Exprs::default();
        let root = parse_expr(src, &|o| o, &mut ex)?;
        Ok(ExprTree::new(ex, root))
    })
}

fn span_of(p: &Pair<'_, Rule>, map: OffsetMap<'_>) -> Span {
    let s = p.as_span();
    Span::new(map(s.start()), map(s.end()))
}

pub(crate) fn too_deep(span: Span) -> LoadError {
    LoadError::new(
        LoadErrorKind::TooDeep,
        format!(
            "expression is nested deeper than the limit of {} levels",
            limits::MAX_EXPR_DEPTH
        ),
        span,
    )
    .note("operator chains count as nesting; split the expression with `let`")
}

/// Returns the expression and its tree depth.
/// (The arena is shared by the operator parser's two callbacks.)
pub(crate) fn build_expr(
    p: Pair<'_, Rule>,
    map: OffsetMap<'_>,
    ex: &std::cell::RefCell<Exprs>,
) -> Result<(ExprId, usize), LoadError> {
    let span = span_of(&p, map);
    let span_at = |e: ExprId| ex.borrow().get(e).span();
    match p.as_rule() {
        Rule::paren => {
            let inner = p.into_inner().next().ok_or_else(|| {
                LoadError::new(LoadErrorKind::ExprSyntax, "empty expression", span)
            })?;
            build_expr(inner, map, ex)
        }
        Rule::expr => PRATT.with(|pratt| {
            pratt
                .map_primary(|operand| build_expr(operand, map, ex))
                .map_infix(|lhs, op, rhs| {
                    let (l, ld) = lhs?;
                    let (r, rd) = rhs?;
                    let op_span = span_of(&op, map);
                    let bop = BinOp::from_token(op.as_str().trim()).ok_or_else(|| {
                        LoadError::new(LoadErrorKind::ExprSyntax, "unknown operator", op_span)
                    })?;
                    let depth = ld.max(rd) + 1;
                    if depth > limits::MAX_EXPR_DEPTH {
                        return Err(too_deep(op_span));
                    }
                    let s = span_at(l).to(span_at(r));
                    let node = ex.borrow_mut().binary(bop, op_span, l, r, s);
                    // Every operand is made before its operator, the
                    // right one last: never None.
                    let node = node.ok_or_else(|| {
                        LoadError::new(LoadErrorKind::ExprSyntax, "malformed operator", op_span)
                    })?;
                    Ok((node, depth))
                })
                .parse(p.into_inner())
        }),
        Rule::postfix => {
            let mut it = p.into_inner();
            let first = it.next().ok_or_else(|| {
                LoadError::new(LoadErrorKind::ExprSyntax, "empty expression", span)
            })?;
            let (mut acc, mut depth) = build_expr(first, map, ex)?;
            for f in it {
                let fs = span_of(&f, map);
                depth += 1;
                if depth > limits::MAX_EXPR_DEPTH {
                    return Err(too_deep(fs));
                }
                let s = span_at(acc).to(fs);
                acc = ex.borrow_mut().field(acc, f.as_str(), fs, s);
            }
            Ok((acc, depth))
        }
        Rule::int => {
            let v: i64 = p.as_str().parse().map_err(|_| {
                LoadError::new(
                    LoadErrorKind::IntegerRange,
                    format!("integer literal `{}` does not fit in i64", p.as_str()),
                    span,
                )
            })?;
            Ok((ex.borrow_mut().int(v, span), 1))
        }
        Rule::float => {
            let v: f64 = p.as_str().parse().map_err(|_| {
                LoadError::new(LoadErrorKind::ExprSyntax, "malformed float literal", span)
            })?;
            if !v.is_finite() {
                return Err(LoadError::new(
                    LoadErrorKind::IntegerRange,
                    format!("float literal `{}` is not finite in f64", p.as_str()),
                    span,
                ));
            }
            Ok((ex.borrow_mut().float(v, span), 1))
        }
        Rule::boolean => Ok((ex.borrow_mut().boolean(p.as_str() == "true", span), 1)),
        Rule::string => {
            let inner = p.into_inner().next();
            let (raw, start) = match &inner {
                Some(i) => (i.as_str(), i.as_span().start()),
                None => ("", 0),
            };
            let s = decode_expr_string(raw, start, map)?;
            Ok((ex.borrow_mut().string(&s, span), 1))
        }
        Rule::path => {
            // `path` is compound-atomic: its text is its segments joined by `::`.
            Ok((ex.borrow_mut().path(p.as_str(), span), 1))
        }
        Rule::call => {
            let mut it = p.into_inner();
            let callee = it.next().ok_or_else(|| {
                LoadError::new(LoadErrorKind::ExprSyntax, "call without a callee", span)
            })?;
            let callee_span = span_of(&callee, map);
            // `path` is compound-atomic: its text is the segments as written.
            let mut args = Vec::new();
            let mut depth = 1;
            for a in it {
                let (e, d) = build_expr(a, map, ex)?;
                depth = depth.max(d + 1);
                args.push(e);
            }
            if depth > limits::MAX_EXPR_DEPTH {
                return Err(too_deep(span));
            }
            let call = ex
                .borrow_mut()
                .call(callee.as_str(), callee_span, args, span);
            Ok((call, depth))
        }
        Rule::struct_lit => {
            let mut it = p.into_inner();
            let name = it.next().ok_or_else(|| {
                LoadError::new(
                    LoadErrorKind::ExprSyntax,
                    "struct literal without a name",
                    span,
                )
            })?;
            let name_span = span_of(&name, map);
            let mut fields = Vec::new();
            let mut depth = 1;
            for fi in it {
                let mut fit = fi.into_inner();
                let (Some(fname), Some(fexpr)) = (fit.next(), fit.next()) else {
                    return Err(LoadError::new(
                        LoadErrorKind::ExprSyntax,
                        "malformed field",
                        span,
                    ));
                };
                let fspan = span_of(&fname, map);
                let (e, d) = build_expr(fexpr, map, ex)?;
                depth = depth.max(d + 1);
                fields.push(ex.borrow_mut().item(fname.as_str(), fspan, e));
            }
            if depth > limits::MAX_EXPR_DEPTH {
                return Err(too_deep(span));
            }
            let lit = ex
                .borrow_mut()
                .struct_lit(name.as_str(), name_span, fields, span);
            Ok((lit, depth))
        }
        other => Err(LoadError::new(
            LoadErrorKind::ExprSyntax,
            format!("unexpected element {other:?} in expression"),
            span,
        )),
    }
}

/// Decode `\" \\ \n \r \t`; any other escape is an error (brief 2.3).
pub(crate) fn decode_expr_string(
    raw: &str,
    start: usize,
    map: OffsetMap<'_>,
) -> Result<String, LoadError> {
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.char_indices();
    while let Some((i, c)) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 't')) => out.push('\t'),
            Some((j, other)) => {
                return Err(LoadError::new(
                    LoadErrorKind::BadEscape,
                    format!("invalid escape `\\{other}` in string literal"),
                    Span::new(map(start + i), map(start + j + other.len_utf8())),
                )
                .note("string literals accept only the escapes \\\" \\\\ \\n \\r \\t"))
            }
            None => {
                return Err(LoadError::new(
                    LoadErrorKind::BadEscape,
                    "a lone `\\` ends the string literal",
                    Span::new(map(start + i), map(start + i + 1)),
                ))
            }
        }
    }
    Ok(out)
}
