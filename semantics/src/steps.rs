//! 08-{k,q,phi}-steps.ron: the transition rows the rule applier runs (§8.4).

#[allow(unused_imports)]
use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Eval,
    Bind,
    Defer,
    Witness,
    Tick,
    Record,
    Return,
    CheckConstraints,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub construct: Construct,
    pub actions: Vec<Action>,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitStep {
    pub id: String,
    pub actions: Vec<Action>,
    pub cite: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KSteps {
    pub steps: Vec<Step>,
    pub exit: ExitStep,
}

/// The actions the rule applier can perform for a construct (None: the
/// process-exit row), in the order they may come.
pub fn actions_for(construct: Option<&Construct>) -> &'static [Action] {
    use Action::*;
    match construct {
        Some(Construct::Let) | Some(Construct::Call) => &[Eval, Bind, Tick],
        Some(Construct::Constrain) => &[Defer, Tick],
        Some(Construct::Prove) => &[Eval, Witness, Bind, Tick],
        Some(Construct::Effect(_)) => &[Eval, Tick, Record],
        Some(Construct::Return) => &[Eval, Tick, Return],
        None => &[CheckConstraints],
    }
}

/// A step row's actions: only those the applier performs for its
/// construct, each once, in the applier's order (evaluate before binding,
/// witnessing or recording; return last), with what the construct needs.
pub(crate) fn check_actions(
    id: &str,
    construct: Option<&Construct>,
    actions: &[Action],
) -> Result<(), String> {
    let allowed = actions_for(construct);
    let what = construct.map_or("the process exit".to_string(), construct_name);
    let mut last = None;
    for a in actions {
        let Some(pos) = allowed.iter().position(|x| x == a) else {
            return Err(format!(
                "row `{id}`: action {a:?} is not performed for {what} (allowed, in order: {allowed:?})"
            ));
        };
        if last.is_some_and(|l| pos <= l) {
            return Err(format!(
                "row `{id}`: actions must come once each, in the order {allowed:?}"
            ));
        }
        last = Some(pos);
    }
    let has = |a: Action| actions.contains(&a);
    let needs_eval = [
        Action::Bind,
        Action::Witness,
        Action::Record,
        Action::Return,
    ];
    if let Some(a) = needs_eval.iter().find(|a| has(**a)) {
        if !has(Action::Eval) {
            return Err(format!(
                "row `{id}`: {a:?} needs the value of an earlier Eval"
            ));
        }
    }
    if construct == Some(&Construct::Prove) && has(Action::Bind) && !has(Action::Witness) {
        return Err(format!(
            "row `{id}`: a prove binds a witness (§7.6), so Bind needs Witness"
        ));
    }
    if construct == Some(&Construct::Return) && !has(Action::Return) {
        return Err(format!("row `{id}`: a return row must end with Return"));
    }
    Ok(())
}
