//! Memory a phase is about to fill, faulted in on another core.
//!
//! A large body's checking and evaluation write lists sized up front (the
//! name table, bind slots, values by slot, the run's events), a page at a
//! time as they go; each fresh page is a fault, and on the machines this
//! project measures a fault costs microseconds (docs/performance.md,
//! thirteenth session). While one core checks or evaluates, the other is
//! mostly idle: it asks the kernel to fault the lists' pages in ahead of
//! the writer (`MADV_POPULATE_WRITE`, which maps zeroed pages without
//! writing anything, so no value the program can see changes).
//!
//! Linux only, and only for lists of at least `MIN_BYTES` together;
//! elsewhere, or
//! when the kernel refuses, pages are faulted as they are written, as
//! before.

/// Lists that together are smaller than this are faulted where they are
/// written (a thread costs tens of microseconds; a MiB of pages, about two
/// milliseconds).
pub(crate) const MIN_BYTES: usize = 1 << 20;

/// A list smaller than this is left to fault where it is written, beside
/// others that are populated.
const MIN_RANGE_BYTES: usize = 1 << 16;

/// Pages being faulted in beside the caller; joined when dropped, so the
/// lists outlive the work on them (a list is never freed or moved while
/// its pages are populated: its owner drops this first).
pub(crate) struct Populating(Option<std::thread::JoinHandle<()>>);

impl Drop for Populating {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
    }
}

/// The spare room of a list (what pushes will write), as an address range.
pub(crate) fn room<T>(v: &Vec<T>) -> (usize, usize) {
    let size = std::mem::size_of::<T>();
    let start = v.as_ptr() as usize + v.len() * size;
    (start, (v.capacity() - v.len()) * size)
}

/// The room of a list for `n` more elements at most (a list shared by
/// many bodies, as a run's events: only what this one will write).
pub(crate) fn room_for<T>(v: &Vec<T>, n: usize) -> (usize, usize) {
    let (start, len) = room(v);
    (start, len.min(n.saturating_mul(std::mem::size_of::<T>())))
}

/// Starts faulting in `ranges` (address, bytes) on another thread.
pub(crate) fn beside(ranges: &[(usize, usize)]) -> Populating {
    let ranges: Vec<(usize, usize)> = ranges
        .iter()
        .copied()
        .filter(|(_, len)| *len >= MIN_RANGE_BYTES)
        .collect();
    let total: usize = ranges.iter().map(|(_, len)| len).sum();
    if total < MIN_BYTES || !cfg!(target_os = "linux") {
        return Populating(None);
    }
    let h = std::thread::Builder::new()
        .name("populate".into())
        .spawn(move || {
            for (start, len) in ranges {
                populate(start, len);
            }
        });
    Populating(h.ok())
}

#[cfg(target_os = "linux")]
fn populate(start: usize, len: usize) {
    const PAGE: usize = 4096;
    // Whole pages inside the range (the ends fault as they are written).
    let first = start.div_ceil(PAGE) * PAGE;
    let end = (start + len) / PAGE * PAGE;
    if end <= first {
        return;
    }
    // SAFETY: the range lies within a live allocation of the caller's (its
    // owner joins this thread before freeing it). MADV_POPULATE_WRITE
    // faults its pages in without changing their contents; a refusal
    // (an older kernel: EINVAL) leaves the pages to fault as written.
    unsafe {
        libc::madvise(
            first as *mut libc::c_void,
            end - first,
            libc::MADV_POPULATE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn populate(_start: usize, _len: usize) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Page faults this thread has taken (`/proc/thread-self/stat`, field
    /// 10).
    fn faults() -> u64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
        // Fields after the command name, which is in parentheses.
        let rest = stat.rsplit(')').next().unwrap_or("");
        rest.split_whitespace()
            .nth(7)
            .and_then(|f| f.parse().ok())
            .unwrap_or(0)
    }

    /// Faults taken writing `n` bytes into a fresh list, its room populated
    /// beside first or not.
    fn writing_faults(n: usize, populated: bool) -> u64 {
        let mut v: Vec<u8> = Vec::with_capacity(n);
        if populated {
            drop(beside(&[room(&v)]));
        }
        let before = faults();
        v.resize(n, 1);
        let after = faults();
        assert!(v.iter().all(|b| *b == 1));
        after - before
    }

    /// The room a list is still to be written in, populated on another
    /// thread, is written without faulting (the real kernel: the writer
    /// takes a few faults at the range's ends at most, where it took one a
    /// page).
    #[test]
    fn a_populated_room_is_written_without_faults() {
        let n = 8 << 20;
        let cold = writing_faults(n, false);
        let warm = writing_faults(n, true);
        // Without huge pages (this machine: `madvise` mode, which the
        // allocator does not ask for), 8 MiB is 2048 pages.
        if cold < 256 {
            eprintln!("skipped: writing 8 MiB took only {cold} faults (huge pages?)");
            return;
        }
        assert!(warm * 16 < cold, "populated: {warm} faults, not: {cold}");
    }

    /// The room of a list: past its elements, up to its capacity.
    #[test]
    fn room_is_the_unwritten_capacity() {
        let mut v: Vec<u64> = Vec::with_capacity(10);
        v.extend([1, 2, 3]);
        let (start, len) = room(&v);
        assert_eq!(start, v.as_ptr() as usize + 3 * 8);
        assert_eq!(len, (v.capacity() - 3) * 8);
        // Small rooms are left alone: no thread.
        assert!(beside(&[(start, len)]).0.is_none());
    }
}
