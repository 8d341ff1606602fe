//! Helpers shared by the end-to-end tests.

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
