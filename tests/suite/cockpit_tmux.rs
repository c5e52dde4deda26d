//! Drives the real `golive` binary in tmux the way a person uses it. One test starts the demo
//! cockpit, ticks a manual item, quits, starts again, and finds the tick still there. The other
//! runs a launch with a waiver and a sign-off to its signed record, which the stock `ssh-keygen`
//! verifies. A third opens the AWS demo against moto and finds an AWS check passing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
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

/// A launch with manual items only: `backup` fails and is waived, `freeze` is ticked, and the
/// lead signs off.
const SIGNED_LAUNCH: &str = r#"
[checklist]
title = "Signed launch"

[environments.staging]
base_url = "http://127.0.0.1:9"

[[phases]]
id = "go"
title = "Go"

[[phases.items]]
id = "backup"
title = "Backup restored"
steps = ["Restore last night's backup"]

[[phases.items]]
id = "freeze"
title = "Change freeze announced"
steps = ["Announce the freeze"]

[[signoffs]]
id = "go-call"
title = "Launch lead calls GO"
role = "lead"
"#;

const LEAD_EMAIL: &str = "lead@example.com";

/// Makes an unencrypted ed25519 key with the stock ssh-keygen.
fn keygen(dir: &Path) -> PathBuf {
    let key = dir.join("signer");
    let output = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(&key)
        .stdin(Stdio::null())
        .output()
        .expect("ssh-keygen runs");
    assert!(output.status.success(), "ssh-keygen failed: {output:?}");
    key
}

/// Finds the one `launch-record-*` folder the cockpit wrote into `dir`.
fn record_folder(dir: &Path) -> PathBuf {
    let folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the working folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("launch-record-staging-"))
        })
        .collect();
    assert_eq!(folders.len(), 1, "record folders: {folders:?}");
    folders[0].clone()
}

#[test]
fn waive_sign_export_verified_by_ssh_keygen() {
    let home = tempfile::tempdir().expect("temp dir");
    let root = home.path();
    std::fs::write(root.join("launch.toml"), SIGNED_LAUNCH).expect("write checklist");
    let key = keygen(root);
    let config_dir = root.join("config").join("golive");
    std::fs::create_dir_all(&config_dir).expect("config folder");
    let config = format!(
        "[identity]\nname = \"Test Lead\"\nemail = \"{LEAD_EMAIL}\"\nsigning_key = \"{}\"\n",
        key.display()
    );
    std::fs::write(config_dir.join("config.toml"), config).expect("write config");

    let tmux = Tmux::new(root, "golive-export");
    tmux.start(&format!(
        "cd {root} && HOME={root} XDG_DATA_HOME={root}/data XDG_STATE_HOME={root}/state \
         XDG_CONFIG_HOME={root}/config {bin} open launch.toml --env staging",
        root = root.display(),
        bin = env!("CARGO_BIN_EXE_golive"),
    ));
    tmux.wait_for("the first item", |line| {
        line.contains("Backup restored") && line.contains("pending")
    });

    tmux.send_keys(&["x"]);
    tmux.wait_for("the failed item", |line| {
        line.contains("Backup restored") && line.contains("failed")
    });
    // The form's fields: reason, risk (proposed), control, expiry (proposed), approver.
    tmux.send_keys(&["w"]);
    tmux.send_keys(&["-l", "restore drill moved to Monday"]);
    tmux.send_keys(&["Enter", "Enter"]);
    tmux.send_keys(&["-l", "nightly snapshots kept for 30 days"]);
    tmux.send_keys(&["Enter", "Enter"]);
    tmux.send_keys(&["-l", "Bo Berg <bo@example.com>"]);
    tmux.send_keys(&["Enter"]);
    tmux.wait_for("the waived item", |line| {
        line.contains("Backup restored") && line.contains("waived")
    });

    tmux.send_keys(&["j", "Space"]);
    tmux.wait_for("the ticked item", |line| {
        line.contains("Change freeze announced") && line.contains("done")
    });
    tmux.send_keys(&["s"]);
    tmux.send_keys(&["-l", "lead"]);
    tmux.send_keys(&["Enter"]);
    tmux.wait_for("the sign-off in the log", |line| {
        line.contains("sign-off go-call given")
    });

    tmux.send_keys(&["E"]);
    tmux.wait_for("the export in the log", |line| {
        line.contains("launch record written to")
    });
    tmux.send_keys(&["q"]);
    let after_quit = tmux.wait_for("the exit marker", |line| {
        line.contains("golive exited with")
    });
    assert!(
        after_quit.contains("golive exited with 0"),
        "quit was not clean:\n{after_quit}"
    );

    let folder = record_folder(root);
    let public_key = std::fs::read_to_string(key.with_extension("pub")).expect("public key");
    let allowed = root.join("allowed_signers");
    std::fs::write(
        &allowed,
        format!("{LEAD_EMAIL} namespaces=\"golive-launch-record\" {public_key}"),
    )
    .expect("write allowed_signers");
    let record_bytes = std::fs::read(folder.join("record.json")).expect("record.json");
    let verify = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&allowed)
        .args(["-I", LEAD_EMAIL, "-n", "golive-launch-record", "-s"])
        .arg(folder.join("record.json.sig"))
        .stdin(std::fs::File::open(folder.join("record.json")).expect("open record.json"))
        .output()
        .expect("ssh-keygen runs");
    let verify_out = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");
    assert!(verify_out.contains("Good"), "{verify_out}");

    let record: serde_json::Value = serde_json::from_slice(&record_bytes).expect("record JSON");
    let predicate = &record["predicate"];
    assert_eq!(predicate["decision"], "go");
    assert_eq!(predicate["waivers"][0]["item"], "backup");
    assert_eq!(
        predicate["waivers"][0]["approved_by"],
        "Bo Berg <bo@example.com>"
    );
    assert_eq!(
        predicate["waivers"][0]["reason"],
        "restore drill moved to Monday"
    );
    assert_eq!(predicate["sign_offs"][0]["id"], "go-call");
    assert_eq!(predicate["sign_offs"][0]["role"], "lead");
    assert_eq!(
        predicate["sign_offs"][0]["by"],
        format!("Test Lead <{LEAD_EMAIL}>")
    );
    assert_eq!(predicate["phases"][0]["items"][0]["status"], "waived");
}

#[test]
fn aws_demo_ignores_user_settings() {
    let moto = crate::support::moto::MotoServer::start();
    let home = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::new(home.path(), "golive-e2e-aws");
    // Without keys and with a profile that exists nowhere, the AWS checks could only pass if
    // golive replaces these settings with its fake keys. The metadata service stays off either
    // way.
    let command = format!(
        "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; \
         export AWS_PROFILE=golive-missing-profile AWS_EC2_METADATA_DISABLED=true; \
         {} --aws {}",
        demo_command(home.path()),
        moto.endpoint()
    );

    tmux.start(&command);
    tmux.wait_for("the demo's first manual item", |line| {
        line.contains("Change freeze announced")
    });
    tmux.send_keys(&["/"]);
    tmux.send_keys(&["-l", "Cases table"]);
    tmux.send_keys(&["Enter"]);
    tmux.wait_for("a passing AWS check", |line| {
        line.contains("Cases table") && line.contains("pass")
    });

    tmux.send_keys(&["q"]);
    tmux.wait_for("the exit marker", |line| {
        line.contains("golive exited with 0")
    });
}

/// Makes an ed25519 key encrypted with `passphrase` with the stock ssh-keygen.
fn keygen_encrypted(dir: &Path, passphrase: &str) -> PathBuf {
    let key = dir.join("encrypted-signer");
    let output = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", "test", "-f"])
        .arg(&key)
        .stdin(Stdio::null())
        .output()
        .expect("ssh-keygen runs");
    assert!(output.status.success(), "ssh-keygen failed: {output:?}");
    key
}

/// Returns the command that opens `launch.toml` in `root`, with no passphrase in the
/// environment so that the cockpit prompts for it.
fn open_command(root: &Path, extra: &str) -> String {
    format!(
        "cd {root} && env -u GOLIVE_KEY_PASSPHRASE HOME={root} XDG_DATA_HOME={root}/data \
         XDG_STATE_HOME={root}/state XDG_CONFIG_HOME={root}/config {bin} open launch.toml \
         --env staging {extra}",
        root = root.display(),
        bin = env!("CARGO_BIN_EXE_golive"),
    )
}

#[test]
fn export_after_wrong_passphrase_clears_error() {
    let home = tempfile::tempdir().expect("temp dir");
    let root = home.path();
    std::fs::write(root.join("launch.toml"), SIGNED_LAUNCH).expect("write checklist");
    let key = keygen_encrypted(root, "right horse");
    let config_dir = root.join("config").join("golive");
    std::fs::create_dir_all(&config_dir).expect("config folder");
    let config = format!(
        "[identity]\nname = \"Test Lead\"\nemail = \"{LEAD_EMAIL}\"\nsigning_key = \"{}\"\n",
        key.display()
    );
    std::fs::write(config_dir.join("config.toml"), config).expect("write config");

    let tmux = Tmux::new(root, "golive-passphrase");
    tmux.start(&open_command(root, ""));
    let first = tmux.wait_for("the first item", |line| {
        line.contains("Backup restored") && line.contains("pending")
    });
    assert!(first.contains("new session: "), "{first}");
    assert!(!first.contains("resumed session"), "{first}");

    tmux.send_keys(&["E"]);
    tmux.wait_for("the passphrase prompt", |line| {
        line.contains("passphrase for")
    });
    tmux.send_keys(&["-l", "wrong horse"]);
    tmux.send_keys(&["Enter"]);
    tmux.wait_for("the export error", |line| {
        line.contains("✘ launch record not written")
    });

    tmux.send_keys(&["E"]);
    tmux.wait_for("the passphrase prompt", |line| {
        line.contains("passphrase for")
    });
    // Ctrl-U clears what was typed, so only the right passphrase reaches the key.
    tmux.send_keys(&["-l", "typo"]);
    tmux.send_keys(&["C-u"]);
    tmux.send_keys(&["-l", "right horse"]);
    tmux.send_keys(&["Enter"]);
    let written = tmux.wait_for("the export in the log", |line| {
        line.contains("launch record written to")
    });
    assert!(
        !written.contains("✘ launch record not written"),
        "the old error stayed on the status line:\n{written}"
    );
    record_folder(root);
}

#[test]
fn new_session_names_moved_journal() {
    let home = tempfile::tempdir().expect("temp dir");
    let root = home.path();
    std::fs::write(root.join("launch.toml"), SIGNED_LAUNCH).expect("write checklist");

    let tmux = Tmux::new(root, "golive-new-session");
    tmux.start(&open_command(root, ""));
    tmux.wait_for("the first item", |line| {
        line.contains("Backup restored") && line.contains("pending")
    });
    // A waiver form's expiry field: Ctrl-U clears it instead of typing `u`.
    tmux.send_keys(&["x"]);
    tmux.wait_for("the failed item", |line| {
        line.contains("Backup restored") && line.contains("failed")
    });
    tmux.send_keys(&["w", "Tab", "Tab", "Tab"]);
    tmux.send_keys(&["-l", "abc"]);
    tmux.send_keys(&["C-u"]);
    let form = tmux.wait_for("the emptied expiry field", |line| {
        line.contains("▸expires") && !line.contains("abc")
    });
    assert!(!form.contains("Zu"), "{form}");
    // Esc and q in one write would read as Alt-q, so the form closes before q is sent.
    tmux.send_keys(&["Escape"]);
    tmux.wait_for("the closed form", |line| line.contains("waiver cancelled"));
    tmux.send_keys(&["q"]);
    tmux.wait_for("the exit marker", |line| {
        line.contains("golive exited with")
    });
    tmux.kill();

    let tmux = Tmux::new(root, "golive-new-session-2");
    tmux.start(&open_command(root, "--new-session"));
    tmux.wait_for("the first item", |line| {
        line.contains("Backup restored") && line.contains("pending")
    });
    let journals = root.join("data").join("golive").join("journals");
    let names = walk_files(&journals);
    assert_eq!(names.len(), 2, "journals: {names:?}");
    // The journal in use keeps its name, which the moved one extends with a time.
    let current = names
        .iter()
        .min_by_key(|name| name.len())
        .expect("two names");
    let moved = names
        .iter()
        .find(|name| *name != current)
        .expect("the moved journal");
    let screen = tmux.wait_for("the moved journal in the log", |line| line.contains(moved));
    assert!(screen.contains("new session: "), "{screen}");
}

/// Returns the names of the files under `dir`, at any depth.
fn walk_files(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return names;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            names.extend(walk_files(&path));
        } else if let Some(name) = path.file_name() {
            names.push(name.to_string_lossy().into_owned());
        }
    }
    names
}
