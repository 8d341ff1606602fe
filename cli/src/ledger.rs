//! The append-only ledger that realizes `observe` and `seal` effects
//! (§6.6: irreversible, so it must never be silently torn or forked).
//!
//! One JSON line per record. Each record carries the sha256 of the record
//! before it (`prev`, all zeros for the first) and its own `hash`, computed
//! over the record's canonical JSON without `hash`. A record is appended with
//! one `write` under an exclusive advisory lock and synced before the next:
//! concurrent runs interleave whole records and extend one chain.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// `prev` of the first record.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// A record's line is bounded (payloads are bounded by the engine's value
/// budget); a longer line is not a record.
const MAX_LINE: u64 = 256 * 1024 * 1024;

/// What a record says, in hashing order.
#[derive(Serialize)]
struct Body<'a> {
    n: u64,
    run: &'a str,
    tick: u64,
    proc: &'a str,
    kind: &'a str,
    payload: &'a str,
    prev: &'a str,
}

/// A record as read back.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    n: u64,
    run: String,
    tick: u64,
    proc: String,
    kind: String,
    payload: String,
    prev: String,
    hash: String,
}

/// The line for a record, and its hash.
fn line(b: &Body<'_>) -> (Vec<u8>, String) {
    let body = serde_json::to_string(b).unwrap_or_default();
    let hash = semantics::sha256(body.as_bytes());
    // `{...,"prev":"…"}` + `,"hash":"…"}`: the body is an object, so its last
    // byte is the closing brace.
    let mut out = body.into_bytes();
    out.pop();
    out.extend_from_slice(format!(",\"hash\":\"{hash}\"}}\n").as_bytes());
    (out, hash)
}

/// Why a ledger is not a valid chain: the first bad record (1-based) and
/// what is wrong with it.
#[derive(Debug)]
pub struct BadRecord {
    pub record: u64,
    pub why: String,
}

/// Failure to use a ledger.
#[derive(Debug)]
pub enum LedgerError {
    Io(std::io::Error),
    Bad(BadRecord),
}

impl From<std::io::Error> for LedgerError {
    fn from(e: std::io::Error) -> Self {
        LedgerError::Io(e)
    }
}

/// The verified head of a chain.
#[derive(Clone)]
struct Chain {
    count: u64,
    last: String,
}

impl Chain {
    fn new() -> Chain {
        Chain {
            count: 0,
            last: GENESIS.to_string(),
        }
    }

    /// Read records from `r` to its end, checking each extends the chain.
    /// Returns the bytes consumed.
    fn feed(&mut self, r: impl Read) -> Result<u64, LedgerError> {
        let mut r = BufReader::new(r);
        let mut buf = Vec::new();
        let mut consumed = 0u64;
        loop {
            buf.clear();
            let n = (&mut r).take(MAX_LINE).read_until(b'\n', &mut buf)?;
            if n == 0 {
                return Ok(consumed);
            }
            let record = self.count + 1;
            let bad = |why: String| LedgerError::Bad(BadRecord { record, why });
            if buf.last() != Some(&b'\n') {
                return Err(bad(if n as u64 == MAX_LINE {
                    format!("longer than {MAX_LINE} bytes")
                } else {
                    "cut short (no end of line)".into()
                }));
            }
            let rec: Record = serde_json::from_slice(&buf)
                .map_err(|e| bad(format!("is not a ledger record ({e})")))?;
            if rec.n != record {
                return Err(bad(format!("is numbered {}", rec.n)));
            }
            if rec.prev != self.last {
                return Err(bad(format!(
                    "has `prev` {}, but the record before it hashes to {}",
                    rec.prev, self.last
                )));
            }
            let (canonical, hash) = line(&Body {
                n: rec.n,
                run: &rec.run,
                tick: rec.tick,
                proc: &rec.proc,
                kind: &rec.kind,
                payload: &rec.payload,
                prev: &rec.prev,
            });
            if hash != rec.hash {
                return Err(bad(format!(
                    "says `hash` {}, but its contents hash to {hash}",
                    rec.hash
                )));
            }
            // Only the exact bytes dustrun writes: a record re-spaced,
            // re-escaped or with its keys reordered is not the one hashed.
            if canonical != buf {
                return Err(bad("is not in the ledger's canonical form".into()));
            }
            self.count = record;
            self.last = hash;
            consumed += n as u64;
        }
    }
}

/// A ledger is a regular file (or does not exist yet): a device or a pipe
/// cannot be read back, so its chain could never be verified.
fn regular(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )),
        _ => Ok(()),
    }
}

/// Check a ledger's whole chain; the number of records.
pub fn verify(path: &Path) -> Result<u64, LedgerError> {
    regular(path)?;
    let file = File::open(path)?;
    // A shared lock: an append in progress is never read half-written.
    file.lock_shared()?;
    let mut chain = Chain::new();
    let r = chain.feed(&file);
    let _ = file.unlock();
    r.map(|_| chain.count)
}

/// An open ledger whose chain verified, ready to append to.
pub struct Ledger {
    file: File,
    /// Bytes of the file known to be verified records.
    offset: u64,
    chain: Chain,
}

impl Ledger {
    /// Open (creating it when missing) and verify the chain: a ledger that
    /// does not verify is refused before any effect is realized.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        regular(path)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)?;
        let mut ledger = Ledger {
            file,
            offset: 0,
            chain: Chain::new(),
        };
        ledger.file.lock()?;
        let r = ledger.catch_up();
        let _ = ledger.file.unlock();
        r.map(|_| ledger)
    }

    /// Verify what other runs appended since we last looked.
    fn catch_up(&mut self) -> Result<(), LedgerError> {
        // Append-only: a ledger shorter than what we verified was cut by
        // someone else, and appending to it would fork the chain.
        if self.file.metadata()?.len() < self.offset {
            return Err(LedgerError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the ledger was truncated while this run appended to it",
            )));
        }
        self.file.seek(SeekFrom::Start(self.offset))?;
        let mut chain = self.chain.clone();
        let n = chain.feed(&self.file)?;
        self.offset += n;
        self.chain = chain;
        Ok(())
    }

    /// Append one record: the effect is realized once this returns `Ok`.
    /// On failure, whether the record reached the file: written but not
    /// synced (or not unlocked) still counts as realized.
    pub fn append(
        &mut self,
        run: &str,
        tick: u64,
        proc: &str,
        kind: &str,
        payload: &str,
    ) -> Result<(), AppendError> {
        self.file.lock().map_err(AppendError::not_written)?;
        let r = self.append_locked(run, tick, proc, kind, payload);
        let u = self.file.unlock();
        match (r, u) {
            (Err(e), _) => Err(e),
            (Ok(()), Err(e)) => Err(AppendError {
                written: true,
                error: e,
            }),
            (Ok(()), Ok(())) => Ok(()),
        }
    }

    fn append_locked(
        &mut self,
        run: &str,
        tick: u64,
        proc: &str,
        kind: &str,
        payload: &str,
    ) -> Result<(), AppendError> {
        self.catch_up()
            .map_err(|e| match e {
                LedgerError::Io(e) => e,
                LedgerError::Bad(b) => std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "another writer left record {} that does not verify: it {}",
                        b.record, b.why
                    ),
                ),
            })
            .map_err(AppendError::not_written)?;
        let (bytes, hash) = line(&Body {
            n: self.chain.count + 1,
            run,
            tick,
            proc,
            kind,
            payload,
            prev: &self.chain.last,
        });
        if let Err(e) = self.file.write_all(&bytes) {
            // A record cut short (full disk, file size limit) is not a
            // record: take the torn bytes back so the chain stays valid and
            // the failed effect is not half-realized. Never grow the file.
            if self.file.metadata().is_ok_and(|m| m.len() > self.offset) {
                let _ = self.file.set_len(self.offset);
            }
            return Err(AppendError::not_written(e));
        }
        self.offset += bytes.len() as u64;
        self.chain.count += 1;
        self.chain.last = hash;
        self.file.sync_data().map_err(|e| AppendError {
            written: true,
            error: e,
        })
    }
}

/// A failed append.
#[derive(Debug)]
pub struct AppendError {
    /// The record is in the file (the effect happened) although the append
    /// did not complete (sync or unlock failed).
    pub written: bool,
    pub error: std::io::Error,
}

impl AppendError {
    fn not_written(error: std::io::Error) -> AppendError {
        AppendError {
            written: false,
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("dustrun-ledger-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&d);
        d
    }

    #[test]
    fn appended_records_verify_and_edits_are_found() {
        let p = temp("edit");
        let mut l = Ledger::open(&p).unwrap();
        for i in 0..3 {
            l.append("sha256:r", i, "F::K::main", "seal", &format!("v{i}"))
                .unwrap();
        }
        drop(l);
        assert_eq!(verify(&p).unwrap(), 3);
        // Reopening continues the chain.
        Ledger::open(&p)
            .unwrap()
            .append("sha256:r", 9, "F::K::main", "observe", "x")
            .unwrap();
        assert_eq!(verify(&p).unwrap(), 4);
        let text = std::fs::read_to_string(&p).unwrap();
        let edited = text.replacen("\"v1\"", "\"v7\"", 1);
        std::fs::write(&p, edited).unwrap();
        match verify(&p) {
            Err(LedgerError::Bad(b)) => assert_eq!(b.record, 2, "{}", b.why),
            other => panic!("{other:?}"),
        }
        assert!(matches!(Ledger::open(&p), Err(LedgerError::Bad(_))));
        // Removing a record breaks the next one's `prev`.
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&p, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
        match verify(&p) {
            Err(LedgerError::Bad(b)) => assert_eq!(b.record, 2, "{}", b.why),
            other => panic!("{other:?}"),
        }
        // A record cut short.
        std::fs::write(&p, &text[..text.len() - 5]).unwrap();
        match verify(&p) {
            Err(LedgerError::Bad(b)) => assert_eq!(b.record, 4, "{}", b.why),
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn a_ledger_cut_under_a_writer_stops_it() {
        let p = temp("cut");
        let mut l = Ledger::open(&p).unwrap();
        l.append("sha256:r", 1, "p", "seal", "a").unwrap();
        l.append("sha256:r", 2, "p", "seal", "b").unwrap();
        std::fs::write(&p, "").unwrap();
        let e = l.append("sha256:r", 3, "p", "seal", "c").unwrap_err();
        assert!(!e.written);
        assert!(e.error.to_string().contains("truncated"), "{}", e.error);
        assert_eq!(
            std::fs::read(&p).unwrap(),
            b"",
            "nothing appended to a cut ledger"
        );
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn only_the_canonical_bytes_verify() {
        let p = temp("canon");
        Ledger::open(&p)
            .unwrap()
            .append("sha256:r", 1, "p", "seal", "a")
            .unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        for variant in [
            text.replace('\n', "\r\n"),
            text.replacen(",\"run\"", ", \"run\"", 1),
        ] {
            std::fs::write(&p, variant).unwrap();
            match verify(&p) {
                Err(LedgerError::Bad(b)) => assert_eq!(b.record, 1),
                other => panic!("{other:?}"),
            }
        }
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn a_device_is_not_a_ledger() {
        assert!(matches!(
            verify(Path::new("/dev/null")),
            Err(LedgerError::Io(_))
        ));
        assert!(matches!(
            Ledger::open(Path::new("/dev/full")),
            Err(LedgerError::Io(_))
        ));
    }

    #[test]
    fn two_writers_extend_one_chain() {
        let p = temp("two");
        let mut a = Ledger::open(&p).unwrap();
        let mut b = Ledger::open(&p).unwrap();
        a.append("sha256:a", 1, "p", "seal", "a1").unwrap();
        b.append("sha256:b", 1, "p", "seal", "b1").unwrap();
        a.append("sha256:a", 2, "p", "seal", "a2").unwrap();
        assert_eq!(verify(&p).unwrap(), 3);
        let _ = std::fs::remove_file(&p);
    }
}
