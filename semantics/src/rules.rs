//! The `rules` listing: every row with an id, from every table.

use super::*;

impl Tables {
    /// Every rule row with an id, sorted by id.
    pub fn rules(&self) -> Vec<RuleInfo> {
        let mut v = Vec::new();
        // `code`: the error code the row reports, where it names one.
        let r = |id: &str, table: &'static str, cite: &str, code: Option<&str>, summary: String| {
            RuleInfo {
                id: id.to_string(),
                table,
                cite: cite.to_string(),
                summary,
                code: code.map(str::to_string),
            }
        };
        v.push(r(
            &self.profile.later_dir.id,
            "00-profile",
            &self.profile.later_dir.cite,
            Some(&self.profile.later_dir.code),
            format!(
                "DIR versions other than {} are rejected",
                self.profile.dir_versions.join(", ")
            ),
        ));
        for s in &self.profile.later_statements {
            v.push(r(
                &s.id,
                "00-profile",
                &s.cite,
                Some(&s.code),
                format!("`{}` requires DPL {}", s.statement, s.since),
            ));
        }
        for f in &self.profile.later_fields {
            v.push(r(
                &f.id,
                "00-profile",
                &f.cite,
                Some(&f.code),
                format!("a non-empty `{}` requires DPL {}", f.field, f.since),
            ));
        }
        for s in &self.regimes.statements {
            v.push(r(
                &s.id,
                "04-regimes",
                &s.cite,
                s.code.as_deref(),
                format!(
                    "{:?} {} in {:?}",
                    s.verdict,
                    construct_name(&s.construct),
                    s.regime
                ),
            ));
        }
        for q in &self.regimes.qualifiers {
            v.push(r(
                &q.id,
                "04-regimes",
                &q.cite,
                q.code.as_deref(),
                format!(
                    "qualifier `{}` {:?} in {:?}",
                    q.qualifier, q.requirement, q.regime
                ),
            ));
        }
        for o in &self.types.operators {
            v.push(r(
                &o.id,
                "05-types",
                &o.cite,
                None,
                format!("`{}` is {:?}", o.op, o.class),
            ));
        }
        for e in &self.effects.kinds {
            v.push(r(
                &e.id,
                "06-effects",
                &e.cite,
                None,
                format!("`{}` is realized by {:?}", e.kind, e.realizer),
            ));
        }
        for (table, steps) in [
            ("08-k-steps", &self.k_steps),
            ("08-q-steps", &self.q_steps),
            ("08-phi-steps", &self.phi_steps),
        ] {
            for s in &steps.steps {
                let what = format!("{}: {:?}", construct_name(&s.construct), s.actions);
                v.push(r(&s.id, table, &s.cite, None, what));
            }
            let x = &steps.exit;
            v.push(r(
                &x.id,
                table,
                &x.cite,
                None,
                format!("process exit: {:?}", x.actions),
            ));
        }
        for rule in self.linearity.rules() {
            v.push(r(&rule.id, "04-q-linearity", &rule.cite, None, rule.text()));
        }
        for i in &self.linearity.intrinsics {
            v.push(r(
                &i.id,
                "04-q-linearity",
                &i.cite,
                None,
                format!(
                    "`{}`: argument flow {:?}, result {:?}",
                    i.name, i.flow, i.result
                ),
            ));
        }
        for c in &self.checks {
            v.push(r(
                &c.id,
                "11-checks",
                &c.cite,
                c.code.as_deref(),
                c.summary.clone(),
            ));
        }
        for rule in self.admission.rules() {
            v.push(r(&rule.id, "10-admission", &rule.cite, None, rule.text()));
        }
        for a in &self.contracts.attributes {
            v.push(r(&a.id, "10-contracts", &a.cite, None, a.summary.clone()));
        }
        for n in [&self.contracts.unchecked, &self.contracts.malformed] {
            v.push(r(
                &n.id,
                "10-contracts",
                &n.cite,
                n.code.as_deref(),
                n.summary.clone(),
            ));
        }
        for x in &self.resources.resources {
            v.push(r(
                &x.id,
                "08-resources",
                &x.cite,
                None,
                format!(
                    "resource `{}`{}",
                    x.name,
                    if x.realizer { " (has a realizer)" } else { "" }
                ),
            ));
        }
        for n in &self.resources.rules {
            v.push(r(
                &n.id,
                "08-resources",
                &n.cite,
                n.code.as_deref(),
                n.summary.clone(),
            ));
        }
        let d = &self.types.literal_defaults;
        v.push(r(
            &d.id,
            "05-types",
            &d.cite,
            None,
            format!(
                "an untyped literal no use decides is {} (integers) or {} (floats)",
                d.integer, d.float
            ),
        ));
        for t in &self.types.later_types {
            v.push(r(
                &t.id,
                "05-types",
                &t.cite,
                Some(&t.code),
                format!("type `{}` requires DPL {}", t.spelling, t.since),
            ));
        }
        if let Some(w) = &self.types.later_wrapped {
            v.push(r(
                &w.id,
                "05-types",
                &w.cite,
                Some(&w.code),
                format!("a regime-wrapped type (`K[Int]`) requires DPL {}", w.since),
            ));
        }
        let u = &self.types.unary;
        v.push(r(
            &u.id,
            "05-types",
            &u.cite,
            Some(&u.code),
            format!(
                "unary operators ({}) are not DPL v0.1 expressions",
                u.names.join(", ")
            ),
        ));
        for c in &self.phi.rules {
            v.push(r(&c.id, "07-phi", &c.cite, None, c.summary.clone()));
        }
        v.sort();
        v
    }
}
