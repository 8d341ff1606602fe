//! Helpers shared by the end-to-end tests.

// Each test crate includes this module and uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (tests run the binary from there).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Run `dustrun` from the repository root.
pub fn dustrun(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dustrun"))
        .current_dir(repo())
        .args(args)
        .output()
        .expect("dustrun runs")
}

/// A scratch directory of one test, removed when the test ends (passed or
/// panicked): every run of the suite used to leave its folders behind.
pub struct Scratch(PathBuf);

impl Scratch {
    /// An empty `dustrun-{suite}-{pid}-{name}` in the system's temp folder.
    pub fn new(suite: &str, name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("dustrun-{suite}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
