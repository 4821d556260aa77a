//! `pockyt-sandbox`: runs the Pockyt Payouts v3 sandbox until SIGINT or
//! SIGTERM. See `--help` and the crate's README.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use pockyt_sandbox::{Sandbox, SandboxConfig};

const USAGE: &str = "\
pockyt-sandbox: a local emulator of the Pockyt Payouts v3 API

USAGE:
    pockyt-sandbox [OPTIONS]

OPTIONS:
    --host <IP>                      address to listen on [default: 127.0.0.1]
    --port <PORT>                    port to listen on; 0 lets the OS pick [default: 0]
    --merchant-no <NO>               merchant number requests must carry [default: 202333]
    --store-no <NO>                  store number requests must carry [default: 301854]
    --api-token <TOKEN>              API token requests are signed with [default: sandbox-api-token]
    --balance <CURRENCY=AMOUNT>      starting balance; repeat for more currencies
                                     [default: USD=1000000.00; any --balance replaces it]
    --settle-delay-ms <MS>           time until a payout's final status [default: 2000]
    --ipn-retry-delays-ms <MS,MS..>  wait before each IPN try, at most 8
                                     [default: 0,250,500,1000,2000,4000,8000,16000]
    --timestamp-tolerance-secs <S>   accepted clock distance of `timestamp` [default: 600]
    --max-connections <N>            connections served at once; past it the one
                                     waiting longest for a request is closed [default: 512]
    --connection-reserve <N>         connections accepted past --max-connections
                                     (the hard ceiling is the sum) [default: 64]
    --header-read-timeout-ms <MS>    time to send a request's headers (and idle time
                                     of a kept-alive connection) [default: 10000]
    --body-read-timeout-ms <MS>      time to send a whole request body; then HTTP 408
                                     [default: 10000]
    --max-body-bytes <BYTES>         largest request body; larger: HTTP 413 [default: 262144]
    --max-fields <N>                 most fields in one request body [default: 256]
    --idempotency-ttl-secs <S>       how long a Pockyt-Request-ID is kept [default: 86400]
    --idempotency-max-keys <N>       keys kept per merchant, oldest dropped [default: 100000]
    -h, --help                       print this help
    -V, --version                    print the version

On start it prints one line, `pockyt-sandbox listening on http://HOST:PORT`,
to stdout; requests are logged to stderr. SIGINT or SIGTERM stops it.
";

/// What the command line asks for.
enum Command {
    Run(Box<SandboxConfig>),
    Help,
    Version,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut config = SandboxConfig::default();
    let mut balances: Option<BTreeMap<String, String>> = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--host" => {
                let text = value("--host")?;
                config.host = text
                    .parse::<IpAddr>()
                    .map_err(|_| format!("--host must be an IP address, not {text:?}"))?;
            }
            "--port" => {
                let text = value("--port")?;
                config.port = text.parse().map_err(|_| {
                    format!("--port must be a number from 0 to 65535, not {text:?}")
                })?;
            }
            "--merchant-no" => config.merchant_no = value("--merchant-no")?,
            "--store-no" => config.store_no = value("--store-no")?,
            "--api-token" => config.api_token = value("--api-token")?,
            "--balance" => {
                let text = value("--balance")?;
                let (currency, amount) = text
                    .split_once('=')
                    .ok_or_else(|| format!("--balance must look like USD=1000.00, not {text:?}"))?;
                balances
                    .get_or_insert_with(BTreeMap::new)
                    .insert(currency.to_owned(), amount.to_owned());
            }
            "--settle-delay-ms" => {
                let text = value("--settle-delay-ms")?;
                let ms: u64 = text.parse().map_err(|_| {
                    format!("--settle-delay-ms must be a whole number, not {text:?}")
                })?;
                config.settle_delay = Duration::from_millis(ms);
            }
            "--ipn-retry-delays-ms" => {
                let text = value("--ipn-retry-delays-ms")?;
                config.ipn_retry_delays = text
                    .split(',')
                    .map(|part| part.trim().parse::<u64>().map(Duration::from_millis))
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("--ipn-retry-delays-ms must be whole numbers separated by commas, not {text:?}"))?;
            }
            "--timestamp-tolerance-secs" => {
                let text = value("--timestamp-tolerance-secs")?;
                let secs: u64 = text.parse().map_err(|_| {
                    format!("--timestamp-tolerance-secs must be a whole number, not {text:?}")
                })?;
                config.timestamp_tolerance = Duration::from_secs(secs);
            }
            "--max-connections" => {
                config.max_connections =
                    positive(&value("--max-connections")?, "--max-connections")?;
            }
            "--header-read-timeout-ms" => {
                let ms = positive(
                    &value("--header-read-timeout-ms")?,
                    "--header-read-timeout-ms",
                )?;
                config.header_read_timeout = Duration::from_millis(ms as u64);
            }
            "--body-read-timeout-ms" => {
                let ms = positive(&value("--body-read-timeout-ms")?, "--body-read-timeout-ms")?;
                config.body_read_timeout = Duration::from_millis(ms as u64);
            }
            "--max-body-bytes" => {
                config.max_body_bytes = positive(&value("--max-body-bytes")?, "--max-body-bytes")?;
            }
            "--max-fields" => {
                config.max_fields = positive(&value("--max-fields")?, "--max-fields")?;
            }
            "--connection-reserve" => {
                config.connection_reserve =
                    positive(&value("--connection-reserve")?, "--connection-reserve")?;
            }
            "--idempotency-ttl-secs" => {
                let secs = positive(&value("--idempotency-ttl-secs")?, "--idempotency-ttl-secs")?;
                config.idempotency_ttl = Duration::from_secs(secs as u64);
            }
            "--idempotency-max-keys" => {
                config.idempotency_max_keys =
                    positive(&value("--idempotency-max-keys")?, "--idempotency-max-keys")?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if let Some(balances) = balances {
        config.balances = balances;
    }
    Ok(Command::Run(Box::new(config)))
}

/// A whole number of at least 1.
fn positive(text: &str, flag: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "{flag} must be a whole number of at least 1, not {text:?}"
        )),
    }
}

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => *config,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("pockyt-sandbox {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("pockyt-sandbox: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("pockyt-sandbox: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pockyt-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: SandboxConfig) -> std::io::Result<()> {
    // The signal handlers are installed before the "listening" line: a
    // supervisor that stops the sandbox as soon as it reads that line must
    // find them in place (before them, SIGINT would kill the process).
    let stop = pockyt_sandbox::stop_signal()?;
    let sandbox = Sandbox::start_with_request_log(config).await?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "pockyt-sandbox listening on {}", sandbox.base_url())?;
        stdout.flush()?;
    }
    stop.await?;
    eprintln!("pockyt-sandbox: shutting down");
    sandbox.shutdown().await;
    Ok(())
}
