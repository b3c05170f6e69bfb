//! The `soundsticker` command: parses arguments, calls the library, shows progress and results.
//!
//! Exit status: 0 success; 1 processing failed (encoding, writing, a target that cannot be met);
//! 2 usage or input error (bad option, unreadable or unsupported input, range outside the track, bad
//! manifest); 130 interrupted (Ctrl-C), with the previous output untouched.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let json = args.json;
    match cli::run(args) {
        Ok(code) => code,
        Err(cli::Failure { error: err, hint }) => {
            if json {
                // Scripts reading --json get the failure on stdout too, in the same shape every time.
                cli::render::print_json(&cli::render::error_json(&err));
            }
            eprintln!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            if let Some(hint) = hint {
                eprintln!("  hint: {hint}");
            }
            ExitCode::from(err.exit_code())
        }
    }
}
