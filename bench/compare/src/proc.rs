//! What the process knows of itself: memory from `/proc/self/status`, and
//! the open-files limit raised for thousands of connections.

/// A `kB` line of `/proc/self/status` (`VmHWM`: peak resident set,
/// `VmRSS`: resident set now), in KiB; 0 where there is no `/proc`.
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Raises the soft limit of open files to the hard limit (each connection
/// in flight is one file).
pub fn raise_nofile_limit() {
    if let Err(err) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("pockyt-bench: could not raise the open-files limit: {err}");
    }
}

/// How many files the process has open (the pooled connections, mostly);
/// 0 where there is no `/proc`.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}
