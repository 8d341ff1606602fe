//! The entry of a run: which process (`--entry`, or `main`; §8.1) and its
//! arguments (`--arg NAME=EXPR`, constants typed by their parameter).

use crate::diag::{Checker, Diagnostic};
use crate::validate::{self, Compiled};
use crate::value::Value;
use crate::{codes, types, Engine};
use dir_grammar::model::*;

impl Engine {
    pub(crate) fn resolve_entry(
        &self,
        ck: &mut Checker<'_>,
        c: &Compiled<'_>,
        entry: Option<&str>,
    ) -> Result<usize, Box<Diagnostic>> {
        let name = entry.unwrap_or("main");
        let segs: Vec<&str> = dir_grammar::model::path_segments(name).collect();
        let mut found: Vec<usize> = Vec::new();
        for fi in 0..c.program.forges.len() {
            found.extend(validate::resolve_ref(c, fi, segs.iter().copied()));
        }
        // A two-segment name may also be `Forge::name`.
        if segs.len() == 2 && Regime::parse(segs[0]).is_none() {
            found.extend(
                c.procs
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        c.program.forges[p.forge].name.name == segs[0]
                            && p.proc.name.name == segs[1]
                    })
                    .map(|(i, _)| i),
            );
        }
        found.sort();
        found.dedup();
        if entry.is_none() && found.is_empty() && c.procs.len() == 1 {
            found.push(0);
        }
        match found.as_slice() {
            [one] => {
                ck.fire(crate::registry::ENTRY_RESOLVE);
                Ok(*one)
            }
            [] => {
                ck.fire(crate::registry::ENTRY_RESOLVE);
                let mut d = Checker::check_diag(
                    &self.tables,
                    crate::registry::ENTRY_RESOLVE,
                    format!("entry process `{name}` not found"),
                );
                // The entry's last segment against process names; the
                // suggestion is the process's qualified name.
                let short = name.rsplit("::").next().unwrap_or(name);
                // A qualified entry whose name exists under another regime
                // or forge (`Q::main` for `K::main`) means that process.
                let same_name = c.procs.iter().find(|p| p.proc.name.name == short);
                let guess = same_name.or_else(|| {
                    crate::diag::closest(short, c.procs.iter().map(|p| p.proc.name.name.as_str()))
                        .and_then(|g| c.procs.iter().find(|p| p.proc.name.name == g))
                });
                if let Some(p) = guess {
                    d = d.note(format!("did you mean `{}`?", p.qname));
                }
                d = d.note(if c.procs.is_empty() {
                    "the program has no processes".to_string()
                } else {
                    let names = c.procs.iter().map(|p| p.qname.as_str());
                    format!("processes: {}", crate::diag::list_capped(names))
                });
                Err(Box::new(d.help(
                    "choose one with `--entry NAME` (`main`, `K::main` or `Forge::K::main`)",
                )))
            }
            many => {
                ck.fire(crate::registry::ENTRY_AMBIGUOUS);
                let names = many.iter().map(|i| c.procs[*i].qname.as_str());
                let mut d = Checker::check_diag(
                    &self.tables,
                    crate::registry::ENTRY_AMBIGUOUS,
                    format!(
                        "entry `{name}` is ambiguous: it names {}",
                        crate::diag::list_capped(names)
                    ),
                );
                // The candidates the message names, each where it is.
                for i in many.iter().take(crate::diag::LIST_MAX) {
                    d = d.also(
                        c.procs[*i].proc.name.span,
                        format!("candidate `{}`", c.procs[*i].qname),
                    );
                }
                Err(Box::new(d.help(
                    "qualify the entry, e.g. `--entry K::main` or `--entry Forge::K::main`",
                )))
            }
        }
    }

    /// Entry arguments: constants (literals, struct literals) typed by the
    /// parameter they are given for.
    pub(crate) fn entry_args(
        &self,
        c: &Compiled<'_>,
        entry: usize,
        given: &[(String, String)],
        unknowns_allowed: bool,
    ) -> Result<Vec<Option<Value>>, Box<Diagnostic>> {
        let info = &c.procs[entry];
        let arg_err = |m: String| Diagnostic::new(&self.tables, codes::ARG, None, m);
        for (n, _) in given {
            if !info.params.iter().any(|(p, _)| p == n) {
                let names: Vec<&str> = info.params.iter().map(|(p, _)| p.as_str()).collect();
                return Err(Box::new(
                    arg_err(format!(
                        "`--arg {n}=...`: `{}` has no parameter `{n}`",
                        info.qname
                    ))
                    .note(if names.is_empty() {
                        "it takes no parameters".to_string()
                    } else {
                        format!("its parameters: {}", names.join(", "))
                    }),
                ));
            }
            if given.iter().filter(|(m, _)| m == n).count() > 1 {
                return Err(Box::new(arg_err(format!(
                    "`--arg {n}=...` is given more than once"
                ))));
            }
        }
        let mut out = Vec::new();
        for (pn, d) in &info.params {
            let Some((_, text)) = given.iter().find(|(n, _)| n == pn) else {
                if unknowns_allowed {
                    out.push(None);
                    continue;
                }
                return Err(Box::new(
                    arg_err(format!(
                        "entry `{}` needs a value for parameter `{pn}: {}`",
                        info.qname, d.name
                    ))
                    .help(format!("pass it with `--arg {pn}=EXPR`")),
                ));
            };
            let e = dir_grammar::parse_standalone(text)
                .map_err(|e| Box::new(arg_err(format!("`--arg {pn}={text}`: {}", e.message))))?;
            let v = const_value(c, info.forge, e.root(), &d.ty, &d.name, d.range)
                .map_err(|m| Box::new(arg_err(format!("`--arg {pn}={text}`: {m}"))))?;
            out.push(Some(v));
        }
        Ok(out)
    }
}

fn const_value(
    c: &Compiled<'_>,
    forge: usize,
    e: Expr<'_>,
    ty: &types::Ty,
    ty_name: &str,
    range: Option<(i64, i64)>,
) -> Result<Value, String> {
    use types::Ty;
    match (e.kind(), ty) {
        (ExprKind::Int(i), Ty::Int(_)) => match range {
            Some((lo, hi)) if i < lo || i > hi => {
                Err(format!("{i} is out of range for `{ty_name}` ({lo}..={hi})"))
            }
            _ => Ok(Value::Int(i)),
        },
        (ExprKind::Float(f), Ty::Float(w)) => {
            // Single precision when the table says so (05-types.ron).
            let single = matches!(
                c.ty_names.prim(*w),
                Some(semantics::PrimKind::Float { single: true })
            );
            let v = if single { f64::from(f as f32) } else { f };
            if v.is_finite() {
                Ok(Value::Float(v))
            } else {
                Err(format!("{f} does not fit `{ty_name}`"))
            }
        }
        (ExprKind::Bool(b), Ty::Bool) => Ok(Value::Bool(b)),
        (ExprKind::Str(s), Ty::Str) => Ok(Value::Str(s.to_string())),
        (ExprKind::Struct { name, fields }, Ty::Shape(n)) if name.name == c.ty_names.text(*n) => {
            let s = c.ty_names.text(*n);
            let shape = c
                .shape_ty(forge, *n)
                .ok_or_else(|| format!("unknown shape `{s}`"))?;
            let mut out = Vec::new();
            for (fname, d) in &shape.fields {
                let matching: Vec<Expr<'_>> = fields
                    .iter()
                    .filter(|(n, _)| n.name == *fname)
                    .map(|(_, v)| v)
                    .collect();
                let [fe] = matching.as_slice() else {
                    return Err(format!("`{s}` needs field `{fname}` exactly once"));
                };
                out.push((
                    fname.as_str().into(),
                    const_value(c, forge, *fe, &d.ty, &d.name, d.range)?,
                ));
            }
            if let Some((extra, _)) = fields
                .iter()
                .find(|(n, _)| !shape.fields.iter().any(|(f, _)| *f == n.name))
            {
                return Err(format!("`{s}` has no field `{}`", extra.name));
            }
            Ok(Value::structure(s.to_string(), out))
        }
        _ => Err(format!(
            "expected a constant of type `{ty_name}`, found `{}`",
            dir_grammar::print::expr_to_string(e)
        )),
    }
}
