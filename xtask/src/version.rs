//! `cargo xtask version X.Y.Z`: one version for everything.
//!
//! The version lives in one place, `[workspace.package] version` of the root
//! Cargo.toml; every crate inherits it and the Python package reads it from
//! Cargo (maturin, `dynamic = ["version"]`). What cannot inherit it is
//! rewritten here: the pins of the workspace's own crates, the npm package
//! and its platform packages (and the main package's optionalDependencies on
//! them), and CHANGELOG.md's "Unreleased" section.

use std::path::Path;

use serde_json::Value;

use crate::root;

/// The version every package carries now.
pub fn current() -> Result<String, String> {
    let text = read(&root().join("Cargo.toml"))?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if in_package {
            if let Some(rest) = line.strip_prefix("version") {
                let value = rest.trim_start().trim_start_matches('=').trim();
                return Ok(value.trim_matches('"').to_owned());
            }
        }
    }
    Err("Cargo.toml has no [workspace.package] version".into())
}

/// Whether `v` is a semantic version `X.Y.Z` with an optional
/// `-prerelease` (dot-separated alphanumerics).
fn is_semver(v: &str) -> bool {
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let numbers_ok = parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        });
    let pre_ok = pre.is_none_or(|p| {
        !p.is_empty()
            && p.split('.')
                .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
    });
    numbers_ok && pre_ok
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    eprintln!(
        "version: updated {}",
        path.strip_prefix(root()).unwrap_or(path).display()
    );
    Ok(())
}

/// The npm manifests: the main package and every platform package.
pub fn npm_manifests() -> Vec<std::path::PathBuf> {
    let node = root().join("bindings/node");
    let mut out = vec![node.join("package.json")];
    if let Ok(entries) = std::fs::read_dir(node.join("npm")) {
        let mut platform: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path().join("package.json"))
            .filter(|p| p.exists())
            .collect();
        platform.sort();
        out.extend(platform);
    }
    out
}

pub fn run(args: &[String]) -> Result<(), String> {
    let [new] = args else {
        return Err(format!(
            "usage: cargo xtask version X.Y.Z (now {})",
            current().unwrap_or_default()
        ));
    };
    if !is_semver(new) {
        return Err(format!(
            "{new:?} is not a version of the form X.Y.Z or X.Y.Z-pre"
        ));
    }
    let old = current()?;
    if *new == old {
        return Err(format!("the version is already {old}"));
    }

    // Cargo: the workspace version and the pins of the workspace's own crates.
    let cargo_toml = root().join("Cargo.toml");
    let text = read(&cargo_toml)?;
    let mut in_package = false;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_package = trimmed == "[workspace.package]";
        }
        let line = if in_package && trimmed.starts_with("version") {
            format!("version = \"{new}\"")
        } else if trimmed.starts_with("pockyt-") && line.contains("path = ") {
            line.replace(
                &format!("version = \"={old}\""),
                &format!("version = \"={new}\""),
            )
        } else {
            line.to_owned()
        };
        out.push_str(&line);
        out.push('\n');
    }
    write(&cargo_toml, &out)?;

    // npm: the main package, its optionalDependencies on the platform
    // packages, and the platform packages themselves.
    for path in npm_manifests() {
        let mut manifest: Value =
            serde_json::from_str(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
        manifest["version"] = Value::String(new.clone());
        if let Some(Value::Object(deps)) = manifest.get_mut("optionalDependencies") {
            for (name, version) in deps.iter_mut() {
                if name.starts_with("pockyt-payouts-") {
                    *version = Value::String(new.clone());
                }
            }
        }
        let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
        write(&path, &format!("{text}\n"))?;
    }

    // The npm lockfile's own version fields, and the version the generated
    // loader (native.js) expects of the platform packages.
    let node = root().join("bindings/node");
    let lock_path = node.join("package-lock.json");
    if lock_path.exists() {
        let mut lock: Value = serde_json::from_str(&read(&lock_path)?)
            .map_err(|e| format!("{}: {e}", lock_path.display()))?;
        lock["version"] = Value::String(new.clone());
        if let Some(own) = lock
            .pointer_mut("/packages/")
            .and_then(Value::as_object_mut)
        {
            own.insert("version".into(), Value::String(new.clone()));
        }
        let text = serde_json::to_string_pretty(&lock).map_err(|e| e.to_string())?;
        write(&lock_path, &format!("{text}\n"))?;
    }
    let loader = node.join("native.js");
    if loader.exists() {
        let text = read(&loader)?;
        write(
            &loader,
            &text.replace(&format!("'{old}'"), &format!("'{new}'")),
        )?;
    }

    // CHANGELOG.md: "Unreleased" becomes this release.
    let changelog = root().join("CHANGELOG.md");
    let text = read(&changelog)?;
    let date = today();
    let heading = format!("## Unreleased\n\n## {new} — {date}");
    let text = if text.contains("## Unreleased") {
        text.replacen("## Unreleased", &heading, 1)
    } else {
        format!("{text}\n{heading}\n")
    };
    write(&changelog, &text)?;

    // Refresh Cargo.lock for the new workspace versions.
    crate::run_cmd("cargo", &["update", "--workspace", "--offline"])
        .or_else(|_| crate::run_cmd("cargo", &["update", "--workspace"]))?;
    eprintln!("version: {old} -> {new}");
    Ok(())
}

/// Today's date (UTC), `YYYY-MM-DD`, without a date crate: civil-from-days.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let days = i64::try_from(secs / 86_400).unwrap_or_default();
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_shapes() {
        for good in ["0.1.0", "1.20.300", "2.0.0-rc.1", "1.0.0-alpha"] {
            assert!(is_semver(good), "{good}");
        }
        for bad in [
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.0.x",
            "v1.0.0",
            "1.0.0-",
            "1.0.0-rc..1",
            "",
        ] {
            assert!(!is_semver(bad), "{bad}");
        }
    }

    #[test]
    fn today_is_a_date() {
        let d = today();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"), "{d}");
    }

    #[test]
    fn the_workspace_has_one_version() {
        let v = current().unwrap();
        assert!(is_semver(&v), "{v}");
        for path in npm_manifests() {
            let manifest: Value = serde_json::from_str(&read(&path).unwrap()).unwrap();
            assert_eq!(manifest["version"], v.as_str(), "{}", path.display());
        }
        let cargo = read(&root().join("Cargo.toml")).unwrap();
        for line in cargo
            .lines()
            .filter(|l| l.starts_with("pockyt-") && l.contains("path = "))
        {
            assert!(line.contains(&format!("version = \"={v}\"")), "{line}");
        }
    }
}
