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
    load_text_pest(src)
}

/// The reference loader: the normative grammar, then the model. It decides
/// every input the hand-written reader gives up on.
pub(crate) fn load_text_pest(src: &str) -> R<Program> {
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
    )?;
    let file = DirParser::parse(Rule::dir_file, src)
        .map_err(|e| pest_error(e, LoadErrorKind::TextSyntax, &id))?
        .next()
        .ok_or_else(|| LoadError::new(LoadErrorKind::TextSyntax, "empty file", Span::default()))?;
    let mut version = None;
    let mut forges = Vec::new();
    let mut types = None;
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
            Rule::types_decl => types = Some(embedded_json(item)?),
            Rule::forge => forges.push(forge(item)?),
            _ => {}
        }
    }
    Ok(Program {
        version,
        forges,
        types,
        form: SourceForm::Text,
    })
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

fn forge(p: Pair<'_, Rule>) -> R<Forge> {
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
            Rule::proc => f.procs.push(proc(item)?),
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

fn proc(p: Pair<'_, Rule>) -> R<Proc> {
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
            Rule::locals => pr.locals = Some(embedded_json(item)?),
            _ => pr.body.push(stmt(item)?),
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
        Rule::float => LitValue::Float(p.as_str().parse().map_err(|_| missing(sp, "float"))?),
        Rule::boolean => LitValue::Bool(p.as_str() == "true"),
        Rule::string | Rule::char_lit => {
            let is_char = p.as_rule() == Rule::char_lit;
            let (raw, start) = p
                .into_inner()
                .next()
                .map(|i| (i.as_str(), i.as_span().start()))
                .unwrap_or(("", sp.start + 1));
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

fn expr(p: Pair<'_, Rule>) -> R<Expr> {
    let id = |o: usize| o;
    Ok(build_expr(p, &id)?.0)
}

fn stmt(p: Pair<'_, Rule>) -> R<Stmt> {
    let sp = span(&p);
    let rule = p.as_rule();
    let mut it = parts(p).into_iter();
    let mut next = |what: &str| it.next().ok_or_else(|| missing(sp, what));
    let kind = match rule {
        Rule::let_s => {
            let name = ident(&next("name")?);
            StmtKind::Let {
                name,
                expr: expr(next("expression")?)?,
            }
        }
        Rule::constrain_s => StmtKind::Constrain {
            predicate: expr(next("predicate")?)?,
        },
        Rule::prove_s => {
            let name = ident(&next("name")?);
            StmtKind::Prove {
                name,
                from: expr(next("expression")?)?,
            }
        }
        Rule::return_s => StmtKind::Return {
            expr: match it.next() {
                Some(e) => Some(expr(e)?),
                None => None,
            },
        },
        Rule::call_s => {
            let call = expr(next("call")?)?;
            StmtKind::Call {
                call,
                result: it.next().map(|r| ident(&r)),
            }
        }
        Rule::effect_s => {
            let kind = ident(&next("effect kind")?);
            StmtKind::Effect {
                kind,
                payload: expr(next("payload")?)?,
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
            let body = build_json(next("JSON body")?, 0)?;
            StmtKind::Later { kind, body }
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
    let sp = span(&p);
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
                .unwrap_or(("", ssp.start + 1));
            let id = |o: usize| o;
            Ok(Ident::new(decode_expr_string(raw, start, &id)?, sp))
        }
        Some(tok) => Ok(Ident::new(tok.as_str(), sp)),
        // clause_op's symbolic alternatives are plain literals without inner pairs.
        None => Ok(Ident::new(text, sp)),
    }
}
