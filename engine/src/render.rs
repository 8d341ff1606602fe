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
/// where the mistake is. `line` is the (start, end) of the line holding the
/// span's start, from the line index: scanning for it here cost a pass
/// over the line per diagnostic (40 000 errors on one line took 27 s).
fn window(text: &str, span: dir_grammar::Span, line: (usize, usize)) -> String {
    let s = clamp_span(text, span);
    let (line_start, line_end) = line;
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

/// One diagnostic for a terminal, with colour when asked.
pub fn human_styled(src: &Source<'_>, d: &Diagnostic, colour: bool) -> String {
    human_all(src, std::slice::from_ref(d), colour)
        .pop()
        .unwrap_or_default()
}

/// Every diagnostic of one source, each rendered as `human_styled` would:
/// the text is read, and its lines indexed, once for all of them (each
/// read alone, 200 000 diagnostics of a 4 MB input took minutes).
pub fn human_all(src: &Source<'_>, diags: &[Diagnostic], colour: bool) -> Vec<String> {
    let mut all = Vec::with_capacity(diags.len());
    human_each(src, diags, colour, |d| all.push(d));
    all
}

/// `human_all`, each rendered diagnostic given to `out` in turn (none is
/// kept: a program of 200 000 errors is reported in constant memory).
pub fn human_each(
    src: &Source<'_>,
    diags: &[Diagnostic],
    colour: bool,
    mut out: impl FnMut(String),
) {
    let whole = source_text(src);
    // codespan indexes every line of the text it is given: give it only the
    // lines up to the last label (a 64 MiB input of short lines would cost
    // hundreds of MB of line index for a one-line snippet).
    let last = diags
        .iter()
        .flat_map(|d| d.primary.iter().chain(d.secondary.iter()))
        .map(|l| clamp_span(&whole, l.span).end())
        .max()
        .unwrap_or(0);
    let cut = whole[last..]
        .find('\n')
        .map_or(whole.len(), |i| last + i + 1);
    let text: &str = &whole[..cut];
    let file = SimpleFile::new(src.name, text);
    // Columns on a huge line, when a label is reported by position.
    let columns = std::cell::OnceCell::new();
    let at = Located {
        name: src.name,
        text,
        file: &file,
        columns: &columns,
    };
    for d in diags {
        out(at.human(d, colour));
    }
}

/// A source's text (up to its last label) with its line index, and the
/// column index of its huge lines, built when first needed.
struct Located<'t> {
    name: &'t str,
    text: &'t str,
    file: &'t SimpleFile<&'t str, &'t str>,
    columns: &'t std::cell::OnceCell<dir_grammar::span::LineIndex<'t>>,
}

impl Located<'_> {
    /// The line of `text` around byte `o`: (start, end without its newline).
    fn line_around(&self, o: usize) -> (usize, usize) {
        use codespan_reporting::files::Files;
        let line = self.file.line_index((), o).unwrap_or(0);
        let r = self.file.line_range((), line).unwrap_or(0..self.text.len());
        let end = if self.text[r.start..r.end].ends_with('\n') {
            r.end - 1
        } else {
            r.end
        };
        (r.start, end)
    }

    /// [`human`], with ANSI colour when `colour` (a terminal that wants it; the
    /// CLI decides, honouring `--color`, `NO_COLOR` and `CLICOLOR_FORCE`).
    fn human(&self, d: &Diagnostic, colour: bool) -> String {
        let (text, file) = (self.text, self.file);
        let label = header_label(d.category);
        let mut labels = Vec::new();
        let mut notes = Vec::new();
        // A snippet of a huge line (minified JSON, generated input) would bury
        // the message; such labels are reported by position instead.
        let too_long = |span: dir_grammar::Span| {
            let s = clamp_span(text, span);
            let (start, _) = self.line_around(s.start());
            let (_, end) = self.line_around(s.end());
            end - start > MAX_SNIPPET_LINE
        };
        let all: Vec<&crate::diag::Label> = d.primary.iter().chain(d.secondary.iter()).collect();
        if all.iter().any(|l| too_long(l.span)) {
            for l in all {
                let (line, col) = self
                    .columns
                    .get_or_init(|| dir_grammar::span::LineIndex::new(text))
                    .line_col(l.span.start());
                notes.push(format!(
                    "at {}:{line}:{col}: {}\n{}",
                    self.name,
                    cap_echo(&l.message),
                    window(
                        text,
                        l.span,
                        self.line_around(clamp_span(text, l.span).start())
                    )
                ));
            }
        } else if let Some(p) = &d.primary {
            let s = clamp_span(text, p.span);
            labels
                .push(CsLabel::primary((), s.start()..s.end()).with_message(cap_echo(&p.message)));
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
                Category::Error | Category::Inadmissible | Category::Undetermined => {
                    cap_echo(shown(d))
                }
                c => format!("{}: {}", category_word(c), cap_echo(shown(d))),
            })
            .with_code(d.code.clone())
            .with_labels(labels)
            .with_notes(notes);
        let rendered = if colour {
            let mut buf = term::termcolor::Buffer::ansi();
            term::emit_to_write_style(&mut buf, &Config::default(), file, &cs)
                .map(|()| String::from_utf8_lossy(buf.as_slice()).into_owned())
        } else {
            term::emit_into_string(&Config::default(), file, &cs)
        };
        match rendered {
            // The header's first word is codespan's severity: say what happened
            // (after any colour escape that precedes it).
            Ok(s) if label != "error" => s.replacen("error[", &format!("{label}["), 1),
            Ok(s) => s,
            Err(_) => format!("{label}[{}]: {}\n", d.code, shown(d)),
        }
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
    json_all(src, std::slice::from_ref(d))
        .pop()
        .unwrap_or_default()
}

/// Every diagnostic of one source as `json` gives it, the text read and
/// its lines indexed once for all of them.
pub fn json_all(src: &Source<'_>, diags: &[Diagnostic]) -> Vec<serde_json::Value> {
    let text = source_text(src);
    let at = positions_of(&text, diags);
    diags
        .iter()
        .map(|d| json_one(src.name, &text, &at, d))
        .collect()
}

/// `{"diagnostics": [...]}` of every diagnostic of one source, pretty, as
/// `serde_json::to_writer_pretty` writes the tree of `json_all`, but one
/// diagnostic at a time (the tree of 200 000 diagnostics took gigabytes).
pub fn json_write(
    src: &Source<'_>,
    diags: &[Diagnostic],
    w: &mut dyn std::io::Write,
) -> serde_json::Result<()> {
    struct All<'a>(JsonList<'a>);
    impl serde::Serialize for All<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry("diagnostics", &self.0)?;
            m.end()
        }
    }
    // serde_json writes a value in many small pieces: stderr is unbuffered.
    let mut w = std::io::BufWriter::new(w);
    serde_json::to_writer_pretty(&mut w, &All(json_list(src, diags)))?;
    std::io::Write::flush(&mut w).map_err(serde_json::Error::io)
}

/// The diagnostics of one source as a JSON list (what `json_all` gives),
/// serialized one diagnostic at a time where it is written: for documents
/// that hold the list (`explain --format json`).
pub struct JsonList<'a> {
    name: &'a str,
    text: std::borrow::Cow<'a, str>,
    at: Positions,
    diags: &'a [Diagnostic],
}

/// The diagnostics of `src` as a `JsonList`.
pub fn json_list<'a>(src: &Source<'a>, diags: &'a [Diagnostic]) -> JsonList<'a> {
    let text = source_text(src);
    let at = positions_of(&text, diags);
    JsonList {
        name: src.name,
        text,
        at,
        diags,
    }
}

impl serde::Serialize for JsonList<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.diags
                .iter()
                .map(|d| json_one(self.name, &self.text, &self.at, d)),
        )
    }
}

/// The positions of every label's ends of `diags`.
fn positions_of(text: &str, diags: &[Diagnostic]) -> Positions {
    let offsets = diags
        .iter()
        .flat_map(|d| d.primary.iter().chain(d.secondary.iter()))
        .flat_map(|l| {
            let s = clamp_span(text, l.span);
            [s.start(), s.end()]
        });
    Positions::new(text, offsets)
}

/// The line and column (1-based, columns in characters, as
/// `dir_grammar::span::line_col` counts them) of given offsets of a text,
/// found in one scan of it: memory for the offsets only, where a line
/// index of a 64 MiB input of short lines is hundreds of MB.
pub struct Positions(Vec<(usize, (usize, usize))>);

impl Positions {
    /// Offsets on character boundaries of `text` (clamped spans' ends).
    pub fn new(text: &str, offsets: impl IntoIterator<Item = usize>) -> Positions {
        let mut wanted: Vec<usize> = offsets.into_iter().collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut out = Vec::with_capacity(wanted.len());
        let mut next = wanted.iter().copied().peekable();
        let (mut line, mut col) = (1, 1);
        for (i, c) in text.char_indices() {
            while let Some(o) = next.next_if(|o| *o <= i) {
                out.push((o, (line, col)));
            }
            if next.peek().is_none() {
                break;
            }
            if c == '\n' {
                (line, col) = (line + 1, 1);
            } else {
                col += 1;
            }
        }
        // At the end of the text.
        for o in next {
            out.push((o, (line, col)));
        }
        Positions(out)
    }

    /// The position of an offset given to `new`.
    pub fn get(&self, o: usize) -> (usize, usize) {
        match self.0.binary_search_by_key(&o, |(k, _)| *k) {
            Ok(i) => self.0[i].1,
            Err(_) => (0, 0),
        }
    }
}

fn json_one(name: &str, text: &str, at: &Positions, d: &Diagnostic) -> serde_json::Value {
    let label = |l: &crate::diag::Label| json!({ "message": cap_echo(&l.message), "span": crate::trace_span_in(name, text, at, l.span) });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Label;
    use dir_grammar::Span;

    /// `Positions` finds what `line_col` finds, at every offset.
    #[test]
    fn positions_agree_with_line_col() {
        for text in [
            "",
            "one line",
            "a\nb\n\nc",
            "dir 0.1;\nforge Φ {\n  // ΦΦΦ é\n\n  proc K p() {}\n}\n",
            "\n\n\n",
            "ΦΦ\nΦ",
        ] {
            let offsets: Vec<usize> = (0..=text.len())
                .filter(|o| text.is_char_boundary(*o))
                .collect();
            let at = Positions::new(text, offsets.iter().rev().copied());
            for o in offsets {
                assert_eq!(
                    at.get(o),
                    dir_grammar::span::line_col(text, o),
                    "{text:?} @ {o}"
                );
            }
        }
    }

    /// Diagnostics rendered together read the same as each rendered
    /// alone, in both forms, including labels on a line too long for a
    /// snippet (reported by position).
    #[test]
    fn a_batch_renders_as_each_alone() {
        let tables = semantics::Tables::defaults().unwrap();
        let mut text = String::from("dir 0.1;\nforge Φ {\n");
        for i in 0..40 {
            text.push_str(&format!("  bind K::p{i} -> K::q{i}; // é\n"));
        }
        let long_at = text.len();
        text.push_str(&"x".repeat(2 * MAX_SNIPPET_LINE));
        text.push_str("\n}\n");
        let span_of = |line: usize| {
            let start = text.match_indices('\n').nth(line).map_or(0, |(i, _)| i + 1);
            Span::new(start + 2, start + 8)
        };
        let mut diags = Vec::new();
        for (k, line) in [3usize, 30, 7, 41, 12].into_iter().enumerate() {
            let mut d = Diagnostic::new(
                &tables,
                crate::codes::INTERNAL,
                None,
                format!("diagnostic {k}"),
            )
            .at(span_of(line), "here");
            d.secondary.push(Label {
                span: span_of(line / 2),
                message: "and here".into(),
            });
            diags.push(d);
        }
        diags.push(
            Diagnostic::new(&tables, crate::codes::INTERNAL, None, "on a long line")
                .at(Span::new(long_at + 10, long_at + 20), "here"),
        );
        let src = Source {
            name: "batch.dir",
            bytes: text.as_bytes(),
        };
        let together = human_all(&src, &diags, false);
        let alone: Vec<String> = diags.iter().map(|d| human(&src, d)).collect();
        assert_eq!(together, alone);
        assert!(
            together[5].contains("at batch.dir:43:11"),
            "{}",
            together[5]
        );
        let together = json_all(&src, &diags);
        let alone: Vec<serde_json::Value> = diags.iter().map(|d| json(&src, d)).collect();
        assert_eq!(together, alone);
        assert_eq!(together[5]["primary"]["span"]["line"], 43);
        assert_eq!(together[5]["primary"]["span"]["column"], 11);
        // Written one at a time, the bytes of the whole tree pretty-printed.
        for diags in [&diags[..], &[]] {
            let mut streamed = Vec::new();
            json_write(&src, diags, &mut streamed).unwrap();
            let tree = serde_json::json!({ "diagnostics": json_all(&src, diags) });
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                serde_json::to_string_pretty(&tree).unwrap()
            );
        }
        let mut each = Vec::new();
        human_each(&src, &diags, false, |d| each.push(d));
        assert_eq!(each, human_all(&src, &diags, false));
    }
}
