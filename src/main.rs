//! The `zaffre` binary: everything lives in the crates; this only hands the
//! process arguments to the command line crate and turns its result into an exit code.

fn main() -> std::process::ExitCode {
    zaffre_cli::main()
}
