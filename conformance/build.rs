//! Embeds the corpus (`cases/**`) and its reviewed snapshots
//! (`snapshots/*.snap`) so `dustrun conformance` works from any directory.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    let mut areas: Vec<_> = std::fs::read_dir(&root)
        .expect("conformance/cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    areas.sort();
    for area in areas {
        println!("cargo:rerun-if-changed={}", area.display());
        let mut entries: Vec<_> = std::fs::read_dir(&area)
            .expect("area")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        for f in entries {
            println!("cargo:rerun-if-changed={}", f.display());
            let rel = format!(
                "{}/{}",
                area.file_name().unwrap().to_string_lossy(),
                f.file_name().unwrap().to_string_lossy()
            );
            files.push((rel, f));
        }
    }
    let mut out = String::from("/// Every file of the corpus: (`area/name`, bytes).\npub static CORPUS: &[(&str, &[u8])] = &[\n");
    for (rel, f) in files {
        writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?})),",
            f.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let snaps = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    println!("cargo:rerun-if-changed={}", snaps.display());
    let mut entries: Vec<_> = std::fs::read_dir(&snaps)
        .expect("conformance/snapshots")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "snap"))
        .collect();
    entries.sort();
    out.push_str("/// Every reviewed snapshot: (file name, text).\npub static SNAPSHOTS: &[(&str, &str)] = &[\n");
    for f in entries {
        println!("cargo:rerun-if-changed={}", f.display());
        writeln!(
            out,
            "    ({:?}, include_str!({:?})),",
            f.file_name().unwrap().to_string_lossy(),
            f.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("corpus.rs");
    std::fs::write(dest, out).unwrap();
}
