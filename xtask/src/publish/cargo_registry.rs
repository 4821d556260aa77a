//! A Cargo registry on 127.0.0.1 that stands in for crates.io: it takes
//! `cargo publish` (the registry web API's `PUT /api/v1/crates/new`) and
//! serves what was published from a sparse index, and sends every other
//! crate's index file and download on to crates.io (a redirect).
//!
//! Why not cargo-http-registry, which takes `cargo publish` too: a crate
//! published to an alternate registry records its dependencies on the
//! workspace's other crates as crates.io dependencies (a path dependency
//! carries no registry), so an install from such a registry looks for
//! `pockyt-payouts-core` on crates.io and fails. A user who configures this
//! registry as their crates.io mirror (`[source.crates-io] replace-with`)
//! resolves every crate through it — ours from here, the rest from
//! crates.io — exactly as the real packages will resolve once published.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// Where crates.io keeps its sparse index and its crate files.
const CRATES_IO_INDEX: &str = "https://index.crates.io";
const CRATES_IO_DOWNLOADS: &str = "https://static.crates.io/crates";
/// The largest `.crate` upload taken (crates.io's own limit is 10 MiB).
const MAX_UPLOAD: usize = 32 << 20;

/// A running registry; it stops with the process.
pub struct CargoRegistry {
    /// The sparse index, as Cargo's configuration names it (`sparse+http://…/index/`).
    pub index_url: String,
}

struct Shared {
    base: String,
    dir: PathBuf,
    /// Serialises publishes, so an index file is never appended to twice at once.
    publishing: Mutex<()>,
}

impl CargoRegistry {
    /// Starts the registry on a port the OS picks, keeping its files in `dir`.
    pub fn start(dir: &Path) -> Result<Self, String> {
        for sub in ["index", "crates"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("creating {}: {e}", dir.join(sub).display()))?;
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| format!("cargo registry: binding 127.0.0.1:0: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let base = format!("http://127.0.0.1:{port}");
        let shared = Arc::new(Shared {
            base: base.clone(),
            dir: dir.to_path_buf(),
            publishing: Mutex::new(()),
        });
        let app = Router::new()
            .route("/index/config.json", get(config))
            .route("/index/{*path}", get(index_file))
            .route("/dl/{name}/{version}", get(download))
            .route("/api/v1/crates/new", put(publish))
            .layer(DefaultBodyLimit::max(MAX_UPLOAD))
            .with_state(shared);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the cargo registry");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)
                    .expect("the cargo registry's listener");
                axum::serve(listener, app).await
            })
        });
        Ok(Self {
            index_url: format!("sparse+{base}/index/"),
        })
    }
}

async fn config(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({
        "dl": format!("{}/dl/{{crate}}/{{version}}", shared.base),
        "api": shared.base,
        "auth-required": false,
    }))
}

/// A crate's index file: ours when it was published here, else crates.io's.
async fn index_file(State(shared): State<Arc<Shared>>, UrlPath(path): UrlPath<String>) -> Response {
    let Some(name) = path.rsplit('/').next().filter(|n| valid_name(n)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read(shared.dir.join("index").join(name.to_lowercase())).await {
        Ok(lines) => ([(header::CONTENT_TYPE, "text/plain")], lines).into_response(),
        Err(_) => redirect(format!("{CRATES_IO_INDEX}/{path}")),
    }
}

async fn download(
    State(shared): State<Arc<Shared>>,
    UrlPath((name, version)): UrlPath<(String, String)>,
) -> Response {
    if !valid_name(&name) || !valid_version(&version) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let file = shared
        .dir
        .join("crates")
        .join(format!("{}-{version}.crate", name.to_lowercase()));
    match tokio::fs::read(file).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/gzip")], bytes).into_response(),
        Err(_) => redirect(format!(
            "{CRATES_IO_DOWNLOADS}/{name}/{name}-{version}.crate"
        )),
    }
}

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

/// `cargo publish`: a little-endian u32 length and the JSON metadata, then
/// a u32 length and the `.crate` file. Appends the version to the crate's
/// index file, as crates.io's index records it.
async fn publish(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match accept(&shared, &body).await {
        Ok(()) => {
            Json(json!({"warnings": {"invalid_categories": [], "invalid_badges": [], "other": []}}))
                .into_response()
        }
        Err(detail) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"errors": [{"detail": detail}]})),
        )
            .into_response(),
    }
}

async fn accept(shared: &Shared, body: &[u8]) -> Result<(), String> {
    let (metadata, rest) = length_prefixed(body).ok_or("the metadata is cut short")?;
    let (crate_file, rest) = length_prefixed(rest).ok_or("the .crate file is cut short")?;
    if !rest.is_empty() {
        return Err("bytes after the .crate file".into());
    }
    let metadata: Value =
        serde_json::from_slice(metadata).map_err(|e| format!("the metadata: {e}"))?;
    let name = metadata["name"]
        .as_str()
        .filter(|n| valid_name(n))
        .ok_or("no valid name")?;
    let version = metadata["vers"]
        .as_str()
        .filter(|v| valid_version(v))
        .ok_or("no valid version")?;
    let entry = index_entry(&metadata, name, version, crate_file);
    let key = name.to_lowercase();

    let _publishing = shared.publishing.lock().await;
    let index = shared.dir.join("index").join(&key);
    let existing = tokio::fs::read_to_string(&index).await.unwrap_or_default();
    let taken = existing
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .any(|line| line["vers"] == version);
    if taken {
        return Err(format!(
            "crate version `{name}@{version}` is already uploaded"
        ));
    }
    let file = shared
        .dir
        .join("crates")
        .join(format!("{key}-{version}.crate"));
    tokio::fs::write(&file, crate_file)
        .await
        .map_err(|e| format!("storing the crate: {e}"))?;
    let line = serde_json::to_string(&entry).map_err(|e| e.to_string())?;
    // A new file renamed over the old: a reader never sees half of it.
    let partial = index.with_extension("partial");
    tokio::fs::write(&partial, format!("{existing}{line}\n"))
        .await
        .map_err(|e| format!("writing the index: {e}"))?;
    tokio::fs::rename(&partial, &index)
        .await
        .map_err(|e| format!("writing the index: {e}"))?;
    eprintln!("cargo registry: published {name} {version}");
    Ok(())
}

fn length_prefixed(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The index line for one version: the publish metadata's fields under the
/// index's names, features using `dep:` / `?/` syntax under `features2`.
fn index_entry(metadata: &Value, name: &str, version: &str, crate_file: &[u8]) -> Value {
    let deps: Vec<Value> = metadata["deps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|dep| {
            let (name, package) = match dep["explicit_name_in_toml"].as_str() {
                Some(alias) => (json!(alias), dep["name"].clone()),
                None => (dep["name"].clone(), Value::Null),
            };
            json!({
                "name": name,
                "req": dep["version_req"],
                "features": dep["features"],
                "optional": dep["optional"],
                "default_features": dep["default_features"],
                "target": dep["target"],
                "kind": dep["kind"],
                "registry": dep["registry"],
                "package": package,
            })
        })
        .collect();
    let mut features = Map::new();
    let mut features2 = Map::new();
    for (feature, enables) in metadata["features"].as_object().into_iter().flatten() {
        let new_syntax = enables.as_array().into_iter().flatten().any(|e| {
            e.as_str()
                .is_some_and(|e| e.starts_with("dep:") || e.contains("?/"))
        });
        let into = if new_syntax {
            &mut features2
        } else {
            &mut features
        };
        into.insert(feature.clone(), enables.clone());
    }
    let mut entry = json!({
        "name": name,
        "vers": version,
        "deps": deps,
        "cksum": hex::encode(Sha256::digest(crate_file)),
        "features": features,
        "yanked": false,
        "links": metadata["links"],
        "rust_version": metadata["rust_version"],
        "v": 1,
    });
    if !features2.is_empty() {
        entry["features2"] = Value::Object(features2);
        entry["v"] = json!(2);
    }
    entry
}

/// crates.io's rule: an ASCII letter, then letters, digits, `-` and `_`.
fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 64
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-+".contains(&b))
}
