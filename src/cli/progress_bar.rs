//! The terminal side of `Progress`: an indicatif spinner/bar on stderr, plain lines, or nothing.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use soundsticker::{Progress, Stage};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

/// True when progress should be drawn: stderr is a terminal and CI is not set.
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false")
}

/// A progress display that may be hidden.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new(visible: bool) -> Self {
        let bar = if visible {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn stage(&self, item: &str, stage: Stage) {
        self.bar.set_prefix(item.to_string());
        self.bar.set_message(stage.label());
    }

    fn advance(&self, done: u64, total: u64) {
        if total > 0 {
            if self.bar.length() != Some(total) {
                // Work with a known size gets a bar with percentage and ETA instead of the spinner.
                self.bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {prefix} {msg} {wide_bar} {percent:>3}% eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            self.bar.set_length(total);
            self.bar.set_position(done.min(total));
        }
    }
}

/// How a long job shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A live bar on a terminal.
    Bar,
    /// One line per finished piece on stderr (CI logs, pipes).
    Lines,
    /// Nothing (`--quiet`).
    Silent,
}

/// The pack build's display: one overall bar with ETA and a count of pieces per stage, or plain lines;
/// and the Ctrl-C flag the build polls to stop cleanly.
pub struct BuildBar {
    mode: Mode,
    bar: ProgressBar,
    stages: Mutex<BTreeMap<String, Stage>>,
    started: Instant,
}

impl BuildBar {
    pub fn new(mode: Mode) -> Self {
        let bar = if mode == Mode::Bar {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        // No count, bar or ETA until the first sticker is done: a bar of 0/0 shows full.
        bar.set_style(
            ProgressStyle::with_template("{spinner} building\n  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        BuildBar {
            mode,
            bar,
            stages: Mutex::new(BTreeMap::new()),
            started: Instant::now(),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn stages(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Stage>> {
        self.stages.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// "2 encoding · 1 rendering": what the pieces in flight are doing.
    fn summary(stages: &BTreeMap<String, Stage>) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for s in stages.values() {
            *counts.entry(s.label()).or_default() += 1;
        }
        counts
            .iter()
            .map(|(label, n)| format!("{n} {label}"))
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

impl Progress for BuildBar {
    fn stage(&self, item: &str, stage: Stage) {
        if self.mode == Mode::Silent {
            return;
        }
        let mut stages = self.stages();
        stages.insert(item.to_string(), stage);
        if self.mode == Mode::Bar {
            self.bar.set_message(Self::summary(&stages));
        }
    }

    fn item_done(&self, item: &str, done: u64, total: u64) {
        let last = {
            let mut stages = self.stages();
            let last = stages.remove(item);
            self.bar.set_message(Self::summary(&stages));
            last
        };
        match self.mode {
            Mode::Bar => {
                if self.bar.length() == Some(0) {
                    self.bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner} building {pos}/{len} {wide_bar} eta {eta}\n  {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                }
                self.bar.set_length(total);
                self.bar.set_position(done);
            }
            Mode::Lines => eprintln!(
                "[{done}/{total}] {item}{} ({:.0} s)",
                match last {
                    Some(Stage::Cached) => " (cached)",
                    Some(Stage::Failed) => " FAILED (listed at the end)",
                    _ => "",
                },
                self.started.elapsed().as_secs_f64()
            ),
            Mode::Silent => {}
        }
    }
}
