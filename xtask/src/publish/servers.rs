//! The npm registry (verdaccio) and the Python package index (pypiserver)
//! of `publish --local`: each installed by this command from its package
//! registry into `target/local-registries/tools`, started on 127.0.0.1 on
//! a port the OS picks, and stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{mkdir, write};
use crate::run_cmd_in;

/// The versions installed: pinned, so that every run tests the same servers.
const VERDACCIO: &str = "verdaccio@6.10.4";
const PYPISERVER: &str = "pypiserver==2.4.2";

/// Written into a tool's directory once its install has finished.
const INSTALLED: &str = ".installed";

/// How long a server may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Verdaccio through its documented API (`runServer`), listening where the
/// OS says: the `pockyt-payouts` packages are served only from here (never
/// looked up on npmjs.org, so an install proves what was published); any
/// other package is fetched from npmjs.org, as a user's would be.
const VERDACCIO_MAIN: &str = r#"
const path = require('node:path')
const { runServer } = require('verdaccio')
const storage = process.argv[2]
runServer({
  self_path: path.join(storage, 'config.yaml'),
  storage: path.join(storage, 'packages'),
  auth: { htpasswd: { file: path.join(storage, 'htpasswd'), max_users: -1 } },
  uplinks: { npmjs: { url: 'https://registry.npmjs.org/' } },
  packages: {
    'pockyt-payouts': { access: '$all', publish: '$all' },
    'pockyt-payouts-*': { access: '$all', publish: '$all' },
    '**': { access: '$all', publish: '$authenticated', proxy: 'npmjs' },
  },
  log: { type: 'stdout', format: 'pretty', level: 'warn' },
}).then((app) => {
  const server = app.listen(0, '127.0.0.1', () => {
    console.log(`listening http://127.0.0.1:${server.address().port}/`)
  })
}, (error) => {
  console.error(error)
  process.exit(1)
})
"#;

/// pypiserver's WSGI app under the standard library's server, on the port
/// the OS picks; uploads need no password (loopback, for this run only).
const PYPISERVER_MAIN: &str = r#"
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server
import pypiserver

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

app = pypiserver.app(roots=[sys.argv[1]], authenticate=[], password_file=".")
server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
print(f"listening http://127.0.0.1:{server.server_port}/", flush=True)
server.serve_forever()
"#;

/// A server process, killed when dropped.
pub struct Server {
    child: Child,
    /// What it printed first to say it is ready (the registries: their
    /// address, ending in `/`).
    pub url: String,
}

impl Server {
    /// Sends SIGTERM and waits for the process to end, at most `timeout`.
    pub fn terminate(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .map_err(|e| format!("running kill: {e}"))?;
        if !sent.success() {
            return Err(format!("kill -TERM {} failed", self.child.id()));
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                return Err(format!("it did not stop within {timeout:?} of SIGTERM"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Installs verdaccio (once per tools directory) and starts it.
pub fn start_verdaccio(tools: &Path, storage: &Path) -> Result<Server, String> {
    // The version names the directory; a marker written after a whole
    // install tells a finished one from an interrupted one.
    let dir = tools.join(VERDACCIO);
    if !dir.join(INSTALLED).exists() {
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("\n==> npm registry: installing {VERDACCIO}");
        mkdir(&dir)?;
        // The npm registry reachable here serves only each package's
        // `latest` dist-tag, and one of verdaccio's dependencies asks for
        // node-fetch by its `cjs` tag (the 2.x line): pinned instead.
        write(
            &dir.join("package.json"),
            r#"{"name": "local-npm-registry", "private": true, "overrides": {"node-fetch": "2.7.0"}}"#,
        )?;
        run_cmd_in(
            &dir,
            "npm",
            &[
                "install",
                "--no-audit",
                "--no-fund",
                "--save-exact",
                VERDACCIO,
            ],
            &[],
        )?;
    }
    write(&dir.join("serve.cjs"), VERDACCIO_MAIN)?;
    mkdir(storage)?;
    let mut command = Command::new("node");
    command
        .arg(dir.join("serve.cjs"))
        .arg(storage)
        .current_dir(&dir);
    spawn("npm registry (verdaccio)", command, listening)
}

/// Installs pypiserver into its own virtual environment and starts it.
pub fn start_pypiserver(tools: &Path, packages: &Path) -> Result<Server, String> {
    let venv = tools.join(PYPISERVER.replace("==", "-"));
    let python = venv.join("bin/python");
    if !venv.join(INSTALLED).exists() {
        let _ = std::fs::remove_dir_all(&venv);
        eprintln!("\n==> Python package index: installing {PYPISERVER}");
        crate::run_cmd("python3", &["-m", "venv", &venv.display().to_string()])?;
        run_cmd_in(
            tools,
            &venv.join("bin/pip").display().to_string(),
            &[
                "install",
                "--quiet",
                "--disable-pip-version-check",
                PYPISERVER,
            ],
            &[],
        )?;
    }
    write(&tools.join("pypiserver_main.py"), PYPISERVER_MAIN)?;
    mkdir(packages)?;
    let mut command = Command::new(python);
    command
        .arg(tools.join("pypiserver_main.py"))
        .arg(packages)
        .current_dir(tools);
    spawn("Python package index (pypiserver)", command, listening)
}

/// The registries' first line: `listening <url>`.
fn listening(line: &str) -> Option<String> {
    line.strip_prefix("listening ").map(str::to_owned)
}

/// Starts a server and waits (at most [`START_TIMEOUT`]) for the first
/// stdout line that `ready` accepts; the rest of its output goes to stderr.
pub fn spawn(
    what: &str,
    mut command: Command,
    ready: fn(&str) -> Option<String>,
) -> Result<Server, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting the {what}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    // Reads the announcement, then keeps the pipe drained until exit.
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent {
                if let Some(announced) = ready(&line) {
                    let _ = tx.send(announced);
                    sent = true;
                    continue;
                }
            }
            eprintln!("{line}");
        }
    });
    let mut server = Server {
        child,
        url: String::new(),
    };
    server.url = rx
        .recv_timeout(START_TIMEOUT)
        .map_err(|_| format!("the {what} did not start (or not within {START_TIMEOUT:?})"))?;
    eprintln!("{what}: {}", server.url);
    Ok(server)
}
