//! Cross-table validation: what every loaded set of tables must satisfy
//! before the engine may use it.

use super::*;

impl Tables {
    pub(crate) fn validate(&self) -> Result<(), TableError> {
        let err = TableError::new;
        // Catalogue: well-formed, unique codes and keys.
        let mut codes = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for e in &self.catalogue {
            if !valid_code(&e.code) {
                return Err(err(
                    CATALOGUE_FILE,
                    format!("code `{}` is not of the form E0000", e.code),
                ));
            }
            if !codes.insert(e.code.as_str()) {
                return Err(err(
                    CATALOGUE_FILE,
                    format!("code `{}` appears twice", e.code),
                ));
            }
            if let Some(k) = &e.key {
                if !keys.insert(k.as_str()) {
                    return Err(err(CATALOGUE_FILE, format!("key `{k}` appears twice")));
                }
            }
            if !valid_cite(&e.cite) {
                return Err(err(
                    CATALOGUE_FILE,
                    format!("code `{}` has a bad cite `{}`", e.code, e.cite),
                ));
            }
            if e.explanation.trim().is_empty() || e.title.trim().is_empty() {
                return Err(err(
                    CATALOGUE_FILE,
                    format!("code `{}` lacks a title or explanation", e.code),
                ));
            }
        }
        // Every rule: unique id, good cite; codes exist.
        let mut ids = BTreeSet::new();
        for r in self.rules() {
            if !valid_id(&r.id) {
                return Err(err(
                    r.table,
                    format!("rule id `{}` is not of the form AB-CD", r.id),
                ));
            }
            if !ids.insert(r.id.clone()) {
                return Err(err(r.table, format!("rule id `{}` appears twice", r.id)));
            }
            if !valid_cite(&r.cite) {
                return Err(err(
                    r.table,
                    format!(
                        "rule `{}` has a bad cite `{}` (expected §N or §N.N...)",
                        r.id, r.cite
                    ),
                ));
            }
        }
        let need_code =
            |file: &str, id: &str, code: Option<&str>, required: bool| -> Result<(), TableError> {
                match code {
                    Some(c) if !codes.contains(c) => Err(err(
                        file,
                        format!("rule `{id}` names code `{c}`, which is not in the catalogue"),
                    )),
                    None if required => Err(err(
                        file,
                        format!("rule `{id}` forbids something but names no error code"),
                    )),
                    _ => Ok(()),
                }
            };
        need_code(
            "00-profile.ron",
            &self.profile.later_dir.id,
            Some(&self.profile.later_dir.code),
            true,
        )?;
        for s in &self.profile.later_statements {
            need_code("00-profile.ron", &s.id, Some(&s.code), true)?;
        }
        for f in &self.profile.later_fields {
            need_code("00-profile.ron", &f.id, Some(&f.code), true)?;
        }
        for s in &self.regimes.statements {
            need_code(
                "04-regimes.ron",
                &s.id,
                s.code.as_deref(),
                s.verdict == Verdict::Forbidden,
            )?;
        }
        for q in &self.regimes.qualifiers {
            need_code(
                "04-regimes.ron",
                &q.id,
                q.code.as_deref(),
                q.requirement != Requirement::Allowed,
            )?;
        }
        for c in &self.checks {
            need_code("11-checks.ron", &c.id, c.code.as_deref(), false)?;
        }
        for v in &self.linearity.violations {
            need_code("04-q-linearity.ron", &v.relation, Some(&v.code), true)?;
        }
        for v in &self.admission.violations {
            need_code("10-admission.ron", &v.relation, Some(&v.code), true)?;
        }
        need_code(
            "10-contracts.ron",
            &self.contracts.malformed.id,
            self.contracts.malformed.code.as_deref(),
            true,
        )?;
        for n in &self.resources.rules {
            need_code("08-resources.ron", &n.id, n.code.as_deref(), false)?;
        }
        need_code(
            "05-types.ron",
            &self.types.unary.id,
            Some(&self.types.unary.code),
            true,
        )?;
        for t in &self.types.later_types {
            need_code("05-types.ron", &t.id, Some(&t.code), true)?;
        }
        if let Some(w) = &self.types.later_wrapped {
            need_code("05-types.ron", &w.id, Some(&w.code), true)?;
        }
        let d = &self.types.literal_defaults;
        let int_ok = matches!(
            self.canonical_type(&d.integer).map(|p| &p.kind),
            Some(PrimKind::Int { .. })
        );
        let float_ok = matches!(
            self.canonical_type(&d.float).map(|p| &p.kind),
            Some(PrimKind::Float { .. })
        );
        if !int_ok || !float_ok {
            return Err(err(
                "05-types.ron",
                "literal_defaults name an integer and a float primitive".into(),
            ));
        }
        for a in &self.contracts.attributes {
            if self.contracts.ops_of(a.value).is_empty() {
                return Err(err(
                    "10-contracts.ron",
                    format!(
                        "attribute `{}`: no operators for {:?} values",
                        a.key, a.value
                    ),
                ));
            }
            if self
                .contracts
                .attributes
                .iter()
                .filter(|b| b.key == a.key)
                .count()
                != 1
            {
                return Err(err(
                    "10-contracts.ron",
                    format!("attribute `{}` appears twice", a.key),
                ));
            }
        }
        for x in &self.resources.resources {
            if self
                .resources
                .resources
                .iter()
                .filter(|y| y.name == x.name)
                .count()
                != 1
            {
                return Err(err(
                    "08-resources.ron",
                    format!("resource `{}` appears twice", x.name),
                ));
            }
            let known = |p: &str| x.params.iter().any(|q| q.name == p);
            for rz in &x.realizable {
                if !known(&rz.param) {
                    return Err(err(
                        "08-resources.ron",
                        format!(
                            "resource `{}`: realizable names unknown parameter `{}`",
                            x.name, rz.param
                        ),
                    ));
                }
            }
            if let Some(d) = &x.deadline {
                for p in [&d.deadline, &d.jitter] {
                    let int = x
                        .params
                        .iter()
                        .any(|q| &q.name == p && q.kind == ParamKind::Int);
                    if !int {
                        return Err(err(
                            "08-resources.ron",
                            format!(
                                "resource `{}`: deadline parameter `{p}` is not an Int parameter",
                                x.name
                            ),
                        ));
                    }
                }
            }
        }
        for s in &self.q_steps.steps {
            if let Construct::Effect(k) = &s.construct {
                if !self.effects.kinds.iter().any(|e| &e.kind == k) {
                    return Err(err(
                        "08-q-steps.ron",
                        format!("step `{}` names unknown effect `{k}`", s.id),
                    ));
                }
            }
        }
        for (file, steps) in [
            ("08-k-steps.ron", &self.k_steps),
            ("08-q-steps.ron", &self.q_steps),
            ("08-phi-steps.ron", &self.phi_steps),
        ] {
            for s in &steps.steps {
                check_actions(&s.id, Some(&s.construct), &s.actions).map_err(|m| err(file, m))?;
            }
            check_actions(&steps.exit.id, None, &steps.exit.actions).map_err(|m| err(file, m))?;
        }
        for (file, steps) in [
            ("08-q-steps.ron", &self.q_steps),
            ("08-phi-steps.ron", &self.phi_steps),
        ] {
            for c in Construct::BASE {
                if steps.steps.iter().filter(|s| s.construct == c).count() != 1 {
                    return Err(err(
                        file,
                        format!("exactly one step is required for {}", construct_name(&c)),
                    ));
                }
            }
        }
        // Every construct a regime allows has a transition row of that regime.
        for row in self
            .regimes
            .statements
            .iter()
            .filter(|r| r.verdict == Verdict::Allowed)
        {
            let (file, steps) = self.steps(row.regime);
            if !steps.steps.iter().any(|s| s.construct == row.construct) {
                return Err(err(
                    file,
                    format!(
                        "`{}` allows {} but no transition rule performs it",
                        row.id,
                        construct_name(&row.construct)
                    ),
                ));
            }
        }
        // Regime table: exactly one row per regime x construct.
        let mut constructs = Construct::BASE.to_vec();
        constructs.extend(
            self.effects
                .kinds
                .iter()
                .map(|k| Construct::Effect(k.kind.clone())),
        );
        for regime in [Regime::K, Regime::Q, Regime::Phi] {
            for c in &constructs {
                let n = self
                    .regimes
                    .statements
                    .iter()
                    .filter(|s| s.regime == regime && &s.construct == c)
                    .count();
                if n != 1 {
                    return Err(err(
                        "04-regimes.ron",
                        format!(
                            "{n} rows for {} in {regime:?}; exactly one is required",
                            construct_name(c)
                        ),
                    ));
                }
            }
        }
        // K steps and costs: one per construct.
        for c in &constructs {
            let n = self
                .k_steps
                .steps
                .iter()
                .filter(|s| &s.construct == c)
                .count();
            if n != 1 {
                return Err(err(
                    "08-k-steps.ron",
                    format!(
                        "{n} steps for {}; exactly one is required",
                        construct_name(c)
                    ),
                ));
            }
            match self.time.costs.iter().filter(|k| &k.construct == c).count() {
                1 => {}
                0 => {
                    return Err(err(
                        "09-time.ron",
                        format!("no cost for {}", construct_name(c)),
                    ))
                }
                n => {
                    return Err(err(
                        "09-time.ron",
                        format!(
                            "{n} costs for {}; exactly one is required",
                            construct_name(c)
                        ),
                    ))
                }
            }
        }
        for s in &self.effects.kinds {
            if self
                .effects
                .kinds
                .iter()
                .filter(|k| k.kind == s.kind)
                .count()
                != 1
            {
                return Err(err(
                    "06-effects.ron",
                    format!("effect kind `{}` appears twice", s.kind),
                ));
            }
        }
        // Each table's own checks, beside its schema.
        self.types.check()?;
        self.profile.check()?;
        Ok(())
    }
}
