//! The command line of `cargo xtask bench --compare` and `--memory`.

/// How to call the bench.
pub const USAGE: &str = "usage: cargo xtask bench
       cargo xtask bench --compare [--calls N] [--concurrency C] [--ops balance,pay]
                                   [--rounds 3] [--clients raw,rust,python-threads,python-async,node,provider]
       cargo xtask bench --memory [--in-flight 10000] [--clients rust,python-async,node]
       cargo xtask bench --batch [--rows 20000] [--concurrency 8,32] [--validate-rows 1000000]";

/// The operations `--ops` accepts (the SDK's names).
/// (`delete_payout_account` is left out: each call would need an account
/// of its own to delete.)
pub const OPS: [&str; 8] = [
    "balance",
    "pay",
    "inquire_payout",
    "retrieve_payee",
    "list_payout_accounts",
    "register_payee",
    "update_payee",
    "add_bank_account",
];

/// The clients `--compare` runs, in table order.
pub const COMPARE_CLIENTS: [&str; 6] = [
    "raw",
    "rust",
    "python-threads",
    "python-async",
    "node",
    "provider",
];

/// The clients `--memory` runs.
pub const MEMORY_CLIENTS: [&str; 3] = ["rust", "python-async", "node"];

/// `--compare`'s settings.
#[derive(Debug, Clone)]
pub struct Compare {
    /// Timed calls per client and operation (`--calls`, 3000).
    pub calls: usize,
    /// Calls in flight at once (`--concurrency`, 16).
    pub concurrency: usize,
    /// Operations, in order (`--ops`, balance,pay).
    pub ops: Vec<String>,
    /// Clients, in order (`--clients`, all).
    pub clients: Vec<String>,
    /// Times every client runs every operation, the clients taking turns
    /// (`--rounds`, 3); the median run is reported.
    pub rounds: usize,
}

/// `--memory`'s settings.
#[derive(Debug, Clone)]
pub struct Memory {
    /// Pays in flight at once (`--in-flight`, 10000).
    pub in_flight: usize,
    /// Clients, in order (`--clients`, rust,python-async,node).
    pub clients: Vec<String>,
}

/// `--batch`'s settings.
#[derive(Debug, Clone)]
pub struct BatchBench {
    /// Rows per batch, and direct pays per round (`--rows`, 20000).
    pub rows: usize,
    /// Concurrencies to measure (`--concurrency`, 8,32).
    pub concurrency: Vec<usize>,
    /// Rows of the file whose checking is measured (`--validate-rows`,
    /// 1000000).
    pub validate_rows: usize,
}

/// Parses `--batch`'s options.
pub fn batch(args: &[String]) -> Result<BatchBench, String> {
    let mut options = BatchBench {
        rows: 20_000,
        concurrency: vec![8, 32],
        validate_rows: 1_000_000,
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--rows" => options.rows = positive(flag, value)?,
            "--validate-rows" => options.validate_rows = positive(flag, value)?,
            "--concurrency" => {
                options.concurrency = value
                    .split(',')
                    .map(|c| positive(flag, c.trim()))
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    Ok(options)
}

/// Parses `--compare`'s options.
pub fn compare(args: &[String]) -> Result<Compare, String> {
    let mut options = Compare {
        calls: 3000,
        concurrency: 16,
        ops: vec!["balance".into(), "pay".into()],
        clients: COMPARE_CLIENTS.iter().map(|c| c.to_string()).collect(),
        rounds: 3,
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--calls" => options.calls = positive(flag, value)?,
            "--rounds" => options.rounds = positive(flag, value)?,
            "--concurrency" => options.concurrency = positive(flag, value)?,
            "--ops" => options.ops = list(flag, value, &OPS)?,
            "--clients" => options.clients = list(flag, value, &COMPARE_CLIENTS)?,
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    Ok(options)
}

/// Parses `--memory`'s options.
pub fn memory(args: &[String]) -> Result<Memory, String> {
    let mut options = Memory {
        in_flight: 10_000,
        clients: MEMORY_CLIENTS.iter().map(|c| c.to_string()).collect(),
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--in-flight" => options.in_flight = positive(flag, value)?,
            "--clients" => options.clients = list(flag, value, &MEMORY_CLIENTS)?,
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn positive(flag: &str, value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{flag} must be a positive whole number, not {value:?}"
        )),
    }
}

fn list(flag: &str, value: &str, known: &[&str]) -> Result<Vec<String>, String> {
    let mut items: Vec<String> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !known.contains(&item) {
            return Err(format!(
                "{flag}: unknown {item:?} (one or more of {})",
                known.join(",")
            ));
        }
        if !items.iter().any(|i| i == item) {
            items.push(item.to_string());
        }
    }
    if items.is_empty() {
        return Err(format!("{flag} needs at least one of {}", known.join(",")));
    }
    Ok(items)
}
