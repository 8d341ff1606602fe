//! Textual DIR (`.dir`), brief 2.2: the same model, human-writable.

use crate::error::{limits, LoadError, LoadErrorKind};
use crate::expr::{build_expr, decode_expr_string};
use crate::grammar::{pest_error, DirParser, Rule};
use crate::json::build as build_json;
use crate::load_json::parse_path;
use crate::model::*;
use crate::prescan::{scan, Lexical};
use crate::span::Span;
use pest::iterators::Pair;
use pest::Parser;

type R<T> = Result<T, LoadError>;

pub fn load_text(src: &str) -> R<Program> {
    if let Some(p) = crate::fast_text::load(src) {
        return Ok(p);
    }
    // A file valid but for an expression too deep: the build's first error.
    if let Some(at) = crate::fast_text::first_too_deep(src) {
        return Err(crate::expr::too_deep(at));
    }
    if src.len() >= BLANK_FROM_BYTES {
        load_text_blanked(src)?;
    }
    load_text_pest(src)
}

/// Inputs from this size on have the items the fast reader read in full
/// blanked before the grammar words their error.
const BLANK_FROM_BYTES: usize = 64 * 1024;

/// The grammar's error for `src`, found with the items the fast reader read
/// in full (each one the grammar accepts alike) replaced by spaces: offsets
/// and lines stay, and the grammar only parses the rest (a 9 MB file with a
/// late error took 4.7 s and 1 GB through the grammar whole). The last
/// such item is kept, so that "the previous token" of an error is the
/// same. `Ok` says nothing: the reader gave up on something the grammar
/// accepts (or on an error of building the program), and the whole input
/// goes through the grammar; a valid file the reader declines is then
/// parsed twice, the first time without its blanked items.
pub(crate) fn load_text_blanked(src: &str) -> R<()> {
    let mut items = crate::fast_text::accepted(src);
    items.pop();
    if items.is_empty() {
        return Ok(());
    }
    let mut bytes = src.as_bytes().to_vec();
    for (a, b) in items {
        for c in &mut bytes[a..b] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    }
    // Items start and end at tokens, so only whole characters were
    // blanked; were it otherwise, the whole input decides.
    let Ok(blanked) = String::from_utf8(bytes) else {
        return Ok(());
    };
    // The pre-scan sees the input as it is: its limits are the file's.
    scan_text(src)?;
    // Only the grammar's verdict carries over: the whole input is parsed
    // before any item is built, so its first error is this one. An error
    // of building the program from the parse could be one the blanked
    // items hide (a second `types` stops being one): the whole input
    // decides those.
    match DirParser::parse(Rule::dir_file, &blanked) {
        Err(e) => Err(syntax_error(&blanked, e)),
        Ok(_) => Ok(()),
    }
}

fn scan_text(src: &str) -> R<()> {
    let id = |o: usize| o;
    scan(
        src,
        Lexical {
            line_comments: true,
            char_quotes: true,
        },
        limits::MAX_FILE_NESTING,
        "this textual DIR file",
        &id,
    )
}

/// The reference loader: the normative grammar, then the model. It decides
/// every input the hand-written reader gives up on.
pub(crate) fn load_text_pest(src: &str) -> R<Program> {
    scan_text(src)?;
    let file = DirParser::parse(Rule::dir_file, src)
        .map_err(|e| syntax_error(src, e))?
        .next()
        .ok_or_else(|| LoadError::new(LoadErrorKind::TextSyntax, "empty file", Span::default()))?;
    let mut version = None;
    let mut forges = Vec::new();
    let mut types = None;
    // The program's one arena (shared by the operator parser's callbacks).
    let ex = std::cell::RefCell::new(Exprs::default());
    for item in file.into_inner() {
        match item.as_rule() {
            Rule::header => {
                let v = item
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::version)
                    .ok_or_else(|| {
                        LoadError::new(
                            LoadErrorKind::TextSyntax,
                            "missing version",
                            Span::default(),
                        )
                    })?;
                version = Some(ident(&v));
            }
            Rule::types_decl => {
                let sp = span(&item);
                if types.is_some() {
                    // JSON DIR has one `types`: a second would be lost.
                    return Err(LoadError::new(
                        LoadErrorKind::TextSyntax,
                        "malformed textual DIR: `types` is declared twice",
                        sp,
                    ));
                }
                types = Some(embedded_json(item)?.verbatim("`types`")?)
            }
            Rule::forge => forges.push(forge(item, &ex)?),
            _ => {}
        }
    }
    let mut ex = ex.into_inner();
    ex.trim();
    Ok(Program {
        version,
        forges,
        types,
        form: SourceForm::Text,
        comments: comments_of(src),
        exprs: vec![ex],
        checked: Checked::default(),
    })
}

/// A syntax error of textual DIR, said where a person would look: a
/// missing `;` at the end of the statement that lacks it (not at the start
/// of the next line), and an unclosed `{` pointed at as well as the end of
/// the file.
fn syntax_error(src: &str, e: pest::error::Error<Rule>) -> LoadError {
    let at = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((a, _)) => a,
    };
    let id = |o: usize| o;
    let err = pest_error(e, LoadErrorKind::TextSyntax, &id);
    // The previous token's end, skipping blanks and whole comment lines.
    let before = previous_token_end(src, at);
    let newline_between = src[before..at].contains('\n');
    if newline_between && before > 0 && !src[..before].ends_with([';', '{', '}']) {
        // Would a `;` there let the parse get past the reported place?
        let patched = format!("{};{}", &src[..before], &src[before..]);
        let gets_further = match DirParser::parse(Rule::dir_file, &patched) {
            Ok(_) => true,
            Err(e2) => {
                let p2 = match e2.location {
                    pest::error::InputLocation::Pos(p) => p,
                    pest::error::InputLocation::Span((a, _)) => a,
                };
                p2 > at + 1
            }
        };
        if gets_further {
            return LoadError::new(
                LoadErrorKind::TextSyntax,
                "malformed textual DIR: expected `;` after this statement",
                Span::new(before, before),
            )
            .also(Span::new(at, at), "the next statement starts here");
        }
    }
    // At the end of the file: name the `{` that is still open.
    if src[at..].trim().is_empty() {
        if let Some(open) = unclosed_brace(src) {
            return LoadError::new(
                LoadErrorKind::TextSyntax,
                "malformed textual DIR: the file ends inside a `{ ... }`: expected `}`",
                Span::new(at, at),
            )
            .also(Span::new(open, open + 1), "this `{` is never closed");
        }
    }
    // A letter identifiers cannot hold (`café`): say so, not "expected an
    // operator".
    if let Some(c) = src[at..].chars().next() {
        let in_name = src[..at]
            .chars()
            .next_back()
            .is_some_and(|p| p.is_ascii_alphanumeric() || p == '_');
        if in_name && c.is_alphabetic() && !c.is_ascii() && c != 'Φ' {
            return LoadError::new(
                LoadErrorKind::TextSyntax,
                format!("malformed textual DIR: `{c}` cannot be part of a name"),
                Span::new(at, at + c.len_utf8()),
            )
            .note("identifiers are ASCII letters, digits and `_`, starting with a letter or `_`");
        }
    }
    err
}

/// The end of the token before `at`: blanks and lines that hold only a
/// comment are skipped.
fn previous_token_end(src: &str, at: usize) -> usize {
    let mut end = at.min(src.len());
    loop {
        let trimmed = src[..end].trim_end();
        end = trimmed.len();
        let line_start = trimmed.rfind('\n').map_or(0, |i| i + 1);
        match comment_start(&src[line_start..end]) {
            Some(c) => end = line_start + c,
            None => return end,
        }
    }
}

/// Where a `//` comment starts on a line, outside string literals.
fn comment_start(line: &str) -> Option<usize> {
    let mut at = None;
    crate::prescan::lexemes(line, |l| {
        if let crate::prescan::Lexeme::Comment(r) = l {
            at.get_or_insert(r.start);
        }
    });
    at
}

/// The innermost `{` left open at the end of the file (strings, character
/// literals and comments skipped).
fn unclosed_brace(src: &str) -> Option<usize> {
    let mut open = Vec::new();
    crate::prescan::lexemes(src, |l| match l {
        crate::prescan::Lexeme::Byte(b'{', i) => open.push(i),
        crate::prescan::Lexeme::Byte(b'}', _) => {
            open.pop();
        }
        _ => {}
    });
    open.pop()
}

fn span(p: &Pair<'_, Rule>) -> Span {
    Span::new(p.as_span().start(), p.as_span().end())
}

fn ident(p: &Pair<'_, Rule>) -> Ident {
    Ident::new(p.as_str(), span(p))
}

/// Children without the keyword tokens.
fn parts<'i>(p: Pair<'i, Rule>) -> Vec<Pair<'i, Rule>> {
    p.into_inner()
        .filter(|c| !is_keyword(c.as_rule()))
        .collect()
}

fn is_keyword(r: Rule) -> bool {
    matches!(
        r,
        Rule::kw_dir
            | Rule::kw_types
            | Rule::kw_forge
            | Rule::kw_shape
            | Rule::kw_proc
            | Rule::kw_uses
            | Rule::kw_locals
            | Rule::kw_let
            | Rule::kw_constrain
            | Rule::kw_prove
            | Rule::kw_from
            | Rule::kw_return
            | Rule::kw_bind
            | Rule::kw_call
    )
}

fn embedded_json(p: Pair<'_, Rule>) -> R<crate::json::Json> {
    let j = p
        .into_inner()
        .find(|c| c.as_rule() == Rule::jembed)
        .ok_or_else(|| {
            LoadError::new(LoadErrorKind::TextSyntax, "expected JSON", Span::default())
        })?;
    build_json(j, 0)
}

/// The arena the program's expressions go to.
type Ex = std::cell::RefCell<Exprs>;

fn forge(p: Pair<'_, Rule>, ex: &Ex) -> R<Forge> {
    let sp = span(&p);
    let mut it = parts(p).into_iter();
    let name = ident(&it.next().ok_or_else(|| missing(sp, "forge name"))?);
    let mut f = Forge {
        name,
        shapes: Vec::new(),
        procs: Vec::new(),
        binds: Vec::new(),
        span: sp,
    };
    for item in it {
        match item.as_rule() {
            Rule::shape => {
                let ssp = span(&item);
                let mut si = parts(item).into_iter();
                let name = ident(&si.next().ok_or_else(|| missing(ssp, "shape name"))?);
                let fields = si.map(field).collect::<R<Vec<_>>>()?;
                f.shapes.push(Shape {
                    name,
                    fields,
                    span: ssp,
                });
            }
            Rule::proc => f.procs.push(proc(item, ex)?),
            Rule::bind => f.binds.push(bind(item)?),
            _ => {}
        }
    }
    Ok(f)
}

fn missing(sp: Span, what: &str) -> LoadError {
    LoadError::new(LoadErrorKind::TextSyntax, format!("missing {what}"), sp)
}

fn field(p: Pair<'_, Rule>) -> R<Field> {
    let sp = span(&p);
    let mut it = p.into_inner();
    let (Some(n), Some(t)) = (it.next(), it.next()) else {
        return Err(missing(sp, "field name or type"));
    };
    Ok(Field {
        name: ident(&n),
        ty: ident(&t),
    })
}

fn proc(p: Pair<'_, Rule>, ex: &Ex) -> R<Proc> {
    let sp = span(&p);
    let mut it = parts(p).into_iter();
    let rp = it.next().ok_or_else(|| missing(sp, "regime"))?;
    let regime = Regime::parse(rp.as_str()).ok_or_else(|| {
        LoadError::new(
            LoadErrorKind::UnknownRegime,
            format!("unknown regime `{}`", rp.as_str()),
            span(&rp),
        )
    })?;
    let name = ident(&it.next().ok_or_else(|| missing(sp, "proc name"))?);
    let mut pr = Proc {
        regime,
        regime_span: span(&rp),
        name,
        params: Vec::new(),
        uses: Vec::new(),
        ret: None,
        qualifiers: Vec::new(),
        body: Vec::new(),
        locals: None,
        span: sp,
    };
    for item in it {
        match item.as_rule() {
            Rule::field => pr.params.push(field(item)?),
            Rule::ret => pr.ret = item.into_inner().next().map(|t| ident(&t)),
            Rule::qualifiers => pr.qualifiers = item.into_inner().map(|q| ident(&q)).collect(),
            Rule::uses => {
                for u in parts(item) {
                    pr.uses.push(use_item(u)?);
                }
            }
            Rule::locals => pr.locals = Some(embedded_json(item)?.verbatim("`locals`")?),
            _ => pr.body.push(stmt(item, ex)?),
        }
    }
    Ok(pr)
}

fn use_item(p: Pair<'_, Rule>) -> R<Uses> {
    let sp = span(&p);
    let mut it = p.into_inner();
    let resource = ident(&it.next().ok_or_else(|| missing(sp, "resource name"))?);
    let mut args = Vec::new();
    for a in it {
        let asp = span(&a);
        let mut ai = a.into_inner();
        let (Some(k), Some(v)) = (ai.next(), ai.next()) else {
            return Err(missing(asp, "argument"));
        };
        args.push((ident(&k), literal(v)?));
    }
    Ok(Uses {
        resource,
        args,
        span: sp,
    })
}

fn literal(p: Pair<'_, Rule>) -> R<Literal> {
    let sp = span(&p);
    let id = |o: usize| o;
    let value = match p.as_rule() {
        Rule::int => LitValue::Int(p.as_str().parse().map_err(|_| {
            LoadError::new(
                LoadErrorKind::IntegerRange,
                format!("`{}` does not fit in i64", p.as_str()),
                sp,
            )
        })?),
        Rule::float => {
            let f: f64 = p.as_str().parse().map_err(|_| missing(sp, "float"))?;
            if !f.is_finite() {
                return Err(LoadError::new(
                    LoadErrorKind::IntegerRange,
                    format!("`{}` is not a finite f64", p.as_str()),
                    sp,
                ));
            }
            LitValue::Float(f)
        }
        Rule::boolean => LitValue::Bool(p.as_str() == "true"),
        Rule::string | Rule::char_lit => {
            let is_char = p.as_rule() == Rule::char_lit;
            let (raw, start) = p
                .into_inner()
                .next()
                .map(|i| (i.as_str(), i.as_span().start()))
                .unwrap_or(("", sp.start() + 1));
            // `'\''`: the quote escaped, as the printer writes it.
            let s = if is_char && raw == "\\'" {
                "'".to_string()
            } else {
                decode_expr_string(raw, start, &id)?
            };
            if is_char {
                let mut cs = s.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => LitValue::Char(c),
                    _ => return Err(missing(sp, "single character")),
                }
            } else {
                LitValue::String(s)
            }
        }
        _ => return Err(missing(sp, "literal")),
    };
    Ok(Literal { value, span: sp })
}

/// An expression, under the same per-expression nesting limit JSON DIR's
/// expression strings have: one limit for both forms, so `fmt --to json`
/// output always loads.
fn expr_id(p: Pair<'_, Rule>, ex: &Ex) -> R<ExprId> {
    let id = |o: usize| o;
    let start = p.as_span().start();
    crate::expr::prescan_expr(p.as_str(), &|o| start + o)?;
    Ok(build_expr(p, &id, ex)?.0)
}

fn expr(p: Pair<'_, Rule>, ex: &Ex) -> R<ExprRoot> {
    Ok(ExprRoot::new(0, expr_id(p, ex)?))
}

/// A call statement's `path(args)`. Its arguments are expressions of their
/// own, under the per-expression limits each, as in JSON DIR, where every
/// argument is its own string: the call around them adds no level, so the
/// two forms accept the same calls.
fn call_statement(p: Pair<'_, Rule>, ex: &Ex) -> R<ExprRoot> {
    let span = span(&p);
    let mut it = p.into_inner();
    let callee = it.next().ok_or_else(|| missing(span, "callee"))?;
    let callee_span = self::span(&callee);
    let args = it.map(|a| expr_id(a, ex)).collect::<R<Vec<_>>>()?;
    // `path` is compound-atomic: its text is the segments as written.
    let call = ex
        .borrow_mut()
        .call(callee.as_str(), callee_span, args, span);
    Ok(ExprRoot::new(0, call))
}

fn stmt(p: Pair<'_, Rule>, ex: &Ex) -> R<Stmt> {
    let sp = span(&p);
    let rule = p.as_rule();
    let mut it = parts(p).into_iter();
    let mut next = |what: &str| it.next().ok_or_else(|| missing(sp, what));
    let kind = match rule {
        Rule::let_s => {
            let name = ident(&next("name")?);
            StmtKind::Let {
                name,
                expr: expr(next("expression")?, ex)?,
            }
        }
        Rule::constrain_s => StmtKind::Constrain {
            predicate: expr(next("predicate")?, ex)?,
        },
        Rule::prove_s => {
            let name = ident(&next("name")?);
            StmtKind::Prove {
                name,
                from: expr(next("expression")?, ex)?,
            }
        }
        Rule::return_s => StmtKind::Return {
            expr: match it.next() {
                Some(e) => Some(expr(e, ex)?),
                None => None,
            },
        },
        Rule::call_s => {
            let call = call_statement(next("call")?, ex)?;
            StmtKind::Call {
                call,
                result: it.next().map(|r| ident(&r)),
            }
        }
        Rule::effect_s => {
            let kind = ident(&next("effect kind")?);
            // `call (f(1));` or `let x;` fall through the grammar's ordered
            // choice to an effect named `call` or `let`: refuse it, as JSON
            // DIR refuses such a kind (it would print as that statement).
            if TEXT_STATEMENT_KEYWORDS.contains(&kind.name.as_str()) {
                return Err(LoadError::new(
                    LoadErrorKind::TextSyntax,
                    format!("malformed textual DIR: a `{}` statement that does not parse", kind.name),
                    sp,
                )
                .note("an effect kind cannot be `let`, `constrain`, `prove`, `return` or `call`: these begin statements of their own"));
            }
            StmtKind::Effect {
                kind,
                payload: expr(next("payload")?, ex)?,
            }
        }
        Rule::later_s => {
            let kind = ident(&next("statement kind")?);
            if !is_later_tag(&kind.name) {
                let (message, note) = if is_statement_tag(&kind.name) {
                    (
                        format!("`@{}` is a DIR v0.1 statement", kind.name),
                        "v0.1 statements are written in their own forms (`let x = ...;`, `constrain ...;`, `emit ...;`); `@Name {...}` is for statements of later versions",
                    )
                } else {
                    (
                        format!("`@{}` is not a statement tag", kind.name),
                        "a later statement is written `@Name {...}` with a capitalised tag, as in JSON DIR",
                    )
                };
                return Err(
                    LoadError::new(LoadErrorKind::UnknownStatement, message, kind.span).note(note),
                );
            }
            let body = build_json(next("JSON body")?, 0)?.verbatim("a later statement's body")?;
            StmtKind::Later {
                kind,
                body: Box::new(body),
            }
        }
        other => {
            return Err(LoadError::new(
                LoadErrorKind::TextSyntax,
                format!("unexpected {other:?}"),
                sp,
            ))
        }
    };
    Ok(Stmt { kind, span: sp })
}

fn bind(p: Pair<'_, Rule>) -> R<Bind> {
    // A bind may end without `;`; pest's span then runs over the blanks and
    // comments it skipped looking for one. The bind ends at its last token.
    let whole = span(&p);
    let sp = Span::new(
        whole.start(),
        whole.start() + previous_token_end(p.as_str(), p.as_str().len()),
    );
    let mut it = parts(p).into_iter();
    let s = it.next().ok_or_else(|| missing(sp, "source"))?;
    let t = it.next().ok_or_else(|| missing(sp, "target"))?;
    let source = parse_path(s.as_str(), span(&s))?;
    let target = parse_path(t.as_str(), span(&t))?;
    let mut contract = Vec::new();
    for c in it {
        let csp = span(&c);
        let mut ci = c.into_inner();
        let (Some(k), Some(op), Some(v)) = (ci.next(), ci.next(), ci.next()) else {
            return Err(missing(csp, "clause part"));
        };
        contract.push(Clause {
            key: ident(&k),
            op: clause_token(op)?,
            value: clause_token(v)?,
            span: csp,
        });
    }
    Ok(Bind {
        source,
        target,
        contract,
        span: sp,
    })
}

/// A clause operator or value: bare tokens as written, string literals decoded.
fn clause_token(p: Pair<'_, Rule>) -> R<Ident> {
    let sp = span(&p);
    let text = p.as_str().to_string();
    let inner = p.into_inner().next();
    match inner {
        Some(s) if s.as_rule() == Rule::string => {
            let ssp = span(&s);
            let (raw, start) = s
                .into_inner()
                .next()
                .map(|i| (i.as_str(), i.as_span().start()))
                .unwrap_or(("", ssp.start() + 1));
            let id = |o: usize| o;
            Ok(Ident::new(decode_expr_string(raw, start, &id)?, sp))
        }
        Some(tok) => Ok(Ident::new(tok.as_str(), sp)),
        // clause_op's symbolic alternatives are plain literals without inner pairs.
        None => Ok(Ident::new(text, sp)),
    }
}
