//! `examples/quickstart.rs`, run as a newcomer runs it: with no `POCKYT_*`
//! variables, it starts the embedded sandbox and goes through the whole
//! payout flow, webhook included.

// The example's `main` is not called here: `run` is, with no variables.
#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_completes_on_the_embedded_sandbox_without_credentials() {
    let no_variables = |_: &str| -> Option<String> { None };
    if let Err(error) = quickstart::run(&no_variables).await {
        panic!("the quickstart failed: {error}");
    }
}
