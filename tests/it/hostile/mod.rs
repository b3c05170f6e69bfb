//! Hostile input (issue "Hostile files"): files made as an attacker would. Each test asserts the exit
//! status (1 or 2, never 101 or 134), a one-line message naming the file and the rule, bounded time,
//! and that nothing is left behind.

mod audio;
mod build;
mod validate;

use crate::util::*;

/// A panic that still happens is reported in one line naming the command, with exit status 70.
#[test]
fn a_panic_is_an_internal_error_in_one_line() {
    let res = bin()
        .env("SOUNDSTICKER_TEST_PANIC", "1")
        .env_remove("RUST_BACKTRACE")
        .args(["probe", "some-master.wav"])
        .output()
        .expect("run");
    assert_eq!(res.status.code(), Some(70));
    let err = stderr(&res);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: internal error"), "{err}");
    assert!(err.contains("some-master.wav"), "names the input: {err}");
    assert!(err.contains("please report"), "{err}");
}
