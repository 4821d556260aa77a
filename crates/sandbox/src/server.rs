//! Serving connections. `axum::serve` cannot close a connection without
//! answering, which the `drop` fault needs, so connections are served here
//! with hyper directly: a response carrying [`DropConnection`] becomes an
//! error of the service, and hyper closes the connection on a service
//! error without writing anything.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use axum::Router;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use pockyt_payouts_core::enums::RetCode;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::api::{DropConnection, FaultNote, RetCodeNote};
use crate::config::SandboxConfig;
use crate::shared::Shared;

/// How long shutdown waits for requests in flight.
const GRACE: Duration = Duration::from_secs(5);

/// The service error that makes hyper close the connection.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by the sandbox's drop fault")
    }
}

impl std::error::Error for Dropped {}

/// The whole application: the operations, the admin endpoints, and JSON
/// answers for unknown paths (404) and methods (405).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    crate::api::routes()
        .merge(crate::admin::routes())
        .fallback(|uri: axum::http::Uri| async move {
            let code = RetCode::SystemError;
            let body = json!({ "ret_code": code.as_str(), "ret_msg": format!("no such path: {}", uri.path()) });
            let mut response = (StatusCode::NOT_FOUND, Json(body)).into_response();
            response.extensions_mut().insert(RetCodeNote(code));
            response
        })
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            let code = RetCode::SystemError;
            let body = json!({ "ret_code": code.as_str(), "ret_msg": format!("method {method} is not allowed here; the API answers POST only") });
            let mut response = (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response();
            response.extensions_mut().insert(RetCodeNote(code));
            response
        })
        // Bodies are read (bounded in size and time) before routing; the
        // extractors need no limit of their own.
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

/// The bounds the server puts on every connection and request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub connection_reserve: usize,
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_body_bytes: usize,
}

impl Limits {
    pub fn of(config: &SandboxConfig) -> Limits {
        Limits {
            max_connections: config.max_connections.max(1),
            connection_reserve: config.connection_reserve.max(1),
            header_read_timeout: config.header_read_timeout,
            body_read_timeout: config.body_read_timeout,
            max_body_bytes: config.max_body_bytes,
        }
    }

    /// The most connections open at once, whatever they are doing:
    /// `max_connections` plus the reserve.
    fn ceiling(&self) -> usize {
        self.max_connections
            .saturating_add(self.connection_reserve.max(1))
    }
}

/// hyper's read buffer per connection: request lines and headers larger
/// than this are refused (hyper's default is about 400 KiB).
const MAX_READ_BUFFER: usize = 64 * 1024;

/// How long the accept loop waits after a failed accept (out of file
/// descriptors, say) before it tries again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The order in which waiting connections are closed: idle kept-alive
/// connections first, then those whose request is incomplete; within
/// each, the one waiting longest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Waiting {
    /// Answered its last request; nothing of the next one is parsed.
    Idle,
    /// Accepted, or reading a request's head or body.
    Reading,
}

/// What a connection is doing, as far as eviction goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for a complete request: may be closed to make room.
    Waiting(Waiting),
    /// Its request is read in full and being answered: never closed.
    Processing,
    /// Told to close; it goes at its task's next poll.
    Evicted,
}

/// One open connection, as [`Connections`] tracks it.
struct Tracked {
    /// Since when it has been waiting for a complete request: when it was
    /// accepted, or when it answered its last request.
    since: Instant,
    phase: Phase,
    /// Fired (or dropped) to close the connection.
    cancel: Option<oneshot::Sender<()>>,
}

/// The key of a waiting connection in the eviction order.
type QueueKey = (Waiting, Instant, u64);

/// What [`Connections`] guards.
#[derive(Default)]
struct Table {
    next_id: u64,
    tracked: HashMap<u64, Tracked>,
    /// The waiting connections, first to close first.
    queue: BTreeSet<QueueKey>,
    /// Open connections not told to close.
    live: usize,
    /// Most connections open at once (tracked, evicted or not).
    peak: usize,
    /// Connections closed to make room.
    evicted: u64,
}

/// Every open connection with what it is doing, so that when more than
/// `max_connections` are open the one waiting longest for a complete
/// request can be closed.
pub(crate) struct Connections {
    max: usize,
    log: bool,
    table: Mutex<Table>,
}

/// A connection's place in [`Connections`]; leaves it when dropped.
struct Registration {
    id: u64,
    connections: Arc<Connections>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.connections.close(self.id);
    }
}

impl Connections {
    fn new(max: usize, log: bool) -> Connections {
        Connections {
            max: max.max(1),
            log,
            table: Mutex::new(Table::default()),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // The table stays consistent whatever panicked while holding it.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tracks a newly accepted connection (waiting since now); the
    /// receiver resolves when it is to be closed.
    fn open(self: &Arc<Self>) -> (Registration, oneshot::Receiver<()>) {
        let (cancel, cancelled) = oneshot::channel();
        let now = Instant::now();
        let mut table = self.table();
        let id = table.next_id;
        table.next_id += 1;
        table.tracked.insert(
            id,
            Tracked {
                since: now,
                phase: Phase::Waiting(Waiting::Reading),
                cancel: Some(cancel),
            },
        );
        table.queue.insert((Waiting::Reading, now, id));
        table.live += 1;
        table.peak = table.peak.max(table.tracked.len());
        drop(table);
        let registration = Registration {
            id,
            connections: Arc::clone(self),
        };
        (registration, cancelled)
    }

    /// A request's head is in: an idle connection is reading again (still
    /// waiting since its last answer).
    fn request_started(&self, id: u64) {
        let mut table = self.table();
        let Some(tracked) = table.tracked.get_mut(&id) else {
            return;
        };
        if tracked.phase == Phase::Waiting(Waiting::Idle) {
            tracked.phase = Phase::Waiting(Waiting::Reading);
            let since = tracked.since;
            table.queue.remove(&(Waiting::Idle, since, id));
            table.queue.insert((Waiting::Reading, since, id));
        }
    }

    /// A request is read in full: the connection is no longer closed to
    /// make room until it has answered.
    fn request_read(&self, id: u64) {
        let mut table = self.table();
        let Some(tracked) = table.tracked.get_mut(&id) else {
            return;
        };
        if let Phase::Waiting(waiting) = tracked.phase {
            tracked.phase = Phase::Processing;
            let since = tracked.since;
            table.queue.remove(&(waiting, since, id));
        }
    }

    /// A request is answered: the connection waits for the next one (idle,
    /// first to close), and if more than the cap are open, the ones
    /// waiting longest are closed now.
    fn answered(&self, id: u64) {
        let mut table = self.table();
        let Some(tracked) = table.tracked.get_mut(&id) else {
            return;
        };
        let old = tracked.phase;
        if old == Phase::Evicted {
            return;
        }
        let now = Instant::now();
        let since = std::mem::replace(&mut tracked.since, now);
        tracked.phase = Phase::Waiting(Waiting::Idle);
        if let Phase::Waiting(waiting) = old {
            table.queue.remove(&(waiting, since, id));
        }
        table.queue.insert((Waiting::Idle, now, id));
        let evicted = self.evict_excess(&mut table, None);
        drop(table);
        self.log_evictions(&evicted);
    }

    /// After a connection is accepted: while more than the cap are open,
    /// closes the one waiting longest for a complete request (never
    /// `spare`, the newcomer, and never one being processed).
    fn make_room(&self, spare: u64) {
        let mut table = self.table();
        let evicted = self.evict_excess(&mut table, Some(spare));
        drop(table);
        self.log_evictions(&evicted);
    }

    /// Out of descriptors: closes the connection waiting longest, cap or
    /// not, so that the next accept can succeed. False when none waits.
    fn evict_one(&self) -> bool {
        let mut table = self.table();
        let Some(key) = table.queue.first().copied() else {
            return false;
        };
        let evicted = [Self::evict(&mut table, key)];
        drop(table);
        self.log_evictions(&evicted);
        true
    }

    fn evict_excess(&self, table: &mut Table, spare: Option<u64>) -> Vec<Duration> {
        let mut evicted = Vec::new();
        while table.live > self.max {
            let Some(key) = table.queue.iter().find(|key| Some(key.2) != spare).copied() else {
                break;
            };
            evicted.push(Self::evict(table, key));
        }
        evicted
    }

    /// Tells the connection at `key` (in the queue) to close; how long it
    /// has been waiting.
    fn evict(table: &mut Table, key: QueueKey) -> Duration {
        table.queue.remove(&key);
        table.live -= 1;
        table.evicted += 1;
        if let Some(tracked) = table.tracked.get_mut(&key.2) {
            tracked.phase = Phase::Evicted;
            if let Some(cancel) = tracked.cancel.take() {
                let _ = cancel.send(());
            }
        }
        key.1.elapsed()
    }

    fn log_evictions(&self, waited: &[Duration]) {
        if self.log {
            for waited in waited {
                eprintln!(
                    "pockyt-sandbox: more than {} connections open; closed the one waiting longest for a request ({} ms)",
                    self.max,
                    waited.as_millis()
                );
            }
        }
    }

    /// The connection is closed: it leaves the table.
    fn close(&self, id: u64) {
        let mut table = self.table();
        let Some(tracked) = table.tracked.remove(&id) else {
            return;
        };
        match tracked.phase {
            Phase::Waiting(waiting) => {
                table.queue.remove(&(waiting, tracked.since, id));
                table.live -= 1;
            }
            Phase::Processing => table.live -= 1,
            Phase::Evicted => {}
        }
    }
}

/// Accepts connections until `shutdown` changes (or its sender is gone),
/// then lets requests in flight finish for up to [`GRACE`].
///
/// Up to `limits.max_connections` connections stay open at once. Beyond
/// it the loop still accepts, up to the ceiling (`max_connections` plus
/// `connection_reserve`, a permit taken before each accept, so past it
/// connections wait in the OS's listen queue), and closes the connection
/// waiting longest for a complete request (idle kept-alive ones first,
/// then those still sending a head or a body); a connection whose request
/// is read in full is never closed so. A failed accept (EMFILE, a
/// connection reset before it was accepted) never ends the loop; out of
/// descriptors, it closes the connection waiting longest.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    log: bool,
    limits: Limits,
    shutdown: watch::Receiver<bool>,
) {
    let connections = Arc::new(Connections::new(limits.max_connections, log));
    serve_tracked(listener, router, log, limits, shutdown, connections).await;
}

async fn serve_tracked(
    listener: TcpListener,
    router: Router,
    log: bool,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
    tracked: Arc<Connections>,
) {
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    let permits = Arc::new(Semaphore::new(limits.ceiling()));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_READ_BUFFER);
    loop {
        let permit = tokio::select! {
            _ = shutdown.changed() => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
        };
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        while tasks.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                if log {
                    eprintln!("pockyt-sandbox: accept failed ({error}); retrying");
                }
                // Out of file descriptors: make room (23 is ENFILE, 24
                // EMFILE, on Linux and the BSDs alike).
                if matches!(error.raw_os_error(), Some(23 | 24)) {
                    tracked.evict_one();
                }
                // Out of file descriptors or a connection reset before
                // accept: wait a little rather than spin.
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (registration, cancelled) = tracked.open();
        let id = registration.id;
        tracked.make_room(id);
        let registration = Arc::new(registration);
        let router = router.clone();
        let service = service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            let registration = Arc::clone(&registration);
            async move { answer(router, request, log, limits, &registration).await }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tasks.spawn(async move {
            {
                tokio::pin!(connection);
                tokio::select! {
                    biased;
                    // A connection error (a dropped fault, a client that
                    // went away, a header read timeout) concerns that
                    // connection only.
                    _ = &mut connection => {}
                    // Closed to make room: dropping it closes the socket.
                    _ = cancelled => {}
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(GRACE) => {}
    }
    tasks.abort_all();
}

/// Why a request's body could not be read.
enum BodyRefusal {
    /// Larger than the limit: HTTP 413.
    TooLarge,
    /// Not complete within the body read timeout: HTTP 408.
    TooSlow,
    /// The connection failed while reading it.
    Broken,
}

/// How much of a too-large body is read and thrown away before the 413 is
/// sent, so that a client that sends a moderately oversized body sees the
/// answer rather than a connection reset (closing a socket with unread
/// data resets it). Never kept in memory; still within the body timeout.
const MAX_DISCARDED: usize = 4 * 1024 * 1024;

/// Reads the whole body, at most `limits.max_body_bytes` of it, within
/// `limits.body_read_timeout`, before the request reaches the router: no
/// handler ever waits on a client.
async fn read_body(
    request: Request<Incoming>,
    limits: Limits,
) -> Result<Request<Body>, BodyRefusal> {
    let (parts, mut incoming) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut too_large = declared.is_some_and(|n| n > limits.max_body_bytes as u64);
    if declared.is_some_and(|n| n > (limits.max_body_bytes + MAX_DISCARDED) as u64) {
        return Err(BodyRefusal::TooLarge);
    }
    let read = async {
        let mut kept: Vec<u8> = Vec::new();
        let mut discarded = 0usize;
        while let Some(frame) = incoming.frame().await {
            let Ok(data) = frame.map_err(|_| BodyRefusal::Broken)?.into_data() else {
                continue; // trailers
            };
            if !too_large && kept.len() + data.len() > limits.max_body_bytes {
                too_large = true;
                discarded = kept.len();
                kept = Vec::new();
            }
            if too_large {
                discarded += data.len();
                if discarded > MAX_DISCARDED {
                    break;
                }
            } else {
                kept.extend_from_slice(&data);
            }
        }
        if too_large {
            Err(BodyRefusal::TooLarge)
        } else {
            Ok(kept)
        }
    };
    let kept = tokio::time::timeout(limits.body_read_timeout, read)
        .await
        .map_err(|_elapsed| BodyRefusal::TooSlow)??;
    Ok(Request::from_parts(parts, Body::from(kept)))
}

/// The answer to a body that could not be read; it closes the connection
/// (what is left of the body is not read).
fn refuse_body(refusal: &BodyRefusal, limits: Limits) -> Response<Body> {
    let (status, message) = match refusal {
        BodyRefusal::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {} bytes",
                limits.max_body_bytes
            ),
        ),
        BodyRefusal::TooSlow => (
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} ms",
                limits.body_read_timeout.as_millis()
            ),
        ),
        BodyRefusal::Broken => (
            StatusCode::BAD_REQUEST,
            "the request body could not be read".to_owned(),
        ),
    };
    let code = RetCode::ParameterValueError;
    let body = json!({ "ret_code": code.as_str(), "ret_msg": message });
    let mut response = (
        status,
        [(header::CONNECTION, HeaderValue::from_static("close"))],
        Json(body),
    )
        .into_response();
    response.extensions_mut().insert(RetCodeNote(code));
    response
}

/// Reads a request's body, routes it and logs it; the connection is
/// marked being processed from the end of its body to its answer.
async fn answer(
    router: Router,
    request: Request<Incoming>,
    log: bool,
    limits: Limits,
    registration: &Registration,
) -> Result<Response<Body>, Dropped> {
    let started = Instant::now();
    let connections = &registration.connections;
    connections.request_started(registration.id);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = match read_body(request, limits).await {
        Ok(request) => {
            connections.request_read(registration.id);
            match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
        Err(refusal) => refuse_body(&refusal, limits),
    };
    connections.answered(registration.id);
    let dropped = response.extensions().get::<DropConnection>().is_some();
    if log {
        let ret_code = response
            .extensions()
            .get::<RetCodeNote>()
            .map(|note| format!(" ret_code={}", note.0))
            .unwrap_or_default();
        let fault = response
            .extensions()
            .get::<FaultNote>()
            .map(|note| format!(" fault={}", note.0))
            .unwrap_or_default();
        let outcome = if dropped {
            "connection dropped".to_owned()
        } else {
            response.status().as_u16().to_string()
        };
        eprintln!(
            "pockyt-sandbox: {method} {path} -> {outcome}{ret_code}{fault} ({} ms)",
            started.elapsed().as_millis()
        );
    }
    if dropped {
        Err(Dropped)
    } else {
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    //! The eviction order on its own, and the accept loop with a router
    //! whose handler holds requests until the test lets them go, so that
    //! "being processed" needs no timing. Nothing asserts a duration.

    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::extract::State;
    use axum::routing::post;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::oneshot::error::TryRecvError;

    use super::*;

    /// How long a test waits for something that should happen at once
    /// before it calls the server stuck (never a measured duration).
    const STUCK: Duration = Duration::from_secs(20);

    fn evicted(receiver: &mut oneshot::Receiver<()>) -> bool {
        match receiver.try_recv() {
            Ok(()) => true,
            Err(TryRecvError::Empty) => false,
            Err(TryRecvError::Closed) => panic!("cancel dropped without a send"),
        }
    }

    #[test]
    fn the_longest_waiting_go_first_idle_before_reading_never_processing() {
        let connections = Arc::new(Connections::new(2, false));
        let (a, mut a_rx) = connections.open();
        let (b, mut b_rx) = connections.open();
        let (c, mut c_rx) = connections.open();
        connections.make_room(c.id);
        assert!(evicted(&mut a_rx), "the oldest reading one goes");
        assert!(!evicted(&mut b_rx) && !evicted(&mut c_rx));

        // b is processed; c answers and is idle, so it goes before d,
        // though d arrived later and is still reading.
        connections.request_started(b.id);
        connections.request_read(b.id);
        connections.request_read(c.id);
        connections.answered(c.id);
        let (d, mut d_rx) = connections.open();
        connections.make_room(d.id);
        assert!(evicted(&mut c_rx), "an idle kept-alive one goes first");
        assert!(!evicted(&mut b_rx) && !evicted(&mut d_rx));

        // Only the newcomer waits beside one being processed: nothing
        // goes, one over the cap (the reserve's use).
        connections.request_read(d.id);
        let (e, mut e_rx) = connections.open();
        connections.make_room(e.id);
        assert!(!evicted(&mut e_rx));
        assert_eq!(connections.table().live, 3);
        // When one is answered while over the cap, the idle one goes.
        connections.answered(d.id);
        assert!(evicted(&mut d_rx));
        assert!(!evicted(&mut b_rx) && !evicted(&mut e_rx));
        assert_eq!(connections.table().live, 2);

        // Out of descriptors: the longest waiting goes, cap or not; one
        // being processed never does.
        assert!(connections.evict_one());
        assert!(evicted(&mut e_rx));
        assert!(!connections.evict_one());
        assert!(!evicted(&mut b_rx));

        // An evicted connection stays evicted whatever its request does.
        connections.request_started(e.id);
        connections.request_read(e.id);
        connections.answered(e.id);
        assert_eq!(connections.table().live, 1);

        drop((a, b, c, d, e));
        let table = connections.table();
        assert!(table.tracked.is_empty() && table.queue.is_empty());
        assert_eq!((table.live, table.peak, table.evicted), (0, 5, 4));
    }

    /// Requests to `/hold` wait inside the handler until the test adds
    /// permits to `release`.
    struct Hold {
        entered: AtomicUsize,
        inside: AtomicUsize,
        most_inside: AtomicUsize,
        release: Semaphore,
    }

    async fn held(State(hold): State<Arc<Hold>>) -> &'static str {
        let inside = hold.inside.fetch_add(1, Ordering::SeqCst) + 1;
        hold.most_inside.fetch_max(inside, Ordering::SeqCst);
        hold.entered.fetch_add(1, Ordering::SeqCst);
        hold.release.acquire().await.unwrap().forget();
        hold.inside.fetch_sub(1, Ordering::SeqCst);
        "held"
    }

    struct Server {
        addr: std::net::SocketAddr,
        hold: Arc<Hold>,
        connections: Arc<Connections>,
        limits: Limits,
        _shutdown: watch::Sender<bool>,
    }

    async fn server(max_connections: usize, connection_reserve: usize) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hold = Arc::new(Hold {
            entered: AtomicUsize::new(0),
            inside: AtomicUsize::new(0),
            most_inside: AtomicUsize::new(0),
            release: Semaphore::new(0),
        });
        let router = Router::new()
            .route("/hold", post(held))
            .route("/ok", post(|| async { "ok" }))
            .with_state(Arc::clone(&hold));
        let limits = Limits {
            max_connections,
            connection_reserve,
            header_read_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(60),
            max_body_bytes: 1024,
        };
        let connections = Arc::new(Connections::new(max_connections, false));
        let (shutdown, watch) = watch::channel(false);
        tokio::spawn(serve_tracked(
            listener,
            router,
            false,
            limits,
            watch,
            Arc::clone(&connections),
        ));
        Server {
            addr,
            hold,
            connections,
            limits,
            _shutdown: shutdown,
        }
    }

    /// A connection that has sent a whole POST to `path`.
    async fn send(addr: std::net::SocketAddr, path: &str) -> TcpStream {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{{}}");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream
    }

    /// A connection that has sent half a request head.
    async fn slow(addr: std::net::SocketAddr) -> TcpStream {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /ok HTTP/1.1\r\nHost: t\r\n")
            .await
            .unwrap();
        stream
    }

    /// What the server sends until the answer's body is in (`want`) or it
    /// closes the connection.
    async fn receive(stream: &mut TcpStream, want: &str) -> String {
        let mut received = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = match tokio::time::timeout(STUCK, stream.read(&mut buf)).await {
                Err(_) => panic!("stuck: {}", String::from_utf8_lossy(&received)),
                Ok(Ok(0) | Err(_)) => break,
                Ok(Ok(n)) => n,
            };
            received.extend_from_slice(&buf[..n]);
            if received.ends_with(want.as_bytes()) {
                break;
            }
        }
        String::from_utf8_lossy(&received).into_owned()
    }

    async fn until(what: &str, mut check: impl FnMut() -> bool) {
        for _ in 0..2_000 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("never: {what}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_being_processed_is_never_closed_to_make_room() {
        let server = server(2, 2).await;
        let mut processed = send(server.addr, "/hold").await;
        until("the held request is processed", || {
            server.hold.entered.load(Ordering::SeqCst) == 1
        })
        .await;
        // Three times the cap in slow heads, each accepted and the one
        // waiting longest closed to make room for it.
        let mut slow_ones = Vec::new();
        for _ in 0..6 {
            slow_ones.push(slow(server.addr).await);
        }
        let mut ok = send(server.addr, "/ok").await;
        let answer = receive(&mut ok, "ok").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        // Every slow one was closed without an answer: the newest when
        // the /ok connection came.
        for stream in &mut slow_ones {
            assert_eq!(receive(stream, "never").await, "");
        }
        server.hold.release.add_permits(1);
        let answer = receive(&mut processed, "held").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let table = server.connections.table();
        assert_eq!(table.evicted, 6);
        assert!(table.peak <= server.limits.ceiling());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn open_connections_never_exceed_the_ceiling() {
        let server = server(2, 2).await;
        let ceiling = server.limits.ceiling();
        // As many requests being processed as the ceiling allows, one
        // after the other (a request is only safe once read in full).
        let mut held = tokio::task::JoinSet::new();
        for i in 1..=ceiling {
            let addr = server.addr;
            held.spawn(async move {
                let mut stream = send(addr, "/hold").await;
                receive(&mut stream, "held").await
            });
            until("the held request is processed", || {
                server.hold.entered.load(Ordering::SeqCst) == i
            })
            .await;
        }
        // None of them can be closed, so these wait in the listen queue.
        let mut slow_ones = Vec::new();
        for _ in 0..6 {
            slow_ones.push(slow(server.addr).await);
        }
        assert!(server.connections.table().peak <= ceiling);
        // Answered, the held ones are idle and go first; then each slow
        // one accepted closes the one before it.
        server.hold.release.add_permits(ceiling);
        while let Some(answer) = held.join_next().await {
            let answer = answer.unwrap();
            assert!(answer.ends_with("held"), "{answer}");
        }
        for stream in &mut slow_ones[..4] {
            assert_eq!(receive(stream, "never").await, "");
        }
        let mut ok = send(server.addr, "/ok").await;
        let answer = receive(&mut ok, "ok").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(server.hold.most_inside.load(Ordering::SeqCst), ceiling);
        let table = server.connections.table();
        assert!(table.peak <= ceiling, "{} open at once", table.peak);
        assert!(table.tracked.len() <= ceiling);
    }
}
