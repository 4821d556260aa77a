//! `pockyt_payouts_cli::run` called as a library (what the Python console
//! script and the npm bin do), from inside a tokio runtime too.

mod common;

use common::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_works_as_a_library_inside_a_runtime() {
    assert_eq!(pockyt_payouts_cli::run(["pockyt-payouts", "--version"]), 0);
    assert_eq!(
        pockyt_payouts_cli::run(["pockyt-payouts", "no-such-command"]),
        2
    );
    assert_eq!(pockyt_payouts_cli::exit_code::USAGE, 2);

    let world = World::start().await;
    for (name, value) in world.env() {
        // The only test of this binary: nothing else reads the environment.
        std::env::set_var(name, value);
    }
    let code =
        pockyt_payouts_cli::run(["pockyt-payouts", "balance", "--currency", "USD", "--json"]);
    assert_eq!(code, 0);
    let code = pockyt_payouts_cli::run([
        "pockyt-payouts",
        "inquire",
        "--invoice-id",
        "none",
        "--json",
    ]);
    assert_eq!(code, pockyt_payouts_cli::exit_code::ERROR);
}
