//! Every table row the engine refers to by id, declared once with the file
//! that holds it and what relies on it. `check` runs when the engine is
//! built: a missing or renamed row is refused, naming all three. (Relation
//! names of the datalog tables are declared in `semantics::datalog` and
//! checked by the loader; catalogue codes in `crate::codes`.)

use semantics::Tables;

macro_rules! rows {
    ($($konst:ident = $id:literal in $file:literal: $why:literal;)*) => {
        $(pub const $konst: &str = $id;)*
        /// (row id, table file, what relies on it)
        pub const ALL: &[(&str, &str, &str)] = &[$(($id, $file, $why)),*];
    };
}

rows! {
    ADM_CONSTRAINT = "ADM-CONSTRAINT" in "11-checks.ron": "the rule applier refuses a run whose constraint is false";
    ADM_PROVE = "ADM-PROVE" in "11-checks.ron": "the rule applier refuses a `prove` whose predicate is false";
    BIND_AMBIGUOUS = "BIND-AMBIGUOUS" in "11-checks.ron": "validation reports a binding endpoint naming several processes";
    BIND_DUPLICATE = "BIND-DUPLICATE" in "11-checks.ron": "validation reports a binding declared twice";
    BIND_RESOLVE = "BIND-RESOLVE" in "11-checks.ron": "validation reports a binding endpoint that names no process";
    CALL_AMBIGUOUS = "CALL-AMBIGUOUS" in "11-checks.ron": "validation reports a call naming several processes";
    CALL_ARGS = "CALL-ARGS" in "11-checks.ron": "validation reports a call with the wrong arguments";
    CALL_BOUND = "CALL-BOUND" in "11-checks.ron": "validation records a cross-regime call admitted by a binding";
    CALL_CROSS_REGIME = "CALL-CROSS-REGIME" in "11-checks.ron": "validation reports a cross-regime call without a binding";
    CALL_DEPTH = "CALL-DEPTH" in "11-checks.ron": "validation reports a call chain deeper than the profile allows";
    CALL_DISCARD = "CALL-DISCARD" in "11-checks.ron": "validation reports a discarded non-Unit call result";
    CALL_LINEAR_MOVE = "CALL-LINEAR-MOVE" in "11-checks.ron": "Q linearity treats a call argument as a move";
    CALL_NO_RECURSION = "CALL-NO-RECURSION" in "11-checks.ron": "validation reports a call cycle";
    CALL_SAME_REGIME = "CALL-SAME-REGIME" in "11-checks.ron": "validation records a same-regime call";
    CALL_UNKNOWN = "CALL-UNKNOWN" in "11-checks.ron": "validation reports a call to no process";
    CONSTRAIN_BOOL = "CONSTRAIN-BOOL" in "11-checks.ron": "validation reports a non-boolean constraint";
    DEF_DUPLICATE = "DEF-DUPLICATE" in "11-checks.ron": "validation reports a name defined twice";
    EFFECT_KIND_UNKNOWN = "EFFECT-KIND-UNKNOWN" in "11-checks.ron": "validation reports an effect kind 06-effects.ron does not list";
    ENTRY_AMBIGUOUS = "ENTRY-AMBIGUOUS" in "11-checks.ron": "entry resolution reports an ambiguous entry";
    ENTRY_RESOLVE = "ENTRY-RESOLVE" in "11-checks.ron": "entry resolution names the entry it chose or could not find";
    EXEC_BUDGET = "EXEC-BUDGET" in "11-checks.ron": "evaluation stops past its step and value budgets (undetermined)";
    FAIL_DIV_ZERO = "FAIL-DIV-ZERO" in "11-checks.ron": "evaluation fails on a division by zero";
    FAIL_FLOAT = "FAIL-FLOAT" in "11-checks.ron": "evaluation fails on a float that is not finite";
    FAIL_OVERFLOW = "FAIL-OVERFLOW" in "11-checks.ron": "evaluation fails on integer overflow";
    FIELD_UNKNOWN = "FIELD-UNKNOWN" in "11-checks.ron": "validation reports an unknown field";
    FORGE_DUPLICATE = "FORGE-DUPLICATE" in "11-checks.ron": "validation reports a forge declared twice";
    INTRINSIC_ARG = "INTRINSIC-ARG" in "11-checks.ron": "validation reports a bad intrinsic argument";
    INTRINSIC_REGIME = "INTRINSIC-REGIME" in "11-checks.ron": "validation reports an intrinsic used outside its regime";
    INTRINSIC_RESERVED = "INTRINSIC-RESERVED" in "11-checks.ron": "validation reports a process named like an intrinsic";
    LET_NO_REBIND = "LET-NO-REBIND" in "11-checks.ron": "validation reports a rebound name";
    NAME_UNKNOWN = "NAME-UNKNOWN" in "11-checks.ron": "validation reports an unknown name";
    PHI_CONCRETE = "PHI-CONCRETE" in "07-phi.ron": "admission decides a Φ process given every parameter";
    PHI_EXISTS = "PHI-EXISTS" in "07-phi.ron": "Φ resolution reports an existing witness";
    PHI_NONEXISTENT = "PHI-NONEXISTENT" in "11-checks.ron": "Φ resolution reports non-existence with a minimal set";
    PHI_UNDETERMINED = "PHI-UNDETERMINED" in "11-checks.ron": "Φ resolution reports a question it could not decide";
    PHI_WITNESS_DIGEST = "PHI-WITNESS-DIGEST" in "11-checks.ron": "validation checks phi_witness's digest argument";
    PHI_WITNESS_ORDER = "PHI-WITNESS-ORDER" in "07-phi.ron": "Φ resolution names the witness order it applied";
    PRED_PURE = "PRED-PURE" in "11-checks.ron": "validation reports an effect reachable from a predicate";
    Q_ANALYSIS_BUDGET = "Q-ANALYSIS-BUDGET" in "11-checks.ron": "Q linearity stops past its fact budget (undetermined)";
    QUALIFIER_UNKNOWN = "QUALIFIER-UNKNOWN" in "11-checks.ron": "validation reports an unknown qualifier";
    RES_ARGS = "RES-ARGS" in "08-resources.ron": "admission checks a uses clause's arguments";
    RES_REALIZER = "RES-REALIZER" in "08-resources.ron": "admission provides a resource that has a realizer";
    RES_SIMULATED = "RES-SIMULATED" in "08-resources.ron": "admission provides simulated resources";
    RET_LAST = "RET-LAST" in "11-checks.ron": "validation reports a return that is not last";
    RET_MISSING = "RET-MISSING" in "11-checks.ron": "validation reports a missing return";
    RET_TYPE = "RET-TYPE" in "11-checks.ron": "validation reports a return of the wrong type";
    RET_UNEXPECTED = "RET-UNEXPECTED" in "11-checks.ron": "validation reports a return value in a Unit process";
    SHAPE_UNKNOWN = "SHAPE-UNKNOWN" in "11-checks.ron": "validation reports an unknown shape";
    STRUCT_FIELDS = "STRUCT-FIELDS" in "11-checks.ron": "validation reports wrong struct literal fields";
    TYPE_LITERAL = "TYPE-LITERAL" in "11-checks.ron": "validation reports a literal that does not fit its type";
    TYPE_OPERANDS = "TYPE-OPERANDS" in "11-checks.ron": "validation reports operands an operator cannot combine";
    TYPE_PLACE = "TYPE-PLACE" in "11-checks.ron": "validation reports a value of the wrong type for its place";
    TYPE_UNKNOWN = "TYPE-UNKNOWN" in "11-checks.ron": "validation reports an unknown type";
    USES_NO_EFFECT = "USES-NO-EFFECT" in "11-checks.ron": "admission records that acquiring resources performs no effect";
}

/// Refuse tables that lack a row the engine relies on.
pub fn check(tables: &Tables) -> Result<(), String> {
    let rows: Vec<semantics::RuleInfo> = tables.rules();
    for (id, file, why) in ALL {
        let stem = file.trim_end_matches(".ron");
        if !rows.iter().any(|r| r.id == *id && r.table == stem) {
            return Err(format!(
                "{file}: the engine needs row `{id}` ({why}), which is missing"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// No table row id is spelled in the engine's code outside this module,
    /// so the list above is complete and `check` sees every dependency.
    #[test]
    fn no_row_id_is_spelled_outside_the_registry() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let ids: Vec<String> = semantics::Tables::defaults()
            .unwrap()
            .rules()
            .into_iter()
            .map(|r| r.id)
            .collect();
        let mut stray = Vec::new();
        // Every source file, in subdirectories too (validate/, phi/).
        let mut files = Vec::new();
        let mut dirs = vec![dir];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
        files.sort();
        assert!(files.iter().any(|p| p.ends_with("phi/symbolic.rs")));
        for path in files {
            if path.ends_with("registry.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                for part in line.split('"').skip(1).step_by(2) {
                    let id_like = part.contains('-')
                        && part.starts_with(|c: char| c.is_ascii_uppercase())
                        && part
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
                    if id_like && ids.iter().any(|id| id == part) {
                        stray.push(format!("{}:{}: {part}", path.display(), n + 1));
                    }
                }
            }
        }
        assert!(stray.is_empty(), "use crate::registry:: for {stray:#?}");
    }

    #[test]
    fn the_built_in_tables_have_every_row() {
        let tables = semantics::Tables::defaults().unwrap();
        assert_eq!(super::check(&tables), Ok(()));
    }
}
