//! Diagnostics: every stop of a run is one of these, built from the error
//! catalogue so codes, categories and cites are data.

use dir_grammar::Span;
use semantics::{Category, Tables};
use std::collections::BTreeSet;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: String,
    pub category: Category,
    /// Trace error kind (`DirLoad`, `ConstraintFailure`, ...).
    pub kind: String,
    pub title: String,
    pub message: String,
    /// The rule that decided this stop, if any (load errors have none).
    pub rule: Option<String>,
    pub cite: String,
    /// Primary location in the DIR input; `None` for errors about the
    /// configuration rather than the program.
    pub primary: Option<Label>,
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
    /// The message as stderr on this machine shows it (a path as the user
    /// gave it, the operating system's words for an I/O error). Traces
    /// record `message`, which holds only stable names and wording.
    pub shown: Option<String>,
}

/// The note that shows a datalog derivation: `derived by RULE: head :- body`.
pub fn derived_note(rule: &str, head: &str, body: &[String]) -> String {
    format!("derived by {rule}: {head} :- {}", body.join(", "))
}

impl Diagnostic {
    /// A diagnostic for catalogue `code`. The cite is the rule's when a rule
    /// decided it, the catalogue entry's otherwise.
    pub fn new(
        tables: &Tables,
        code: &str,
        rule: Option<(&str, &str)>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (category, kind, title, cite) = match tables.entry(code) {
            Some(e) => (e.category, e.kind.clone(), e.title.clone(), e.cite.clone()),
            // The engine checks at start-up that every code it uses is
            // catalogued; this arm only guards against edited tables.
            None => (
                Category::Error,
                "DirValidate".to_string(),
                "uncatalogued error".to_string(),
                "§11".to_string(),
            ),
        };
        Diagnostic {
            code: code.to_string(),
            category,
            kind,
            title,
            message: message.into(),
            rule: rule.map(|(id, _)| id.to_string()),
            cite: rule.map(|(_, c)| c.to_string()).unwrap_or(cite),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
            shown: None,
        }
    }

    /// See [`Diagnostic::shown`].
    pub fn shown_as(mut self, message: impl Into<String>) -> Diagnostic {
        self.shown = Some(message.into());
        self
    }

    pub fn at(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.primary = Some(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn also(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Labels in order: the first is the primary location, the rest secondary.
    pub fn labelled(mut self, labels: impl IntoIterator<Item = Label>) -> Diagnostic {
        for (k, l) in labels.into_iter().enumerate() {
            if k == 0 {
                self.primary = Some(l);
            } else {
                self.secondary.push(l);
            }
        }
        self
    }

    pub fn help_opt(mut self, help: Option<&String>) -> Diagnostic {
        if let Some(h) = help {
            self.help = Some(h.clone());
        }
        self
    }
}

/// The diagnostic factory of validation, linearity, evaluation and
/// admission: diagnostics for table rows, and the rule ids that fired.
pub(crate) struct Checker<'t> {
    pub tables: &'t Tables,
    /// The diagnostics kept (at most [`MAX_DIAGNOSTICS`]; added through
    /// `error` and `push` only, so that none passes the limit; read with
    /// `errors` and `since`, taken with `take_diags`).
    diags: Vec<Diagnostic>,
    /// Diagnostics found past [`MAX_DIAGNOSTICS`]: counted, not kept.
    omitted: usize,
    /// Where `error` builds a diagnostic that is not kept (its caller
    /// fills it in all the same).
    spare: Option<Diagnostic>,
    pub fired: BTreeSet<String>,
    ops: crate::types::OpRows<'t>,
    /// Each regime's step rows (`StepRows::by_regime`): the check sums
    /// every body's static cost under them.
    pub steps: [crate::types::StepRows<'t>; 3],
    /// Operator rows already in `fired`: an operator is checked at every
    /// node, and recording its row costs a set lookup only the first time.
    op_fired: [bool; dir_grammar::model::BinOp::ALL.len()],
    /// What is left of [`SUGGEST_BUDGET`] for this check.
    suggest_budget: u64,
    /// What the run's linearity analyses have spent of their allowance.
    pub linearity: crate::linearity::Pool,
    /// What the run's Φ questions have spent of their allowance.
    pub phi: crate::phi::Pool,
    /// A body's names are hashed all at once past this many
    /// (`RunConfig::names`).
    pub whole_names_from: usize,
}

impl<'t> Checker<'t> {
    pub fn new(tables: &'t Tables) -> Checker<'t> {
        Checker {
            tables,
            diags: Vec::new(),
            omitted: 0,
            spare: None,
            fired: BTreeSet::new(),
            ops: crate::types::OpRows::of(tables),
            steps: crate::types::StepRows::by_regime(tables),
            op_fired: [false; dir_grammar::model::BinOp::ALL.len()],
            suggest_budget: SUGGEST_BUDGET,
            whole_names_from: crate::validate::WHOLE_NAMES,
            linearity: Default::default(),
            phi: Default::default(),
        }
    }

    /// [`Checker::did_you_mean`] over the candidates that are `Some`; each
    /// item costs a unit of the budget, a `None` too.
    pub fn did_you_mean_of<'a>(
        &mut self,
        name: &str,
        candidates: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Option<String> {
        closest_among(name, candidates, &mut self.suggest_budget)
            .map(|c| format!("did you mean `{c}`?"))
    }

    /// `did you mean `x`?` when some candidate is [`closest`], spending this
    /// check's suggestion budget.
    pub fn did_you_mean<'a>(
        &mut self,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<String> {
        self.did_you_mean_of(name, candidates.into_iter().map(Some))
    }

    /// The row of an operator (None only with tables the registry check
    /// refuses), recorded as fired.
    pub fn operator(
        &mut self,
        op: dir_grammar::model::BinOp,
    ) -> Option<&'t semantics::OperatorRule> {
        let row = self.ops.row(op)?;
        if !std::mem::replace(&mut self.op_fired[op as usize], true) {
            self.fire(&row.id);
        }
        Some(row)
    }

    pub fn fire(&mut self, id: &str) {
        // Most fires repeat an id already recorded: no allocation then.
        if !self.fired.contains(id) {
            self.fired.insert(id.to_string());
        }
    }

    /// A diagnostic for the check row `id` (its code and cite come from the table).
    pub fn check_diag(tables: &Tables, id: &str, message: impl Into<String>) -> Diagnostic {
        match tables.check(id) {
            Some(c) => Diagnostic::new(
                tables,
                c.code.as_deref().unwrap_or(crate::codes::INTERNAL),
                Some((&c.id, &c.cite)),
                message,
            ),
            // Unreachable: the registry checks every id the engine uses.
            None => Diagnostic::new(tables, crate::codes::INTERNAL, None, message)
                .note(format!("rule `{id}` is missing from the tables")),
        }
    }

    pub(crate) fn error(
        &mut self,
        id: &str,
        span: Span,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.fire(id);
        let d = Checker::check_diag(self.tables, id, message).at(span, label);
        if !self.room() {
            return self.spare.insert(d);
        }
        self.diags.push(d);
        let n = self.diags.len() - 1;
        &mut self.diags[n]
    }

    /// Keeps `d` (or counts it, past [`MAX_DIAGNOSTICS`]).
    pub(crate) fn push(&mut self, d: Diagnostic) {
        if self.room() {
            self.diags.push(d);
        }
    }

    /// Whether one more diagnostic is kept; one that is not is counted.
    fn room(&mut self) -> bool {
        let room = self.diags.len() < MAX_DIAGNOSTICS;
        self.omitted += usize::from(!room);
        room
    }

    /// The diagnostics kept from the `errors()` count `before` on (none
    /// once the limit is reached: those are not kept).
    pub(crate) fn since(&mut self, before: usize) -> &mut [Diagnostic] {
        let from = before.min(self.diags.len());
        &mut self.diags[from..]
    }

    /// How many diagnostics were found, kept or not.
    pub(crate) fn errors(&self) -> usize {
        self.diags.len() + self.omitted
    }

    /// The diagnostics kept, the last saying how many more were found.
    pub(crate) fn take_diags(&mut self) -> Vec<Diagnostic> {
        let mut diags = std::mem::take(&mut self.diags);
        if self.omitted > 0 {
            if let Some(last) = diags.last_mut() {
                last.notes.push(format!(
                    "{} more diagnostic(s) found and not shown: a check keeps the first {MAX_DIAGNOSTICS}",
                    self.omitted
                ));
            }
            self.omitted = 0;
        }
        diags
    }
}

/// The diagnostics a check keeps; past them they are counted. One is a
/// few hundred bytes and each is rendered: a body binding one name three
/// million times took 2.8 GB and 25 s to report, every error after the
/// first few thousand the same as the others. The first diagnostic decides
/// the outcome, whatever the count.
pub const MAX_DIAGNOSTICS: usize = 10_000;

/// Names longer than this get no suggestion: a typo is short, and the
/// distance costs the product of the two lengths.
pub const SUGGEST_MAX_CHARS: usize = 64;
/// The work one check may spend on "did you mean" help (unbounded, 20 000
/// unknown names among 20 000 candidates took 26 s): a unit per candidate
/// visited plus the cells of each distance computed. A search the rest does
/// not cover gives no suggestion (the diagnostic keeps everything else),
/// and a later, cheaper one may still get one. Counted, not timed, so which
/// diagnostics get one never varies between runs.
pub const SUGGEST_BUDGET: u64 = 50_000_000;

/// The candidate closest to a misspelt `name`, for "did you mean" help:
/// within an edit distance (a transposition counts one) of a third of the
/// name's length (at least 1) and under half of it, case differences
/// counting least. Ties go to
/// the alphabetically first, so the choice never depends on the
/// candidates' order.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    closest_within(name, candidates, &mut SUGGEST_BUDGET.clone())
}

/// [`closest`], spending from `budget`; `None` when the budget runs out
/// before every candidate is weighed (a partial search could suggest a
/// worse name than one it did not reach).
pub fn closest_within<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    budget: &mut u64,
) -> Option<&'a str> {
    closest_among(name, candidates.into_iter().map(Some), budget)
}

/// [`closest_within`] over the candidates that are `Some`: a `None` costs
/// its visit too (a caller's filter is paid for).
pub fn closest_among<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = Option<&'a str>>,
    budget: &mut u64,
) -> Option<&'a str> {
    let n = name.chars().count();
    if n > SUGGEST_MAX_CHARS {
        return None;
    }
    let limit = (n / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        *budget = budget.checked_sub(1)?;
        let Some(c) = c else { continue };
        if c == name {
            continue;
        }
        // The distance is at least the difference in length, and a byte
        // length bounds a character count from above and (over 4) below:
        // most candidates are set aside from their length alone.
        if c.len() + limit < n || c.len() > 4 * (n + limit) {
            continue;
        }
        let m = c.chars().count();
        if m.abs_diff(n) > limit {
            continue;
        }
        let d = if c.eq_ignore_ascii_case(name) {
            0
        } else {
            *budget = budget.checked_sub((n * m) as u64)?;
            strsim::osa_distance(name, c)
        };
        // Short names need something in common: `y` is not a typo of `x`.
        if d <= limit && 2 * d < n.max(2) && best.is_none_or(|b| (d, c) < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// At most `LIST_MAX` of `items`, comma-separated, then how many more: a
/// help naming every field of a 15 000-field shape, once per unknown
/// field, was gigabytes of output.
pub fn list_capped<'a>(items: impl ExactSizeIterator<Item = &'a str>) -> String {
    let total = items.len();
    let mut out: Vec<&str> = items.take(LIST_MAX).collect();
    let more = total - out.len();
    let rest;
    if more > 0 {
        rest = format!("and {more} more");
        out.push(&rest);
    }
    out.join(", ")
}

/// How many names a help lists before "and N more".
pub const LIST_MAX: usize = 20;

#[cfg(test)]
mod suggestion_tests {
    #[test]
    fn suggests_the_closest_name_deterministically() {
        let names = ["total", "count", "Order", "order_id"];
        assert_eq!(super::closest("totl", names), Some("total"));
        assert_eq!(super::closest("Ordr", names), Some("Order"));
        assert_eq!(super::closest("order", names), Some("Order"));
        assert_eq!(super::closest("zzz", names), None);
        // Equal distances: the alphabetically first, whatever the order.
        assert_eq!(super::closest("abc", ["abd", "abb"]), Some("abb"));
        assert_eq!(super::closest("abc", ["abb", "abd"]), Some("abb"));
        assert_eq!(super::closest("y", ["x"]), None);
        assert_eq!(super::closest("X", ["x"]), Some("x"));
    }

    #[test]
    fn suggestions_spend_a_counted_budget() {
        let names = ["total", "count"];
        // Two visits and two 4 x 5 tables (`count` is as long as `total`).
        let mut budget = 42;
        assert_eq!(
            super::closest_within("totl", names, &mut budget),
            Some("total")
        );
        assert_eq!(budget, 0);
        // Spent: no suggestion rather than one from a partial search.
        let mut budget = 41;
        assert_eq!(super::closest_within("totl", names, &mut budget), None);
        // Candidates too long or too short are set aside without a table.
        let mut budget = 3;
        let far = ["t", "totalsofar"];
        assert_eq!(super::closest_within("totl", far, &mut budget), None);
        assert_eq!(budget, 1);
    }

    #[test]
    fn filtered_candidates_are_paid_for() {
        let items = [None, None, Some("total"), None];
        let mut budget = 4 + 20;
        assert_eq!(
            super::closest_among("totl", items, &mut budget),
            Some("total")
        );
        assert_eq!(budget, 0);
        let mut budget = 2;
        assert_eq!(super::closest_among("totl", items, &mut budget), None);
    }

    #[test]
    fn a_long_name_is_not_a_typo() {
        let long = "x".repeat(super::SUGGEST_MAX_CHARS + 1);
        let near = "x".repeat(super::SUGGEST_MAX_CHARS);
        assert_eq!(super::closest(&long, [near.as_str()]), None);
        assert_eq!(
            super::closest(&near[1..], [near.as_str()]),
            Some(near.as_str())
        );
    }

    #[test]
    fn long_lists_are_cut() {
        let few = ["a", "b"];
        assert_eq!(super::list_capped(few.iter().copied()), "a, b");
        let many: Vec<String> = (0..super::LIST_MAX + 3).map(|i| format!("f{i}")).collect();
        let shown = super::list_capped(many.iter().map(String::as_str));
        assert!(shown.starts_with("f0, f1, "), "{shown}");
        assert!(
            shown.ends_with(&format!("f{}, and 3 more", super::LIST_MAX - 1)),
            "{shown}"
        );
    }
}
