//! The `rules` listing: every row with an id, from every table.

use super::*;

impl Tables {
    /// Every rule row with an id, sorted by id.
    pub fn rules(&self) -> Vec<RuleInfo> {
        let mut v = Vec::new();
        let r = |id: &str, table: &'static str, cite: &str, summary: String| RuleInfo {
            id: id.to_string(),
            table,
            cite: cite.to_string(),
            summary,
            code: None,
        };
        v.push(
            r(
                &self.profile.later_dir.id,
                "00-profile",
                &self.profile.later_dir.cite,
                format!(
                    "DIR versions other than {} are rejected",
                    self.profile.dir_versions.join(", ")
                ),
            )
            .with_code(Some(&self.profile.later_dir.code)),
        );
        for s in &self.profile.later_statements {
            v.push(
                r(
                    &s.id,
                    "00-profile",
                    &s.cite,
                    format!("`{}` requires DPL {}", s.statement, s.since),
                )
                .with_code(Some(&s.code)),
            );
        }
        for f in &self.profile.later_fields {
            v.push(
                r(
                    &f.id,
                    "00-profile",
                    &f.cite,
                    format!("a non-empty `{}` requires DPL {}", f.field, f.since),
                )
                .with_code(Some(&f.code)),
            );
        }
        for s in &self.regimes.statements {
            v.push(
                r(
                    &s.id,
                    "04-regimes",
                    &s.cite,
                    format!(
                        "{:?} {} in {:?}",
                        s.verdict,
                        construct_name(&s.construct),
                        s.regime
                    ),
                )
                .with_code(s.code.as_deref()),
            );
        }
        for q in &self.regimes.qualifiers {
            v.push(
                r(
                    &q.id,
                    "04-regimes",
                    &q.cite,
                    format!(
                        "qualifier `{}` {:?} in {:?}",
                        q.qualifier, q.requirement, q.regime
                    ),
                )
                .with_code(q.code.as_deref()),
            );
        }
        for o in &self.types.operators {
            v.push(r(
                &o.id,
                "05-types",
                &o.cite,
                format!("`{}` is {:?}", o.op, o.class),
            ));
        }
        for e in &self.effects.kinds {
            v.push(r(
                &e.id,
                "06-effects",
                &e.cite,
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
                v.push(r(&s.id, table, &s.cite, what));
            }
            let x = &steps.exit;
            v.push(r(
                &x.id,
                table,
                &x.cite,
                format!("process exit: {:?}", x.actions),
            ));
        }
        for rule in self.linearity.rules() {
            v.push(r(&rule.id, "04-q-linearity", &rule.cite, rule.text()));
        }
        for i in &self.linearity.intrinsics {
            v.push(r(
                &i.id,
                "04-q-linearity",
                &i.cite,
                format!(
                    "`{}`: argument flow {:?}, result {:?}",
                    i.name, i.flow, i.result
                ),
            ));
        }
        for c in &self.checks {
            v.push(r(&c.id, "11-checks", &c.cite, c.summary.clone()).with_code(c.code.as_deref()));
        }
        for rule in self.admission.rules() {
            v.push(r(&rule.id, "10-admission", &rule.cite, rule.text()));
        }
        for a in &self.contracts.attributes {
            v.push(r(&a.id, "10-contracts", &a.cite, a.summary.clone()));
        }
        for n in [&self.contracts.unchecked, &self.contracts.malformed] {
            v.push(
                r(&n.id, "10-contracts", &n.cite, n.summary.clone()).with_code(n.code.as_deref()),
            );
        }
        for x in &self.resources.resources {
            v.push(r(
                &x.id,
                "08-resources",
                &x.cite,
                format!(
                    "resource `{}`{}",
                    x.name,
                    if x.realizer { " (has a realizer)" } else { "" }
                ),
            ));
        }
        for n in &self.resources.rules {
            v.push(
                r(&n.id, "08-resources", &n.cite, n.summary.clone()).with_code(n.code.as_deref()),
            );
        }
        let d = &self.types.literal_defaults;
        v.push(r(
            &d.id,
            "05-types",
            &d.cite,
            format!(
                "an untyped literal no use decides is {} (integers) or {} (floats)",
                d.integer, d.float
            ),
        ));
        for t in &self.types.later_types {
            v.push(
                r(
                    &t.id,
                    "05-types",
                    &t.cite,
                    format!("type `{}` requires DPL {}", t.spelling, t.since),
                )
                .with_code(Some(&t.code)),
            );
        }
        if let Some(w) = &self.types.later_wrapped {
            v.push(
                r(
                    &w.id,
                    "05-types",
                    &w.cite,
                    format!("a regime-wrapped type (`K[Int]`) requires DPL {}", w.since),
                )
                .with_code(Some(&w.code)),
            );
        }
        let u = &self.types.unary;
        v.push(
            r(
                &u.id,
                "05-types",
                &u.cite,
                format!(
                    "unary operators ({}) are not DPL v0.1 expressions",
                    u.names.join(", ")
                ),
            )
            .with_code(Some(&u.code)),
        );
        for c in &self.phi.rules {
            v.push(r(&c.id, "07-phi", &c.cite, c.summary.clone()));
        }
        v.sort();
        v
    }
}
