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

/// CPU seconds (user + system) this process has used so far; 0 where
/// there is no `/proc`. Clock ticks are taken as 100 per second, Linux's
/// `USER_HZ` on every architecture it exports to user space.
pub fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces: count from its `)`.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

/// CPU seconds the whole machine has spent busy (every CPU, not idle and
/// not waiting on I/O); 0 where there is no `/proc`.
pub fn machine_busy_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    // user nice system idle iowait irq softirq steal; guest time is
    // already counted in user and nice.
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|f| f.parse().ok())
        .collect();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    (ticks.iter().sum::<u64>() - idle) as f64 / 100.0
}
