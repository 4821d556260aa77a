fn main() {
    std::process::exit(pockyt_payouts_cli::run_as_main(std::env::args_os()))
}
