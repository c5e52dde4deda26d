//! Drives the real `golive` binary in tmux the way a person uses it: start the demo cockpit,
//! tick a manual item, quit, start again, and find the tick still there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Upper bound for the cockpit to reach an expected screen; only guards against a hang.
const SCREEN_WAIT: Duration = Duration::from_secs(60);

/// A tmux server of its own (separate socket) so that tests never touch a user's tmux.
struct Tmux {
    socket: PathBuf,
    session: String,
}

impl Tmux {
    fn new(dir: &Path, session: &str) -> Tmux {
        Tmux {
            socket: dir.join(format!("{session}.sock")),
            session: session.to_string(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux must be installed (scripts/test installs it)");
        assert!(
            output.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Starts `command` in a new 120×40 window; the window stays after the command ends so that
    /// its last screen and the exit marker can be read.
    fn start(&self, command: &str) {
        let shell = format!("{command}; echo \"golive exited with $?\"; sleep 600");
        self.run(&[
            "new-session",
            "-d",
            "-s",
            &self.session,
            "-x",
            "120",
            "-y",
            "40",
            &shell,
        ]);
    }

    fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn screen(&self) -> String {
        let output = self.run(&["capture-pane", "-p", "-t", &self.session]);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits until the screen shows a line matching `predicate`, returning the screen.
    fn wait_for(&self, what: &str, predicate: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.lines().any(&predicate) {
                return screen;
            }
            assert!(
                start.elapsed() < SCREEN_WAIT,
                "screen never showed {what}:\n{screen}"
            );
            sleep(Duration::from_millis(200));
        }
    }

    fn kill(&self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.kill();
    }
}

fn demo_command(home: &Path) -> String {
    format!(
        "cd {repo} && XDG_DATA_HOME={home}/data XDG_STATE_HOME={home}/state \
         XDG_CONFIG_HOME={home}/config {bin} demo --as 'Test Lead <lead@example.com>'",
        repo = env!("CARGO_MANIFEST_DIR"),
        home = home.display(),
        bin = env!("CARGO_BIN_EXE_golive"),
    )
}

fn freeze_row_done(line: &str) -> bool {
    line.contains("Change freeze announced") && line.contains("done")
}

#[test]
fn tick_survives_quit_and_restart() {
    let home = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::new(home.path(), "golive-e2e");

    tmux.start(&demo_command(home.path()));
    let first = tmux.wait_for("the demo's first manual item", |line| {
        line.contains("Change freeze announced") && line.contains("pending")
    });
    assert!(first.contains("Preflight"), "phase list missing:\n{first}");
    // Live checks reach the demo target: at least one pass shows up.
    tmux.wait_for("a passing check", |line| {
        line.contains("pass") && line.contains("Health")
    });

    tmux.send_keys(&["Space"]);
    tmux.wait_for("the ticked item", freeze_row_done);
    tmux.send_keys(&["q"]);
    let after_quit = tmux.wait_for("the exit marker", |line| {
        line.contains("golive exited with")
    });
    assert!(
        after_quit.contains("golive exited with 0"),
        "quit was not clean:\n{after_quit}"
    );
    tmux.kill();

    let tmux = Tmux::new(home.path(), "golive-e2e-again");
    tmux.start(&demo_command(home.path()));
    let resumed = tmux.wait_for("the tick after restart", freeze_row_done);
    assert!(
        resumed.contains("☑"),
        "done symbol missing after restart:\n{resumed}"
    );
    tmux.send_keys(&["q"]);
    tmux.wait_for("the exit marker", |line| {
        line.contains("golive exited with 0")
    });
}
