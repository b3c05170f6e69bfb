//! Command-line definitions and the glue from arguments to library calls.

mod args;
mod progress_bar;
pub mod render;

pub use args::Cli;
use args::{Command, clip_options, cover_options};
use soundsticker::pack::InitOptions;
use soundsticker::{ClipRequest, CoverRequest, Error, Setting, Timecode};
use std::process::ExitCode;

/// Run the parsed command.
/// A bar on a terminal, lines in logs and pipes (and with CI set), nothing with --quiet.
fn progress_mode(cli: &Cli) -> progress_bar::Mode {
    if cli.quiet {
        progress_bar::Mode::Silent
    } else if progress_bar::interactive() {
        progress_bar::Mode::Bar
    } else {
        progress_bar::Mode::Lines
    }
}

pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let flag_of = flags_of(&cli.command);
    run_command(cli).map_err(|e| {
        let error = e.name_setting(|setting| Some(flag_of(setting)));
        // Errors that blame a setting without naming it (a byte budget that cannot be met) point
        // at the flag that sets it.
        let hint = error
            .blamed_setting()
            .map(|setting| format!("{} sets it", flag_of(setting)));
        Failure { error, hint }
    })
}

/// A command's error, and the flag to change when the error blames a setting it does not name.
pub struct Failure {
    /// What went wrong.
    pub error: Error,
    /// e.g. "--max-bytes sets it".
    pub hint: Option<String>,
}

/// How `command` names the library's settings: each as its flag.
fn flags_of(command: &Command) -> impl Fn(Setting) -> String + use<> {
    let platforms = match command {
        Command::Init { .. } => "--platforms",
        _ => "--platform",
    };
    move |setting| match setting {
        Setting::WavBits => "--bits".into(),
        Setting::Platforms => platforms.into(),
        other => format!("--{}", other.name().replace('_', "-")),
    }
}

/// Long because it is one arm per command, each turning arguments into a library call and printing
/// its report; the arguments' parsing lives in `args`.
fn run_command(cli: Cli) -> Result<ExitCode, Error> {
    let show_progress = !cli.quiet && !cli.json && progress_bar::interactive();
    let mode = progress_mode(&cli);
    match cli.command {
        Command::Probe { files } => {
            let bar = progress_bar::Bar::new(show_progress);
            let mut results = Vec::new();
            let mut worst = 0u8;
            for f in &files {
                let r = soundsticker::probe(f, &bar);
                if let Err(e) = &r {
                    worst = worst.max(e.exit_code());
                }
                results.push(r);
            }
            bar.finish();
            if cli.json {
                render::probe_json(&files, &results);
            } else {
                render::probe_human(&results);
            }
            Ok(ExitCode::from(worst))
        }
        Command::Init {
            dir,
            duration,
            platforms,
            force,
        } => {
            let mut opts = InitOptions::default();
            opts.duration = Timecode::parse_field(&duration, "--duration")?;
            if !platforms.is_empty() {
                opts.platforms = platforms;
            }
            opts.force = force;
            let path = soundsticker::pack::init(&dir, &opts)?;
            if cli.json {
                render::print_json(&serde_json::json!({ "manifest": path }));
            } else {
                eprintln!(
                    "wrote {}: review the emojis, titles and ranges, and telegram.bot_username",
                    path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Build {
            manifest,
            out,
            platform,
            jobs,
            force,
            cache,
            no_cache,
            shard,
            merge,
            keep_going,
        } => {
            let cancel = soundsticker::CancelToken::new();
            stop_on_ctrl_c(&cancel);
            let mut opts = soundsticker::pack::BuildOptions::default();
            opts.out = out;
            opts.platforms = platform;
            opts.jobs = jobs;
            opts.cache = cache;
            opts.no_cache = no_cache;
            opts.force = force;
            opts.shard = shard;
            opts.merge = merge;
            opts.keep_going = keep_going;
            opts.test_image_caps = test_image_caps()?;
            opts.cancel = cancel;
            let bar = progress_bar::BuildBar::new(mode);
            let report = soundsticker::pack::build(&manifest, &opts, &bar);
            bar.finish();
            let report = report?;
            if cli.json {
                render::print_json(&report);
            } else {
                render::build_human(&report);
            }
            // As `make -k`: the packs of the others are written, and the status still says some
            // stickers are missing.
            Ok(if report.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Validate { path, platform } => {
            let report = soundsticker::pack::validate(&path, platform)?;
            if cli.json {
                render::print_json(&report);
            } else {
                render::validate_human(&report);
            }
            Ok(if report.violations.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Schema => {
            println!("{}", soundsticker::pack::schema_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Cover(args) => {
            quit_on_ctrl_c();
            let req = CoverRequest {
                cover: args.cover.clone(),
                audio: args.audio.clone(),
                output: args.output.clone(),
                options: cover_options(&args)?,
            };
            let bar = progress_bar::Bar::new(show_progress);
            let report = soundsticker::cover(&req, &bar);
            bar.finish();
            let report = report?;
            if cli.json {
                render::print_json(&report);
            } else {
                render::cover_human(&report);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Clip(args) => {
            quit_on_ctrl_c();
            let req = ClipRequest {
                input: args.master.clone(),
                output: args.output.clone(),
                options: clip_options(&args)?,
            };
            let bar = progress_bar::Bar::new(show_progress);
            let report = soundsticker::clip(&req, &bar);
            bar.finish();
            let report = report?;
            if cli.json {
                render::print_json(&report);
            } else {
                render::clip_human(&report);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Test-only image caps from `SOUNDSTICKER_TEST_IMAGE_CAP` (`ID:PLATFORM:BYTES`, comma-separated),
/// so the tests can make one sticker impossible to fit (see `BuildOptions::test_image_caps`).
fn test_image_caps() -> Result<Vec<(String, soundsticker::Platform, u64)>, Error> {
    const VAR: &str = "SOUNDSTICKER_TEST_IMAGE_CAP";
    let Ok(value) = std::env::var(VAR) else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(|entry| {
            let mut parts = entry.rsplitn(3, ':');
            let (bytes, platform, id) = (parts.next(), parts.next(), parts.next());
            match (id, platform.map(str::parse), bytes.map(str::parse)) {
                (Some(id), Some(Ok(platform)), Some(Ok(bytes))) => {
                    Ok((id.to_string(), platform, bytes))
                }
                _ => Err(Error::invalid(
                    VAR,
                    format!("`{entry}` is not ID:PLATFORM:BYTES (a test-only setting)"),
                )),
            }
        })
        .collect()
}

/// First Ctrl-C: `cancel` (the build stops after the pieces in flight and removes its staging folder);
/// second: remove the unfinished staging folders and exit at once (130).
fn stop_on_ctrl_c(cancel: &soundsticker::CancelToken) {
    let cancel = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if cancel.cancel() {
            cancel.remove_unfinished();
            std::process::exit(130);
        }
        eprintln!("\nstopping: finishing the stickers in flight (Ctrl-C again to quit at once)");
    });
}

/// Ctrl-C (or SIGTERM) during `clip` or `cover`, which write one file at the end: remove the
/// unfinished output's temporary file and exit at once (130), leaving nothing behind.
fn quit_on_ctrl_c() {
    let _ = ctrlc::set_handler(|| {
        soundsticker::discard_pending_outputs();
        eprintln!("\nerror: {}", Error::Cancelled);
        std::process::exit(130);
    });
}
