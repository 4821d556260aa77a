//! `cargo xtask codegen [--check]`: every file that restates the spec,
//! rendered from `spec/payouts.yaml` alone.
//!
//! - the Rust core's HTTP client (progenitor, [`progenitor`]);
//! - everything else through one template per file (minijinja, templates in
//!   `xtask/templates/`), from the [`model`] read once from the spec: the
//!   Rust open enums, operation table and typed client methods, the Python
//!   package's enums, results, sync and async clients and errors, and the
//!   Node package's wrapper, errors and type declarations.
//!
//! Each generated file starts with a line saying so. `--check` renders
//! everything in memory and fails, with a diff, when any checked-in file
//! differs.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::root;

pub mod model;
mod progenitor;
pub mod prove;
mod render;

/// One generated file: its path from the workspace root and its text.
pub struct Output {
    pub path: &'static str,
    pub text: String,
}

pub fn run(args: &[String]) -> Result<(), String> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        [flag] if flag == "--prove-new-operation" => return prove::run(),
        _ => return Err("usage: cargo xtask codegen [--check | --prove-new-operation]".into()),
    };
    let root = root();
    let outputs = generate_at(&root)?;
    if check {
        return check_outputs(&root, &outputs);
    }
    write_outputs(&root, &outputs)
}

/// Every generated file for the spec of the workspace at `root`.
pub fn generate_at(root: &Path) -> Result<Vec<Output>, String> {
    let spec_path = root.join("spec/payouts.yaml");
    let spec_text = std::fs::read_to_string(&spec_path)
        .map_err(|e| format!("reading {}: {e}", spec_path.display()))?;
    generate(&spec_text)
}

/// Every generated file for a spec's text.
pub fn generate(spec_text: &str) -> Result<Vec<Output>, String> {
    let spec: Value =
        serde_yaml::from_str(spec_text).map_err(|e| format!("spec/payouts.yaml: {e}"))?;
    let model = model::read(&spec)?;
    let open_enums: Vec<&str> = model.enums.iter().map(|e| e.name.as_str()).collect();
    let mut outputs = vec![Output {
        path: "crates/core/src/generated.rs",
        text: progenitor::generate(&spec, &open_enums)?,
    }];
    outputs.extend(render::render_all(&model)?);
    Ok(outputs)
}

/// Writes the files that changed.
pub fn write_outputs(root: &Path, outputs: &[Output]) -> Result<(), String> {
    for output in outputs {
        let path: PathBuf = root.join(output.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(output.text.as_str()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        std::fs::write(&path, &output.text)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        eprintln!("codegen: wrote {}", output.path);
    }
    Ok(())
}

fn check_outputs(root: &Path, outputs: &[Output]) -> Result<(), String> {
    let mut stale = Vec::new();
    for output in outputs {
        let current = std::fs::read_to_string(root.join(output.path)).unwrap_or_default();
        if current == output.text {
            continue;
        }
        let diff = similar::TextDiff::from_lines(&current, &output.text);
        eprintln!(
            "{}",
            diff.unified_diff().context_radius(2).header(
                &format!("{} (checked in)", output.path),
                &format!("{} (from spec)", output.path)
            )
        );
        stale.push(output.path);
    }
    if stale.is_empty() {
        eprintln!("codegen: {} generated files are up to date", outputs.len());
        return Ok(());
    }
    Err(format!(
        "stale generated files (run `cargo xtask codegen`): {}",
        stale.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_with_new_operation() -> String {
        let text = std::fs::read_to_string(root().join("spec/payouts.yaml")).unwrap();
        prove::spec_with_new_operation(&text).unwrap()
    }

    fn text<'a>(outputs: &'a [Output], path: &str) -> &'a str {
        &outputs.iter().find(|o| o.path == path).unwrap().text
    }

    /// Adding an operation is a spec change: every surface gets it.
    #[test]
    fn a_new_operation_reaches_every_language() {
        let outputs = generate(&spec_with_new_operation()).unwrap();
        let op = text(&outputs, "crates/core/src/operation/generated.rs");
        assert!(op.contains("BalanceSnapshot"));
        assert!(op.contains("Operation::BalanceSnapshot => \"/v3/payouts/balance-snapshot\""));
        assert!(op.contains("Operation::BalanceSnapshot => \"balance_snapshot\""));
        let core = text(&outputs, "crates/core/src/generated.rs");
        assert!(core.contains("pub fn balance_snapshot(&self)"));
        let py = text(&outputs, "bindings/python/python/pockyt_payouts/_client.py");
        assert_eq!(
            py.matches("def balance_snapshot(").count(),
            2,
            "sync and async"
        );
        assert_eq!(py.matches("async def balance_snapshot(").count(), 1);
        assert!(py.contains("\"balance_snapshot\", params, timeout"));
        let js = text(&outputs, "bindings/node/index.js");
        assert!(js.contains("balanceSnapshot(params, options) {"));
        let dts = text(&outputs, "bindings/node/index.d.ts");
        assert!(dts.contains(
            "balanceSnapshot(params: BalanceParams, options?: CallOptions): Promise<Balance>"
        ));
    }

    /// Every generated file says so in its first line.
    #[test]
    fn every_output_is_marked_generated() {
        let spec = std::fs::read_to_string(root().join("spec/payouts.yaml")).unwrap();
        for output in generate(&spec).unwrap() {
            let first = output.text.lines().next().unwrap_or_default();
            assert!(first.contains("@generated"), "{}: {first}", output.path);
            assert!(
                first.contains("cargo xtask codegen"),
                "{}: {first}",
                output.path
            );
        }
    }
}
