//! Rendering diagnostics: human (codespan-reporting, plain text) and JSON.
//! Pure functions to strings; the CLI decides where they go.

use crate::diag::Diagnostic;
use crate::Source;
use codespan_reporting::diagnostic::{Diagnostic as CsDiag, Label as CsLabel, Severity};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};
use dir_grammar::span::clamp_span;
use semantics::Category;
use serde_json::json;

fn source_text<'a>(src: &Source<'a>) -> std::borrow::Cow<'a, str> {
    match std::str::from_utf8(src.bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(e) => std::borrow::Cow::Owned(
            String::from_utf8_lossy(&src.bytes[..e.valid_up_to()]).into_owned(),
        ),
    }
}

/// The message stderr shows: the machine-local form when there is one.
fn shown(d: &Diagnostic) -> &str {
    d.shown.as_deref().unwrap_or(&d.message)
}

/// Longest source line shown in a snippet, in bytes.
const MAX_SNIPPET_LINE: usize = 400;

/// Longest piece of input echoed in a message (a `quoted` name or value);
/// longer ones keep their two ends around an ellipsis.
const MAX_ECHO_CHARS: usize = 80;

/// `text` with every backquoted piece longer than `MAX_ECHO_CHARS` cut to
/// its ends: a 100 KB `--entry` or a 10 KB literal must not flood the
/// terminal or a tool's log.
pub fn cap_echo(text: &str) -> String {
    // Echoed input with a backquote of its own unbalances the quoting:
    // then every long run of non-blank characters is cut instead.
    if text.matches('`').count() % 2 == 1 {
        return text.split(' ').map(cut_long).collect::<Vec<_>>().join(" ");
    }
    let mut out = String::with_capacity(text.len().min(4096));
    let mut parts = text.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        out.push('`');
        let n = part.chars().count();
        // The pieces between an odd and an even backquote are quoted.
        if i % 2 == 0 && n > MAX_ECHO_CHARS {
            out.push_str(&cut_long(part));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// `piece` kept to its two ends around an ellipsis when it is longer than
/// `MAX_ECHO_CHARS`.
fn cut_long(piece: &str) -> String {
    let n = piece.chars().count();
    if n <= MAX_ECHO_CHARS {
        return piece.to_string();
    }
    let keep = MAX_ECHO_CHARS / 2 - 1;
    let mut out: String = piece.chars().take(keep).collect();
    out.push('…');
    out.extend(piece.chars().skip(n - keep));
    out
}

/// A window of a long line around `span` (at most `MAX_ECHO_CHARS` on each
/// side), with a caret line under the span: minified JSON still shows
/// where the mistake is.
fn window(text: &str, span: dir_grammar::Span) -> String {
    let s = clamp_span(text, span);
    let line_start = text[..s.start()].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[s.start()..]
        .find('\n')
        .map_or(text.len(), |i| s.start() + i);
    let end = s.end().min(line_end);
    let side = MAX_ECHO_CHARS / 2;
    let clean = |c: char| if c.is_control() { ' ' } else { c };
    // Only the characters shown are visited: the line may be the whole
    // 64 MiB input.
    let mut before: Vec<char> = text[line_start..s.start()]
        .chars()
        .rev()
        .take(side + 1)
        .collect();
    let cut_before = before.len() > side;
    before.truncate(side);
    before.reverse();
    let mut inside = text[s.start()..end].chars();
    let shown: String = inside.by_ref().take(MAX_ECHO_CHARS).map(clean).collect();
    let cut_inside = inside.next().is_some();
    let mut after = text[end..line_end].chars();
    let tail: String = after.by_ref().take(side).map(clean).collect();
    let cut_after = after.next().is_some();
    let mut line = String::new();
    if cut_before {
        line.push('…');
    }
    line.extend(before.into_iter().map(clean));
    let lead = line.chars().count();
    let width = shown.chars().count();
    line.push_str(&shown);
    if cut_inside {
        line.push('…');
    }
    line.push_str(&tail);
    if cut_after {
        line.push('…');
    }
    let carets = format!("{}{}", " ".repeat(lead), "^".repeat(width.max(1)));
    format!("{line}\n{carets}")
}

pub fn category_word(c: Category) -> &'static str {
    match c {
        Category::Load => "load error",
        Category::Usage => "usage error",
        Category::Error => "error",
        Category::Inadmissible => "inadmissible",
        Category::Failure => "failure",
        Category::Undetermined => "undetermined",
        Category::Realization => "realization failed",
        Category::ReplayDiverged => "replay diverged",
        Category::ReplayRefused => "replay refused",
        Category::Internal => "internal error",
    }
}

/// One diagnostic as codespan-reporting prints it (no colour, so output is
/// byte-stable). Spans are clamped to char boundaries first: codespan panics
/// on spans that split `Φ` or run past the end.
pub fn human(src: &Source<'_>, d: &Diagnostic) -> String {
    human_styled(src, d, false)
}

/// [`human`], with ANSI colour when `colour` (a terminal that wants it; the
/// CLI decides, honouring `--color`, `NO_COLOR` and `CLICOLOR_FORCE`).
pub fn human_styled(src: &Source<'_>, d: &Diagnostic, colour: bool) -> String {
    let whole = source_text(src);
    // codespan indexes every line of the text it is given: give it only the
    // lines up to the last label (a 64 MiB input of short lines would cost
    // hundreds of MB of line index for a one-line snippet).
    let last = d
        .primary
        .iter()
        .chain(d.secondary.iter())
        .map(|l| clamp_span(&whole, l.span).end())
        .max()
        .unwrap_or(0);
    let cut = whole[last..]
        .find('\n')
        .map_or(whole.len(), |i| last + i + 1);
    let text: &str = &whole[..cut];
    let file = SimpleFile::new(src.name, text);
    // The header names what happened: an inadmissible or undetermined run
    // did not happen, so it is never a "warning" (codespan's only other
    // severity); every other stop is an error of its category.
    let label = header_label(d.category);
    let mut labels = Vec::new();
    let mut notes = Vec::new();
    // A snippet of a huge line (minified JSON, generated input) would bury
    // the message; such labels are reported by position instead.
    let too_long = |span: dir_grammar::Span| {
        let s = clamp_span(text, span);
        let start = text[..s.start()].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let end = text[s.end()..]
            .find('\n')
            .map(|i| s.end() + i)
            .unwrap_or(text.len());
        end - start > MAX_SNIPPET_LINE
    };
    let all: Vec<&crate::diag::Label> = d.primary.iter().chain(d.secondary.iter()).collect();
    if all.iter().any(|l| too_long(l.span)) {
        for l in all {
            let (line, col) = dir_grammar::span::line_col(text, l.span.start());
            notes.push(format!(
                "at {}:{line}:{col}: {}\n{}",
                src.name,
                cap_echo(&l.message),
                window(text, l.span)
            ));
        }
    } else if let Some(p) = &d.primary {
        let s = clamp_span(text, p.span);
        labels.push(CsLabel::primary((), s.start()..s.end()).with_message(cap_echo(&p.message)));
    }
    if !labels.is_empty() {
        for l in &d.secondary {
            let s = clamp_span(text, l.span);
            labels.push(
                CsLabel::secondary((), s.start()..s.end()).with_message(cap_echo(&l.message)),
            );
        }
    }
    match &d.rule {
        Some(r) => notes.push(format!("rule: {r} ({})", d.cite)),
        None => notes.push(format!("spec: {}", d.cite)),
    }
    notes.extend(d.notes.iter().map(|n| cap_echo(n)));
    if let Some(h) = &d.help {
        notes.push(format!("help: {}", cap_echo(h)));
    }
    notes.push(format!("for more, run `dustrun explain {}`", d.code));
    let cs = CsDiag::new(Severity::Error)
        .with_message(match d.category {
            Category::Error | Category::Inadmissible | Category::Undetermined => cap_echo(shown(d)),
            c => format!("{}: {}", category_word(c), cap_echo(shown(d))),
        })
        .with_code(d.code.clone())
        .with_labels(labels)
        .with_notes(notes);
    let rendered = if colour {
        let mut buf = term::termcolor::Buffer::ansi();
        term::emit_to_write_style(&mut buf, &Config::default(), &file, &cs)
            .map(|()| String::from_utf8_lossy(buf.as_slice()).into_owned())
    } else {
        term::emit_into_string(&Config::default(), &file, &cs)
    };
    match rendered {
        // The header's first word is codespan's severity: say what happened
        // (after any colour escape that precedes it).
        Ok(s) if label != "error" => s.replacen("error[", &format!("{label}["), 1),
        Ok(s) => s,
        Err(_) => format!("{label}[{}]: {}\n", d.code, shown(d)),
    }
}

/// The word a human diagnostic's header starts with.
pub fn header_label(c: Category) -> &'static str {
    match c {
        Category::Inadmissible => "inadmissible",
        Category::Undetermined => "undetermined",
        _ => "error",
    }
}

/// The same facts as JSON, for tools.
pub fn json(src: &Source<'_>, d: &Diagnostic) -> serde_json::Value {
    let label = |l: &crate::diag::Label| json!({ "message": cap_echo(&l.message), "span": crate::trace_span(src, l.span) });
    json!({
        "category": format!("{:?}", d.category).to_lowercase(),
        "kind": d.kind,
        "code": d.code,
        "title": d.title,
        "message": cap_echo(shown(d)),
        "rule": d.rule,
        "spec": d.cite,
        "primary": d.primary.as_ref().map(label),
        "secondary": d.secondary.iter().map(label).collect::<Vec<_>>(),
        "notes": d.notes.iter().map(|n| cap_echo(n)).collect::<Vec<_>>(),
        "help": d.help.as_deref().map(cap_echo),
    })
}
