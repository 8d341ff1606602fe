//! The pest parser and the conversion of pest errors into load errors.

use crate::error::{LoadError, LoadErrorKind};
use crate::span::Span;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "dir.pest"]
pub(crate) struct DirParser;

/// Human names for the rules pest reports as "expected ...". Exhaustive,
/// with no fallback: a new grammar rule does not compile until it has a
/// name a user can read, so no rule name ever reaches a message.
fn rule_name(r: &Rule) -> &'static str {
    match r {
        Rule::EOI => "end of input",
        Rule::json_file => "a JSON document",
        Rule::jtrue => "`true`",
        Rule::jfalse => "`false`",
        Rule::jnull => "`null`",
        Rule::jchars | Rule::str_inner => "the text of a string",
        Rule::char_inner => "one character",
        Rule::expr_only => "an expression",
        Rule::dir_file => "a textual DIR file",
        Rule::call_s | Rule::kw_call => "`call`",
        Rule::type_name => "a type",
        Rule::WHITESPACE | Rule::jws => "whitespace",
        Rule::COMMENT => "a comment",
        Rule::infix => "an operator",
        Rule::primary | Rule::literal => "an expression",
        Rule::ident_char => "a letter, digit or `_`",
        Rule::top_item => "`forge` or `types`",
        Rule::forge_item => "`shape`, `proc` or `bind`",
        Rule::stmt => "a statement",
        Rule::jvalue | Rule::jembed => "a JSON value",
        Rule::jobject => "a JSON object",
        Rule::jarray => "a JSON array",
        Rule::jstring | Rule::jmember => "a JSON string",
        Rule::jnumber => "a JSON number",
        Rule::expr | Rule::postfix | Rule::paren => "an expression",
        Rule::op_or | Rule::op_and | Rule::op_eq | Rule::op_cmp | Rule::op_add | Rule::op_mul => {
            "an operator"
        }
        Rule::kw_or | Rule::kw_and | Rule::kw_eq | Rule::kw_le | Rule::kw_ge | Rule::kw_lt => {
            "an operator"
        }
        Rule::kw_gt | Rule::kw_add | Rule::kw_sub | Rule::kw_mul | Rule::kw_div => "an operator",
        Rule::int | Rule::float => "a number",
        Rule::string => "a string literal",
        Rule::boolean => "`true` or `false`",
        Rule::ident | Rule::segment => "an identifier",
        Rule::path => "a name",
        Rule::call => "a call",
        Rule::struct_lit => "a struct literal",
        Rule::field_init => "a field initialiser `name: expr`",
        Rule::header | Rule::kw_dir => "the version header `dir 0.1;`",
        Rule::version => "a version number",
        Rule::forge | Rule::kw_forge => "`forge`",
        Rule::types_decl | Rule::kw_types => "`types`",
        Rule::shape | Rule::kw_shape => "`shape`",
        Rule::proc | Rule::kw_proc => "`proc`",
        Rule::bind | Rule::kw_bind => "`bind`",
        Rule::regime => "a regime (`K`, `Q` or `Φ`)",
        Rule::ret => "`->`",
        Rule::qualifiers => "qualifiers `[...]`",
        Rule::uses | Rule::kw_uses => "`uses`",
        Rule::locals | Rule::kw_locals => "`locals`",
        Rule::let_s | Rule::kw_let => "`let`",
        Rule::constrain_s | Rule::kw_constrain => "`constrain`",
        Rule::prove_s | Rule::kw_prove => "`prove`",
        Rule::return_s | Rule::kw_return => "`return`",
        Rule::later_s => "a later-version statement `@Kind {...};`",
        Rule::effect_s => "a statement",
        Rule::kw_from => "`from`",
        Rule::field => "a field `name: type`",
        Rule::use_item => "a resource `Name(arg = value)`",
        Rule::use_arg => "an argument `name = literal`",
        Rule::clause => "a contract clause `key op value`",
        Rule::clause_op => "a comparison operator",
        Rule::clause_value => "a clause value",
        Rule::char_lit => "a character literal",
    }
}

pub(crate) fn pest_error(
    e: pest::error::Error<Rule>,
    kind: LoadErrorKind,
    map: &dyn Fn(usize) -> usize,
) -> LoadError {
    let (a, b) = match e.location {
        pest::error::InputLocation::Pos(p) => (p, p),
        pest::error::InputLocation::Span((a, b)) => (a, b),
    };
    let message = match &e.variant {
        pest::error::ErrorVariant::ParsingError {
            positives,
            negatives,
        } => {
            let mut pos: Vec<String> = positives.iter().map(|r| rule_name(r).to_string()).collect();
            pos.sort();
            pos.dedup();
            if !pos.is_empty() {
                format!("expected {}", join_or(&pos))
            } else if !negatives.is_empty() {
                "unexpected input".to_string()
            } else {
                "syntax error".to_string()
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let what = match kind {
        LoadErrorKind::JsonSyntax => "malformed JSON",
        LoadErrorKind::ExprSyntax => "malformed expression",
        _ => "malformed textual DIR",
    };
    // A prefix `-x` or `!b` where an expression belongs: say what it is.
    let unary = match (&e.line_col, kind) {
        (pest::error::LineColLocation::Pos((_, col)), k) if k != LoadErrorKind::JsonSyntax => e
            .line()
            .chars()
            .nth(col.saturating_sub(1))
            .filter(|c| *c == '-' || *c == '!')
            .filter(|_| message.contains("expression")),
        _ => None,
    };
    let err = match unary {
        Some(op) => LoadError::new(
            kind,
            format!("{what}: `{op}` as a prefix is a unary operator, which DPL v0.1 does not have"),
            Span::new(map(a), map(a) + 1),
        )
        .note("the v0.1 expression grammar (§3.8) has binary operators only: write `0 Sub x` for `-x`, `b Eq false` for `!b`"),
        None => LoadError::new(
            kind,
            format!("{what}: {message}"),
            Span::new(map(a), map(b)),
        ),
    };
    err
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        _ => {
            let (last, rest) = items.split_last().unwrap_or((&items[0], &[]));
            format!("{} or {}", rest.join(", "), last)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{corrupt, Rng};

    /// Rule names that are not English words: any of them in a message
    /// would be the grammar leaking (`expected json_file`, `jtrue`).
    fn rule_names() -> Vec<String> {
        include_str!("dir.pest")
            .lines()
            .filter_map(|l| l.split_once('=').map(|(n, _)| n.trim()))
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .filter(|n| {
                n.contains('_') || n.starts_with('j') || n.chars().all(|c| c.is_ascii_uppercase())
            })
            .map(str::to_string)
            .chain(["EOI".to_string()])
            .collect()
    }

    #[test]
    fn no_grammar_rule_name_reaches_a_message() {
        let names = rule_names();
        assert!(names.iter().any(|n| n == "json_file") && names.iter().any(|n| n == "let_s"));
        let files = crate::testing::corpus_programs();
        let mut r = Rng(0x1234_5678_9abc_def1);
        let ins = [
            "{", "}", "(", ")", ";", ",", ":", "\"", "'", "-", "@", "t", "é", "1.", "[", "//",
        ];
        let mut errors = 0;
        for round in 0..2000 {
            let src = corrupt(&mut r, &files[round % files.len()], &ins);
            if let Err(e) = crate::load_str(&src) {
                errors += 1;
                let text = format!("{} {}", e.message, e.notes.join(" "));
                for n in &names {
                    let leaked = text
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .any(|w| w == n);
                    assert!(!leaked, "rule `{n}` in: {text}\n{src}");
                }
            }
        }
        assert!(errors > 1000, "{errors}");
    }
}
