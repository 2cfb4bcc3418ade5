fn main() {
    std::process::exit(flightdeck::cli::main());
}
