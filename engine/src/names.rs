//! Numbers of names kept in a vector by their owner (a body's slots, a
//! program's type names), found through a hash table of the numbers alone:
//! each name is stored once, and a table of `u32`s stays small where a map
//! holding hash, key and value together outgrows the caches (a body of
//! 500 000 `let`s, a program of 100 000 shapes). Looked up only, never
//! iterated, so its seeded hasher cannot reach any output.

pub(crate) struct NameIndex {
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
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

    /// The number of `n`; `name_of` gives each number's name.
    pub(crate) fn find<'a>(
        &self,
        n: &str,
        name_of: impl Fn(usize) -> Option<&'a str>,
    ) -> Option<usize> {
        self.table
            .find(Self::hash(&self.hasher, n), |&i| {
                name_of(i as usize) == Some(n)
            })
            .map(|&i| i as usize)
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
        match table.entry(
            Self::hash(hasher, n),
            |&i| name_of(i as usize) == Some(n),
            |&i| name_of(i as usize).map_or(0, |m| Self::hash(hasher, m)),
        ) {
            hashbrown::hash_table::Entry::Occupied(o) => Err(*o.get() as usize),
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(u32::try_from(next).unwrap_or(u32::MAX));
                Ok(next)
            }
        }
    }
}
