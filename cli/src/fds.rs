//! Whether standard output was open when the process started.
//!
//! Rust's runtime reopens a closed stdout on /dev/null before `main` runs,
//! after which every write "succeeds": `dustrun prog.dir >&-` would report
//! effects as realized that nobody can ever see. A constructor, which runs
//! before the runtime's start-up, looks at the descriptor first.

use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static PROBE: extern "C" fn() = probe;

#[cfg(target_os = "linux")]
extern "C" fn probe() {
    // SAFETY: F_GETFD only reads the descriptor's flags; it touches no memory.
    if unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1 {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

/// Standard output was closed when dustrun started (and now writes to
/// /dev/null).
pub fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}
