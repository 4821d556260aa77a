fn main() {
    std::process::exit(pockyt_payouts_cli::run(std::env::args_os()))
}
