//! Shared by the fast readers' agreement tests (expressions and JSON).

/// A deterministic xorshift generator.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next(xs.len() as u64) as usize]
    }
}

/// What corrupting JSON DIR inserts: brackets, separators, quotes,
/// escapes, literals, a statement tag and a key.
pub(crate) const JSON_INSERTS: [&str; 16] = [
    "{", "}", "[", "]", ",", ":", "\"", "null", "1", "-", "\\", "\\u0041", "\"Let\"", "\"name\"",
    " ", "Φ",
];

/// `src` with one character dropped, or one of `inserts` put before a
/// random character.
pub(crate) fn corrupt(r: &mut Rng, src: &str, inserts: &[&str]) -> String {
    let chars: Vec<char> = src.chars().collect();
    if chars.is_empty() {
        return r.pick(inserts).to_string();
    }
    let at = r.next(chars.len() as u64) as usize;
    if r.next(2) == 0 {
        chars
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .map(|(_, c)| *c)
            .collect()
    } else {
        let mut s: String = chars[..at].iter().collect();
        s.push_str(r.pick(inserts));
        s.extend(&chars[at..]);
        s
    }
}

/// Every DIR program (`.dir`, `.json`) of the conformance corpus and the
/// examples that is UTF-8 (some cases deliberately are not), in path order.
pub(crate) fn corpus_programs() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    let mut dirs = vec![root.join("examples"), root.join("conformance/cases")];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "dir" || e == "json") {
                if let Ok(t) = std::fs::read_to_string(&p) {
                    out.push(t);
                }
            }
        }
    }
    out
}
