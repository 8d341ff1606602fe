//! Expressions parsed beside the reading of a large file, for speed: the
//! hand-written readers (`fast_load.rs` for JSON DIR, `fast_text.rs` for
//! textual DIR) record each expression where they meet it, give its
//! statement the root it will have (its batch's arena, its place in the
//! batch: `ExprRoot::listed`), and queue batches of them for a second
//! thread. When the queue is full, and once the file is read, the reading
//! thread parses queued batches too. Each batch is parsed into an arena of
//! its own, which lists its expressions' roots in the order met and
//! becomes one of the program's at the end (no node is copied, and no
//! statement visited again).
//! The program is the same as when each expression is parsed where it is
//! met; any failure gives up as the reader would have (and the reference
//! loader decides).

use crate::expr::parse_expr;
use crate::json::JStr;
use crate::model::*;
use crate::span::Span;

/// Reads a file with `read`, its expressions parsed beside. The second
/// thread does `first` before it parses queued expressions (`read` is
/// given a `Deferred` only when that thread runs).
pub(crate) fn load<'s>(
    first: &(dyn Fn() + Sync),
    read: impl for<'q> FnOnce(Option<Deferred<'s, 'q>>) -> Option<Program>,
) -> Option<Program> {
    let queue = Queue::default();
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("dir-exprs".into())
            .stack_size(EXPR_STACK_BYTES)
            .spawn_scoped(s, || {
                first();
                queue.work();
            });
        let Ok(worker) = worker else {
            // No thread (resource limits): everything on this one.
            return read(None);
        };
        let program = read(Some(Deferred {
            batch: Vec::with_capacity(BATCH),
            strings: 0,
            queue: &queue,
            sent: 0,
        }));
        if program.is_none() {
            // Given up: what is queued is not worth parsing.
            queue.fail();
        }
        queue.work();
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
        let mut program = program?;
        add_batches(&mut program, queue.parsed()?)?;
        Some(program)
    })
}

/// A reader's program with its expressions parsed in place and beside, as
/// `Debug` text (`None` where it gives up): the two must be equal. For the
/// tests and fuzz targets that check so.
pub(crate) fn both_ways(
    load_beside: fn(&str, bool) -> Option<Program>,
    src: &str,
) -> (Option<String>, Option<String>) {
    let show = |p: Option<Program>| p.map(|p| format!("{p:?}"));
    (show(load_beside(src, false)), show(load_beside(src, true)))
}

/// Asserts `both_ways` agree; whether the reader loaded `src`.
#[cfg(test)]
pub(crate) fn same_both_ways(load_beside: fn(&str, bool) -> Option<Program>, src: &str) -> bool {
    let (here, beside) = both_ways(load_beside, src);
    assert_eq!(here, beside, "{src}");
    here.is_some()
}

/// A file of several batches (`file` of `body`) loads the same both ways,
/// and with each of `bad` put in a late batch, both ways refuse it.
#[cfg(test)]
pub(crate) fn batches_agree(
    load_beside: fn(&str, bool) -> Option<Program>,
    file: impl Fn(&[String]) -> String,
    mut body: Vec<String>,
    bad: &[&str],
) {
    assert!(body.len() > 2 * BATCH, "{} statements", body.len());
    assert!(same_both_ways(load_beside, &file(&body)), "the file loads");
    let late = body.len() - 4;
    for b in bad {
        body[late] = (*b).to_string();
        assert!(!same_both_ways(load_beside, &file(&body)), "{b}");
    }
}

/// The parsing thread's stack. For a JSON DIR expression string the fast
/// parser cannot read, pest decides on this thread (textual DIR's reader
/// gives up instead): an expression nests at most `MAX_EXPR_NESTING` (64)
/// deep, and unoptimised pest needs ~90 KiB a level, so 6 MiB; this is a
/// margin above that, and only reserved.
const EXPR_STACK_BYTES: usize = 32 * 1024 * 1024;

/// Batches waiting in the queue before the reading thread parses one
/// itself: the waiting strings (and decoded copies of escaped ones) stay
/// within a few batches, however far ahead the reader is.
pub(crate) const QUEUE_CAP: usize = 4;

/// Inputs from this size on have their expressions parsed beside the
/// reading of the file (below it a thread costs more than it saves).
pub(crate) const EXPRS_BESIDE_BYTES: usize = 1 << 20;

/// Expression strings queued at a time (a call statement's arguments
/// each count: the strings waiting stay within a few batches).
pub(crate) const BATCH: usize = 1024;

/// An expression string not yet parsed, with what maps its offsets to
/// file offsets. Small (32 bytes: offsets in 32 bits, the rare kinds
/// boxed): the reading thread writes one for each expression of the file,
/// and the parsing thread reads it from another core's cache.
pub(crate) enum Pending<'s> {
    /// A JSON string without escapes: the text and the file offset of its
    /// first byte.
    Plain(&'s str, u32),
    /// A JSON string with escapes, decoded (offsets mapped back).
    Escaped(Box<JStr>),
    /// Textual DIR: the expression from `at` up to `end` (its `;`), inside
    /// `depth` open brackets of the nesting `limit` (both at most
    /// `limits::MAX_FILE_NESTING`).
    Text {
        src: &'s str,
        at: u32,
        end: u32,
        depth: u16,
        limit: u16,
    },
    /// JSON DIR's call statement.
    Call(Box<PendingCall<'s>>),
}

const _: () = assert!(std::mem::size_of::<Pending<'static>>() <= 32);

/// JSON DIR's call statement: its target, its arguments' strings, and the
/// statement's span (the call's node is in its arguments' arena).
pub(crate) struct PendingCall<'s> {
    pub(crate) target: PathRef,
    pub(crate) args: Vec<Pending<'s>>,
    pub(crate) span: Span,
}

impl Pending<'_> {
    /// The expression strings it holds.
    fn strings(&self) -> usize {
        match self {
            Pending::Call(c) => c.args.len().max(1),
            _ => 1,
        }
    }

    /// Parses into `ex`; None (and nothing in `ex`) where it gives up.
    pub(crate) fn parse(&self, ex: &mut Exprs) -> Option<ExprId> {
        match self {
            Pending::Plain(t, base) => {
                let (base, len) = (*base as usize, t.len());
                parse_expr(t, &|i: usize| base + i.min(len), ex).ok()
            }
            Pending::Escaped(j) => parse_expr(&j.value, &|i| j.file_offset(i), ex).ok(),
            Pending::Text {
                src,
                at,
                end,
                depth,
                limit,
            } => crate::fast_expr::parse_exactly(
                src,
                *at as usize,
                *end as usize,
                usize::from(*depth),
                usize::from(*limit),
                ex,
            ),
            Pending::Call(c) => ex.or_undo(|ex| {
                let ids: Vec<ExprId> = c.args.iter().map(|a| a.parse(ex)).collect::<Option<_>>()?;
                Some(ex.call(c.target.text(), c.target.span, ids, c.span))
            }),
        }
    }
}

/// A batch parsed: its arena, each expression's root listed in order.
type Parsed = Exprs;

/// The program's arena of the first batch: the reading thread's own arena
/// (what it parses in place) is the program's first, the arena of what
/// was read ahead (`fast_load::Ahead`, empty if nothing was) the second,
/// and the batches follow in the order met.
const FIRST_BATCH: usize = 2;

/// The arena of the statements read ahead on the second thread.
pub(crate) const AHEAD_ARENA: usize = 1;

/// Batches of expression strings waiting to be parsed, each with its
/// number (the order in which it was met), shared by the two threads, and
/// the batches parsed so far.
#[derive(Default)]
pub(crate) struct Queue<'s> {
    state: std::sync::Mutex<QueueState<'s>>,
    ready: std::sync::Condvar,
    /// An expression did not parse, or the reader gave up: nothing more is
    /// parsed, and the fast reader gives up.
    failed: std::sync::atomic::AtomicBool,
    /// What the last batch parsed held: the room the next one starts with
    /// (its arena grew by copies, and most batches are alike).
    last: std::sync::Mutex<Option<crate::exprs::Mark>>,
}

#[derive(Default)]
struct QueueState<'s> {
    batches: std::collections::VecDeque<(usize, Vec<Pending<'s>>)>,
    /// Batches queued so far (each is parsed, or the queue fails).
    queued: usize,
    /// No more batches will come.
    closed: bool,
    parsed: Vec<(usize, Parsed)>,
}

impl<'s> Queue<'s> {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState<'s>> {
        // Nothing panics while holding the lock; a poisoned state is whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn failed(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn fail(&self) {
        self.failed
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Queues a batch; when the queue is full, parses the oldest batch here
    /// first. None once anything failed.
    fn put(&self, n: usize, batch: Vec<Pending<'s>>) -> Option<()> {
        if self.failed() {
            return None;
        }
        let full = {
            let mut state = self.lock();
            state.batches.push_back((n, batch));
            state.queued += 1;
            (state.batches.len() > QUEUE_CAP)
                .then(|| state.batches.pop_front())
                .flatten()
        };
        self.ready.notify_one();
        match full {
            Some(b) => self.parse(b),
            None => Some(()),
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// The next batch; None once the queue is closed and empty.
    fn take(&self) -> Option<(usize, Vec<Pending<'s>>)> {
        let mut state = self.lock();
        loop {
            if let Some(b) = state.batches.pop_front() {
                return Some(b);
            }
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Parses one batch into the parsed ones; None (and the queue failed)
    /// if an expression of it does not parse.
    fn parse(&self, (n, batch): (usize, Vec<Pending<'s>>)) -> Option<()> {
        if self.failed() {
            return None;
        }
        let like = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        let mut ex = like.map_or_else(Exprs::default, Exprs::with_room_of);
        let roots: Option<Vec<ExprId>> = batch.iter().map(|p| p.parse(&mut ex)).collect();
        let Some(roots) = roots else {
            self.fail();
            return None;
        };
        ex.list_roots(roots);
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(ex.mark());
        ex.trim();
        self.lock().parsed.push((n, ex));
        Some(())
    }

    /// Parses batches until the queue is closed and empty, or anything
    /// failed.
    fn work(&self) {
        while let Some(b) = self.take() {
            if self.parse(b).is_none() {
                return;
            }
        }
    }

    /// Every parsed batch in the order met; None if anything failed (or
    /// a batch queued is missing).
    pub(crate) fn parsed(&self) -> Option<Vec<Parsed>> {
        if self.failed() {
            return None;
        }
        let (mut batches, queued) = {
            let mut state = self.lock();
            (std::mem::take(&mut state.parsed), state.queued)
        };
        batches.sort_unstable_by_key(|(n, _)| *n);
        let whole =
            batches.len() == queued && batches.iter().enumerate().all(|(i, (n, _))| i == *n);
        whole.then(|| batches.into_iter().map(|(_, b)| b).collect())
    }
}

/// The expressions met and not yet queued. Dropping it closes the queue,
/// whether the reading ended or gave up, so no thread waits for more.
pub(crate) struct Deferred<'s, 'q> {
    batch: Vec<Pending<'s>>,
    /// The expression strings `batch` holds.
    strings: usize,
    queue: &'q Queue<'s>,
    /// Batches queued so far.
    sent: usize,
}

impl<'s> Deferred<'s, '_> {
    /// Queues an expression; the root it will have once its batch is
    /// parsed (`add_batches`). None once an expression failed to parse: the
    /// fast reader gives up.
    pub(crate) fn defer(&mut self, p: Pending<'s>) -> Option<ExprRoot> {
        let root = ExprRoot::listed(FIRST_BATCH + self.sent, self.batch.len());
        self.push(p)?;
        Some(root)
    }

    fn push(&mut self, p: Pending<'s>) -> Option<()> {
        self.strings += p.strings();
        self.batch.push(p);
        if self.strings >= BATCH {
            self.strings = 0;
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            self.queue.put(self.sent, full)?;
            self.sent += 1;
        }
        Some(())
    }

    /// Queues the last batch (the queue closes as this is dropped).
    pub(crate) fn finish(mut self) -> Option<()> {
        if !self.batch.is_empty() {
            let last = std::mem::take(&mut self.batch);
            self.queue.put(self.sent, last)?;
        }
        Some(())
    }
}

impl Drop for Deferred<'_, '_> {
    fn drop(&mut self) {
        self.queue.close();
    }
}

/// Adds the parsed batches to the program's arenas, where the roots its
/// statements were given (`Deferred::defer`) find them. None where the
/// program is not as the roots assume (arenas of its own beyond the
/// reader's and the reading ahead's, which precede the batches). Each
/// batch was parsed whole or the queue failed, and `Queue::parsed` finds
/// none missing.
fn add_batches(p: &mut Program, batches: Vec<Parsed>) -> Option<()> {
    if p.exprs.len() == AHEAD_ARENA {
        p.exprs.push(Exprs::default());
    }
    if p.exprs.len() != FIRST_BATCH {
        return None;
    }
    p.exprs.extend(batches);
    Some(())
}

#[cfg(test)]
mod tests {
    /// A call statement's arguments count towards a batch as strings: the
    /// strings waiting stay within a few batches however they are grouped
    /// (3 000 calls of 300 arguments each held 60 MB more than their
    /// strings queued one by one).
    #[test]
    fn a_call_statement_counts_its_arguments() {
        use super::{Deferred, Pending, Queue, BATCH};
        let q = Queue::default();
        let mut d = Deferred {
            batch: Vec::new(),
            strings: 0,
            queue: &q,
            sent: 0,
        };
        let per = 300;
        let target = crate::load_json::parse_path("f", crate::Span::default()).unwrap();
        for _ in 0..BATCH.div_ceil(per) {
            let args = (0..per).map(|_| Pending::Plain("1", 0)).collect();
            d.defer(Pending::Call(Box::new(super::PendingCall {
                target: target.clone(),
                args,
                span: crate::Span::default(),
            })))
            .unwrap();
        }
        assert_eq!(d.sent, 1, "{} strings held", d.strings);
        assert!(d.batch.is_empty());
    }

    /// The queue without a second thread: a full queue has its oldest
    /// batch parsed by the one who queues; the batches come back in the
    /// order met whoever parsed them; a failure stops everything.
    #[test]
    fn the_queue_keeps_order_and_stops_at_a_failure() {
        use super::{ExprRoot, Pending, Queue, QUEUE_CAP};
        let texts: Vec<String> = (0..QUEUE_CAP + 3).map(|i| format!("{i} Add 1")).collect();
        let q = Queue::default();
        for (n, t) in texts.iter().enumerate() {
            q.put(n, vec![Pending::Plain(t, 10 * n as u32)]).unwrap();
        }
        // The oldest batches were parsed as the queue overflowed.
        assert_eq!(q.lock().parsed.len(), 3);
        assert_eq!(q.lock().batches.len(), QUEUE_CAP);
        q.close();
        q.work();
        // As a program holds them: after the reader's own arena and the
        // arena read ahead, each batch's root found by its number and place.
        let mut arenas = vec![crate::exprs::Exprs::default(); super::FIRST_BATCH];
        arenas.extend(q.parsed().unwrap());
        let got: Vec<String> = (0..texts.len())
            .map(|n| crate::exprs::root_in(&arenas, ExprRoot::listed(super::FIRST_BATCH + n, 0)))
            .map(|e| format!("{}@{}", crate::print::expr_to_string(e), e.span().start()))
            .collect();
        let want: Vec<String> = (0..texts.len())
            .map(|n| format!("{n} Add 1@{}", 10 * n))
            .collect();
        assert_eq!(got, want);

        let bad = Queue::default();
        bad.put(0, vec![Pending::Plain("1 Add 2", 0)]).unwrap();
        bad.put(1, vec![Pending::Plain("1 Add", 0)]).unwrap();
        bad.close();
        bad.work();
        assert!(bad.parsed().is_none());
        assert!(bad.put(2, vec![Pending::Plain("1", 0)]).is_none());

        // Batches of one expression each, numbered as given, all parsed.
        let parsed = |numbers: [usize; 2]| {
            let q = Queue::default();
            for n in numbers {
                q.put(n, vec![Pending::Plain("1", 0)]).unwrap();
            }
            q.close();
            q.work();
            q
        };
        // A batch never parsed (its number skipped): no program is made of
        // the others, whose roots would be taken for its.
        assert!(parsed([0, 2]).parsed().is_none());
        // The last batch queued missing: the others are not enough.
        let short = parsed([0, 1]);
        short.lock().parsed.retain(|(n, _)| *n == 0);
        assert!(short.parsed().is_none());
        assert!(parsed([0, 1]).parsed().is_some_and(|b| b.len() == 2));
    }
}
