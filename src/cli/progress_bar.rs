//! The terminal side of `Progress`: an indicatif spinner/bar on stderr, or nothing.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use soundsticker::{Progress, Stage};
use std::io::IsTerminal;

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
