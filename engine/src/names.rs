//! Numbers of names kept in a vector by their owner (a body's slots, a
//! program's type names), found through a hash table of the numbers and
//! half of each name's hash: each name is stored once, and a table of
//! `u32` pairs stays small where a map holding hash, key and value together
//! outgrows the caches (a body of 500 000 `let`s, a program of 100 000
//! shapes). Looked up only, never
//! iterated, so its seeded hasher cannot reach any output.

/// A region is this many bits of buckets (2 304 bytes), at most
/// `1 << MAX_REGION_BITS` regions (the sort's counts stay in L1).
const REGION_BUCKET_BITS: u32 = 8;
const MAX_REGION_BITS: u32 = 12;

pub(crate) struct NameIndex {
    /// Each number with the high half of its name's hash (`tag`): a probe
    /// whose few bits of hash the table matches by chance (one slot in
    /// ten, for a new name in a full group) is told apart by the tag, not
    /// by reading the name, which lies anywhere in the program (a miss to
    /// main memory each, in a large body).
    table: hashbrown::HashTable<[u32; 2]>,
    hasher: foldhash::fast::RandomState,
}

/// The part of a name's hash kept beside its number.
#[inline]
fn tag(h: u64) -> u32 {
    (h >> 32) as u32
}

impl NameIndex {
    pub(crate) fn with_capacity(n: usize) -> NameIndex {
        NameIndex {
            table: hashbrown::HashTable::with_capacity(n),
            hasher: Default::default(),
        }
    }

    fn hash(hasher: &foldhash::fast::RandomState, n: &str) -> u64 {
        std::hash::BuildHasher::hash_one(hasher, n)
    }

    /// An index of the names `named` gives (numbers in increasing order,
    /// at most `n` of them, each with its name), each name recorded with
    /// the first number that has it; and the numbers whose name an earlier
    /// one has, each with that first number, in order.
    ///
    /// The table is filled region by region (the names sorted by where
    /// they land, numbers kept in order within a region): filled in number
    /// order, a table larger than the caches took a miss to main memory per
    /// name (measured: 500 000 names, 20–30 ms in a loop of their own, 7 ms
    /// by region; docs/performance.md).
    pub(crate) fn of_all<'a>(
        n: usize,
        named: impl Iterator<Item = (u32, &'a str)>,
        name_of: impl Fn(usize) -> Option<&'a str>,
    ) -> (NameIndex, Vec<(u32, u32)>) {
        let mut index = NameIndex::with_capacity(n);
        let mut again = Vec::new();
        // The table's buckets (a power of two; where a hash lands is its
        // low bits, `hashbrown`'s probe start). Were they other than
        // computed here, the regions would only be less local.
        let buckets = (index.table.capacity() / 7 * 8).next_power_of_two();
        let bits = buckets.trailing_zeros();
        let region_bits = bits.saturating_sub(REGION_BUCKET_BITS).min(MAX_REGION_BITS);
        let mut record = |index: &mut NameIndex, h: u64, k: u32| {
            let NameIndex { table, hasher } = index;
            let named_k =
                |i: u32| name_of(i as usize).is_some_and(|m| Some(m) == name_of(k as usize));
            match table.entry(
                h,
                |&[i, t]| t == tag(h) && named_k(i),
                |&[i, _]| name_of(i as usize).map_or(0, |m| Self::hash(hasher, m)),
            ) {
                hashbrown::hash_table::Entry::Occupied(o) => again.push((k, o.get()[0])),
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert([k, tag(h)]);
                }
            }
        };
        if region_bits == 0 {
            for (k, m) in named {
                let h = Self::hash(&index.hasher, m);
                record(&mut index, h, k);
            }
        } else {
            let shift = bits - region_bits;
            let region = |h: u64| (h as usize & (buckets - 1)) >> shift;
            let hashed: Vec<(u64, u32)> = named
                .map(|(k, m)| (Self::hash(&index.hasher, m), k))
                .collect();
            // A counting sort by region, stable: numbers stay in order
            // within each region, so a name's first number is met first.
            let mut starts = vec![0usize; (1 << region_bits) + 1];
            for (h, _) in &hashed {
                starts[region(*h) + 1] += 1;
            }
            for r in 1..starts.len() {
                starts[r] += starts[r - 1];
            }
            let mut sorted = vec![(0u64, 0u32); hashed.len()];
            for &(h, k) in &hashed {
                let r = region(h);
                if let Some(at) = sorted.get_mut(starts[r]) {
                    *at = (h, k);
                }
                starts[r] += 1;
            }
            drop(hashed);
            for (h, k) in sorted {
                record(&mut index, h, k);
            }
            // Regions met in turn: a name's later numbers in number order
            // within its region, but not across regions.
            again.sort_unstable();
        }
        (index, again)
    }

    /// The number of `n`; `name_of` gives each number's name.
    pub(crate) fn find<'a>(
        &self,
        n: &str,
        name_of: impl Fn(usize) -> Option<&'a str>,
    ) -> Option<usize> {
        let h = Self::hash(&self.hasher, n);
        self.table
            .find(h, |&[i, t]| t == tag(h) && name_of(i as usize) == Some(n))
            .map(|&[i, _]| i as usize)
    }

    /// Records `n` as number `next`: `Ok(next)`, or `Err` with the number
    /// it already has. (Numbers are `u32`; one past it is recorded but never
    /// found, which no 64 MiB input comes near.)
    pub(crate) fn insert<'a>(
        &mut self,
        n: &str,
        next: usize,
        name_of: impl Fn(usize) -> Option<&'a str>,
    ) -> Result<usize, usize> {
        let NameIndex { table, hasher } = self;
        let h = Self::hash(hasher, n);
        match table.entry(
            h,
            |&[i, t]| t == tag(h) && name_of(i as usize) == Some(n),
            |&[i, _]| name_of(i as usize).map_or(0, |m| Self::hash(hasher, m)),
        ) {
            hashbrown::hash_table::Entry::Occupied(o) => Err(o.get()[0] as usize),
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert([u32::try_from(next).unwrap_or(u32::MAX), tag(h)]);
                Ok(next)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Filled in number order or by region, the index finds each name's
    /// first number and lists the numbers bound again, as a map of the
    /// names in number order does.
    #[test]
    fn an_index_filled_by_region_is_the_index_filled_in_order() {
        // Numbers with gaps (statements that bind nothing), names repeated.
        let named: Vec<(u32, String)> = (0..5000u32)
            .filter(|i| i % 7 != 3)
            .map(|i| {
                (
                    i,
                    format!(
                        "v{}",
                        u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15) % 3000
                    ),
                )
            })
            .collect();
        let mut by_number: BTreeMap<usize, &str> = BTreeMap::new();
        for (i, m) in &named {
            by_number.insert(*i as usize, m.as_str());
        }
        let name_of = |i: usize| by_number.get(&i).copied();
        let mut first: BTreeMap<&str, u32> = BTreeMap::new();
        let mut again_want = Vec::new();
        for (i, m) in &named {
            match first.get(m.as_str()) {
                Some(f) => again_want.push((*i, *f)),
                None => {
                    first.insert(m, *i);
                }
            }
        }
        assert!(again_want.iter().any(|(i, _)| *i < 150));
        // Filled by region (8 192 buckets), and in order (a table of 256).
        for n in [named.len(), 150] {
            let iter = named[..n].iter().map(|(i, m)| (*i, m.as_str()));
            let (index, again) = NameIndex::of_all(n, iter, name_of);
            let upto = named[n - 1].0;
            let want: Vec<(u32, u32)> = again_want
                .iter()
                .copied()
                .filter(|(i, _)| *i <= upto)
                .collect();
            assert_eq!(again, want, "{n} names");
            for (m, f) in first.iter().filter(|(_, f)| **f <= upto) {
                assert_eq!(index.find(m, name_of), Some(*f as usize), "{m}");
            }
            for absent in ["v3000", "w1", ""] {
                assert_eq!(index.find(absent, name_of), None);
            }
        }
    }
}
