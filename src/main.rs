//! The `soundsticker` command: parses arguments, calls the library, shows progress and results.
//!
//! Exit status: 0 success; 1 processing failed (encoding, writing, a target that cannot be met);
//! 2 usage or input error (bad option, unreadable or unsupported input, range outside the track, bad
//! manifest); 70 internal error (a bug: a panic, caught and reported in one line); 130 interrupted
//! (Ctrl-C), with the previous output untouched.

mod cli;

use clap::Parser;
use std::process::ExitCode;

/// Exit status of an internal error (EX_SOFTWARE in sysexits.h).
const INTERNAL_ERROR: u8 = 70;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let json = args.json;
    let panic_at = catch_panics_quietly();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // The test suite proves the report below with a deliberate panic.
        if std::env::var_os("SOUNDSTICKER_TEST_PANIC").is_some() {
            panic!("deliberate panic for the test suite");
        }
        cli::run(args)
    }));
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(_) => return internal_error(json, &panic_at),
    };
    match outcome {
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

/// Where and why the last panic happened, recorded by the panic hook instead of printing a
/// backtrace, so that [`internal_error`] can report it in one line.
type PanicNote = std::sync::Arc<std::sync::Mutex<Option<String>>>;

/// Replace the panic hook with one that records the panic (with `RUST_BACKTRACE` set, the default
/// hook prints it too, for whoever debugs it).
fn catch_panics_quietly() -> PanicNote {
    let note: PanicNote = PanicNote::default();
    let keep = note.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut slot) = keep.lock() {
            slot.get_or_insert(format!("{what}{place}"));
        }
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            default_hook(info);
        }
    }));
    note
}

/// Report a caught panic in one line naming the command and its inputs, exit 70.
fn internal_error(json: bool, note: &PanicNote) -> ExitCode {
    let what = note
        .lock()
        .ok()
        .and_then(|n| n.clone())
        .unwrap_or_else(|| "unknown panic".into());
    let command: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let message = format!(
        "internal error ({what}) while running `{}`; this is a bug in soundsticker: please report it with this line and the input files",
        command.join(" ")
    );
    if json {
        cli::render::print_json(&serde_json::json!({
            "error": { "message": message, "exit_code": INTERNAL_ERROR }
        }));
    }
    eprintln!("error: {message}");
    ExitCode::from(INTERNAL_ERROR)
}
