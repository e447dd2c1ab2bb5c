//! Running the tools the tasks drive: cargo (the one running xtask, by `$CARGO`) and git.

use std::path::Path;
use std::process::Command;

/// `cargo <args>` in `dir`, with the cargo that runs this task.
pub(crate) fn cargo(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.current_dir(dir).args(args);
    command
}

/// `git <args>` in `root`: its standard output, or why it failed.
pub(crate) fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new("git");
    command.args(args).current_dir(root);
    output(&mut command)
}

/// Runs `command` to its end: its standard output, or its standard error as the reason.
pub(crate) fn output(command: &mut Command) -> Result<String, String> {
    let output = command.output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        String::from_utf8(output.stdout).map_err(|e| format!("{command:?}: {e}"))
    } else {
        Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr).trim()))
    }
}
