//! The signed launch record: building it from a session, keeping secrets out, and signing it
//! with keys made by the stock `ssh-keygen`. Both `ssh-keygen -Y verify` and `golive verify`
//! check the signatures. Also `golive journal verify` on good and tampered journals.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use golive::checklist::Checklist;
use golive::checklist::loader::{self, LoadDefaults, load_str_with_env};
use golive::checks::{Assertion, CheckResult, Evidence, FileDigest, Outcome};
use golive::journal::file;
use golive::journal::{Event, EventKind, Journal};
use golive::record::allowed_signers;
use golive::record::verify::{VerifyRequest, verify};
use golive::record::{self, LaunchRecord, RecordSource};
use golive::session::Session;

/// The signer's email in every test key and config.
const EMAIL: &str = "lead@golive.invalid";
/// The secret registered by the checklist of the secret tests.
const SECRET: &str = "tok-3f9a|`<b>`-s3cr3t";
/// A fixed generation time, so that builds can be compared byte for byte.
const GENERATED_AT: &str = "2026-02-16T06:00:00Z";

/// A checklist with one manual item and one check, small enough for a record of about 2 KB.
const SMALL_CHECKLIST: &str = r#"
[checklist]
title = "Tiny launch"

[environments.staging]
base_url = "http://127.0.0.1:9"

[[phases]]
id = "go"
title = "Go"

[[phases.items]]
id = "dns"
title = "DNS switched"
owner = "ops"
steps = ["Switch DNS"]
"#;

/// The upper bound on one run of the binary, so that a run blocked on a FIFO fails the test
/// instead of hanging it.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the binary in `home` with every XDG folder and HOME inside it, and kills it after
/// [`RUN_TIMEOUT`].
fn golive(home: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_golive"));
    command
        .args(args)
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("GOLIVE_KEY_PASSPHRASE")
        .stdin(Stdio::null());
    for (name, value) in envs {
        command.env(name, value);
    }
    run_with_timeout(&mut command, args)
}

/// Runs a command with piped output, killing it when it outlives [`RUN_TIMEOUT`].
fn run_with_timeout(command: &mut Command, args: &[&str]) -> Output {
    use std::io::Read;

    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("golive runs");
    // Both pipes are drained while the child runs, so a full pipe never blocks it.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stdout_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stdout.read_to_end(&mut bytes).map(|_| bytes)
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        stderr.read_to_end(&mut bytes).map(|_| bytes)
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("golive {args:?} did not finish within {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout_reader.join().unwrap().unwrap(),
        stderr: stderr_reader.join().unwrap().unwrap(),
    }
}

/// Makes a FIFO with the stock `mkfifo`.
fn mkfifo(path: &Path) {
    let output = Command::new("mkfifo")
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("mkfifo runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Makes a key with the stock ssh-keygen, always with a comment and never in ~/.ssh.
fn keygen(dir: &Path, name: &str, args: &[&str], passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    let output = Command::new("ssh-keygen")
        .args(["-q", "-C", EMAIL, "-N", passphrase, "-f"])
        .arg(&path)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ssh-keygen runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    path
}

/// A launch folder: the checklist, a config.toml naming the journal folder, the signing key
/// and the identity, and a journal with a tick.
struct Launch {
    home: tempfile::TempDir,
    checklist: PathBuf,
}

impl Launch {
    fn new(key_args: &[&str], passphrase: &str) -> Launch {
        let home = tempfile::tempdir().unwrap();
        let root = home.path();
        let checklist = root.join("tiny.toml");
        fs::write(&checklist, SMALL_CHECKLIST).unwrap();
        let key = keygen(root, "signer", key_args, passphrase);
        let config = format!(
            "[identity]\nname = \"Lead\"\nemail = \"{EMAIL}\"\nsigning_key = \"{}\"\n\
             [paths]\njournal_dir = \"{}\"\nlog_file = \"{}\"\n",
            key.display(),
            root.join("journals").display(),
            root.join("golive.log").display()
        );
        fs::write(root.join("config.toml"), config).unwrap();
        let launch = Launch { home, checklist };
        let mut journal =
            file::open(&launch.journals(), &launch.load(), false, "Lead <lead>").unwrap();
        journal
            .append("Lead <lead>", EventKind::Ticked { item: "dns".into() })
            .unwrap();
        launch
    }

    fn root(&self) -> &Path {
        self.home.path()
    }

    fn journals(&self) -> PathBuf {
        self.root().join("journals")
    }

    fn load(&self) -> Checklist {
        loader::load(
            &self.checklist,
            Some("staging"),
            &BTreeMap::new(),
            &LoadDefaults::default(),
        )
        .unwrap()
        .checklist
    }

    fn journal_path(&self) -> PathBuf {
        file::path_for(&self.journals(), &self.load())
    }

    fn export(&self, extra: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut args = vec!["export", "tiny.toml", "--env", "staging", "--out", "rec"];
        args.extend_from_slice(extra);
        golive(self.root(), &args, envs)
    }

    fn record_dir(&self) -> PathBuf {
        self.root().join("rec")
    }

    /// Writes the allowed_signers line that `export` printed, and returns the file's path.
    fn write_allowed_signers(&self, export_stdout: &str) -> PathBuf {
        let line = export_stdout
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with(EMAIL))
            .expect("export prints an allowed_signers line")
            .to_string();
        let path = self.root().join("allowed_signers");
        fs::write(&path, format!("{line}\n")).unwrap();
        path
    }
}

/// Runs `ssh-keygen -Y verify` on a record and signature.
fn ssh_keygen_verify(allowed: &Path, signature: &Path, record: &[u8]) -> Output {
    use std::io::Write;

    let mut child = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", EMAIL, "-n", record::SIGNATURE_NAMESPACE, "-s"])
        .arg(signature)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh-keygen runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(record).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn golive_verify_bytes(
    record_path: &Path,
    bytes: &[u8],
    signature: &str,
    allowed: &str,
) -> golive::record::verify::Verification {
    let signers = allowed_signers::parse(allowed).unwrap();
    verify(&VerifyRequest {
        record_path,
        record_bytes: bytes,
        signature_path: Path::new("record.json.sig"),
        signature_pem: signature,
        allowed_signers: &signers,
        identity: Some(EMAIL),
        journal: None,
        now: jiff::Timestamp::now(),
    })
}

#[test]
fn export_verified_by_ssh_keygen_and_golive() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let output = launch.export(&[], &[]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(stdout.contains("ssh-keygen -Y verify"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{EMAIL} namespaces=\"golive-launch-record\" ssh-ed25519 AAAA"
        )),
        "{stdout}"
    );
    let allowed = launch.write_allowed_signers(&stdout);
    let dir = launch.record_dir();
    let bytes = fs::read(dir.join("record.json")).unwrap();
    assert!(dir.join("record.md").is_file());

    let checked = ssh_keygen_verify(&allowed, &dir.join("record.json.sig"), &bytes);
    let checked_out = text(&checked.stdout) + &text(&checked.stderr);
    assert_eq!(checked.status.code(), Some(0), "{checked_out}");
    assert!(checked_out.contains("Good \"golive-launch-record\" signature"));

    let journal = launch.journal_path();
    let ours = golive(
        launch.root(),
        &[
            "verify",
            "rec/record.json",
            "--allowed-signers",
            "allowed_signers",
            "--identity",
            EMAIL,
            "--journal",
            journal.to_str().unwrap(),
        ],
        &[],
    );
    let ours_out = text(&ours.stdout);
    assert_eq!(
        ours.status.code(),
        Some(0),
        "{ours_out}{}",
        text(&ours.stderr)
    );
    assert!(ours_out.contains("valid launch record"), "{ours_out}");
    assert!(ours_out.contains("checklist"), "{ours_out}");
    assert!(ours_out.contains("head matches the record"), "{ours_out}");

    let record = LaunchRecord::from_json(&bytes).unwrap();
    assert_eq!(record.subject[0].name, "tiny.toml");
    assert_eq!(record.predicate.journal.length, 2);
    let dns = &record.predicate.phases[0].items[0];
    assert_eq!(dns.status, "done");
    assert_eq!(
        dns.mark.as_ref().map(|mark| mark.by.as_str()),
        Some("Lead <lead>")
    );
}

#[test]
fn export_never_overwrites() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let first = launch.export(&["--no-sign"], &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let before = fs::read(launch.record_dir().join("record.json")).unwrap();
    let second = launch.export(&["--no-sign"], &[]);
    assert_eq!(second.status.code(), Some(2));
    assert!(text(&second.stderr).contains("already exists"));
    let after = fs::read(launch.record_dir().join("record.json")).unwrap();
    assert_eq!(before, after);
}

#[test]
fn export_without_journal_refused_unless_asked() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    fs::remove_file(launch.journal_path()).unwrap();

    let refused = launch.export(&["--no-sign"], &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let message = text(&refused.stderr);
    assert!(message.contains("no session journal for"), "{message}");
    assert!(message.contains("--without-journal"), "{message}");
    assert!(!launch.record_dir().exists());

    let written = launch.export(&["--no-sign", "--without-journal"], &[]);
    assert_eq!(written.status.code(), Some(0), "{}", text(&written.stderr));
    assert!(launch.record_dir().join("record.json").is_file());
}

#[test]
fn every_flipped_byte_rejected() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let output = launch.export(&[], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let allowed = launch.write_allowed_signers(&text(&output.stdout));
    let allowed_text = fs::read_to_string(&allowed).unwrap();
    let dir = launch.record_dir();
    let record_path = dir.join("record.json");
    let signature_path = dir.join("record.json.sig");
    let bytes = fs::read(&record_path).unwrap();
    let signature = fs::read_to_string(&signature_path).unwrap();
    assert!(bytes.len() < 4096, "record is {} bytes", bytes.len());

    let intact = golive_verify_bytes(&record_path, &bytes, &signature, &allowed_text);
    assert!(intact.is_valid(), "{:?}", intact.problems);

    for position in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[position] ^= 0x01;
        let ours = golive_verify_bytes(&record_path, &flipped, &signature, &allowed_text);
        assert!(
            !ours.is_valid(),
            "golive accepted a flip at byte {position}"
        );
        assert!(
            ours.problems[0].contains("signature does not match the file"),
            "byte {position}: {:?}",
            ours.problems
        );
        let theirs = ssh_keygen_verify(&allowed, &signature_path, &flipped);
        assert_ne!(
            theirs.status.code(),
            Some(0),
            "ssh-keygen accepted a flip at byte {position}"
        );
    }

    // The binary rejects a changed file with exit code 1 and names the cause.
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x01;
    fs::write(&record_path, &flipped).unwrap();
    let ours = golive(
        launch.root(),
        &[
            "verify",
            "rec/record.json",
            "--allowed-signers",
            "allowed_signers",
        ],
        &[],
    );
    assert_eq!(ours.status.code(), Some(1));
    assert!(
        text(&ours.stdout).contains("the record was changed after signing"),
        "{}",
        text(&ours.stdout)
    );
}

#[test]
fn verify_names_each_problem() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let output = launch.export(&[], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let allowed = launch.write_allowed_signers(&text(&output.stdout));
    let verify_args = [
        "verify",
        "rec/record.json",
        "--allowed-signers",
        "allowed_signers",
    ];

    // A key that allowed_signers does not list.
    let other = keygen(launch.root(), "other", &["-t", "ed25519"], "");
    let other_public = fs::read_to_string(other.with_extension("pub")).unwrap();
    fs::write(&allowed, format!("{EMAIL} {other_public}")).unwrap();
    let ours = golive(launch.root(), &verify_args, &[]);
    assert_eq!(ours.status.code(), Some(1));
    assert!(text(&ours.stdout).contains("signed by a key not in allowed_signers"));
    launch.write_allowed_signers(&text(&output.stdout));

    // Another principal than the one allowed_signers lists.
    let mut wrong_identity = verify_args.to_vec();
    wrong_identity.extend(["--identity", "eve@golive.invalid"]);
    let ours = golive(launch.root(), &wrong_identity, &[]);
    assert_eq!(ours.status.code(), Some(1));
    assert!(text(&ours.stdout).contains("not for eve@golive.invalid"));

    // A signature made in another namespace, over the same bytes.
    let copy = launch.root().join("copy.json");
    fs::copy(launch.record_dir().join("record.json"), &copy).unwrap();
    let signed = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "git", "-f"])
        .arg(launch.root().join("signer"))
        .arg(&copy)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(signed.status.success(), "{}", text(&signed.stderr));
    let mut other_namespace = verify_args.to_vec();
    other_namespace.extend(["--signature", "copy.json.sig"]);
    let ours = golive(launch.root(), &other_namespace, &[]);
    assert_eq!(ours.status.code(), Some(1));
    assert!(
        text(&ours.stdout).contains("namespace is git, expected golive-launch-record"),
        "{}",
        text(&ours.stdout)
    );

    // The checklist changed after the export.
    fs::write(&launch.checklist, format!("{SMALL_CHECKLIST}\n# edited\n")).unwrap();
    let ours = golive(launch.root(), &verify_args, &[]);
    assert_eq!(ours.status.code(), Some(1));
    assert!(
        text(&ours.stdout).contains("checklist file digest differs"),
        "{}",
        text(&ours.stdout)
    );

    // A usage error: the allowed_signers file is missing.
    let ours = golive(
        launch.root(),
        &["verify", "rec/record.json", "--allowed-signers", "missing"],
        &[],
    );
    assert_eq!(ours.status.code(), Some(2));
}

#[test]
fn encrypted_key_with_passphrase_env() {
    let launch = Launch::new(&["-t", "ed25519"], "pass phrase");
    let output = launch.export(&[], &[("GOLIVE_KEY_PASSPHRASE", "pass phrase")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let allowed = launch.write_allowed_signers(&text(&output.stdout));
    let dir = launch.record_dir();
    let bytes = fs::read(dir.join("record.json")).unwrap();
    let checked = ssh_keygen_verify(&allowed, &dir.join("record.json.sig"), &bytes);
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked.stderr));
}

#[test]
fn wrong_passphrase_named() {
    let launch = Launch::new(&["-t", "ed25519"], "pass phrase");
    let output = launch.export(&[], &[("GOLIVE_KEY_PASSPHRASE", "not it")]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    let key = launch.root().join("signer");
    assert!(
        stderr.contains(&format!("wrong passphrase for {}", key.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("not it"), "{stderr}");
    assert!(!launch.record_dir().exists());
}

#[test]
fn missing_key_named() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let output = launch.export(&["--key", "absent-key"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("signing key absent-key not found"),
        "{stderr}"
    );
    assert!(stderr.contains("identity.signing_key"), "{stderr}");
}

#[test]
fn rsa_key_rejected() {
    let launch = Launch::new(&["-t", "rsa", "-b", "2048"], "");
    let output = launch.export(&[], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("is an RSA key"), "{stderr}");
    assert!(stderr.contains("only with ed25519 keys"), "{stderr}");
}

#[test]
fn non_openssh_key_rejected() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    fs::write(launch.root().join("not-a-key"), "hello\n").unwrap();
    let output = launch.export(&["--key", "not-a-key"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("is not an OpenSSH private key"), "{stderr}");
    assert!(!stderr.contains("NUL byte"), "{stderr}");
    assert!(!stderr.contains("ssh-keygen -p"), "{stderr}");
}

/// Returns the `subject` array of an exported record.
fn subjects(record_dir: &Path) -> Vec<serde_json::Value> {
    let bytes = fs::read(record_dir.join("record.json")).unwrap();
    let record: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    record["subject"].as_array().unwrap().clone()
}

#[test]
fn attachment_hashed_through_symlink() {
    use sha2::{Digest, Sha256};

    let launch = Launch::new(&["-t", "ed25519"], "");
    // Larger than one read buffer, so the digest covers several reads.
    let contents: Vec<u8> = (0..300_000u32).map(|n| (n % 251) as u8).collect();
    fs::write(launch.root().join("report.bin"), &contents).unwrap();
    std::os::unix::fs::symlink("report.bin", launch.root().join("link.bin")).unwrap();
    let output = launch.export(&["--no-sign", "--attach", "link.bin"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let subjects = subjects(&launch.record_dir());
    assert_eq!(subjects.len(), 2);
    let expected = hex::encode(Sha256::digest(&contents));
    assert_eq!(subjects[1]["digest"]["sha256"], expected.as_str());
    assert_eq!(subjects[1]["name"], "report.bin");
}

#[test]
fn attachment_fifo_rejected() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    mkfifo(&launch.root().join("pipe"));
    let output = launch.export(&["--no-sign", "--attach", "pipe"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("attachment pipe is a FIFO, not a regular file"),
        "{stderr}"
    );
    assert!(!launch.record_dir().exists());
}

#[test]
fn attachment_device_rejected() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let output = launch.export(&["--no-sign", "--attach", "/dev/zero"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("attachment /dev/zero is a character device, not a regular file"),
        "{stderr}"
    );
}

#[test]
fn attachment_missing_error_once() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let output = launch.export(&["--no-sign", "--attach", "absent.txt"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("cannot read attachment absent.txt"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
}

/// The `verify` arguments for the exported record, with the allowed_signers file it wrote.
const VERIFY_ARGS: [&str; 4] = [
    "verify",
    "rec/record.json",
    "--allowed-signers",
    "allowed_signers",
];

#[test]
fn garbage_signature_named() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let output = launch.export(&[], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    launch.write_allowed_signers(&text(&output.stdout));
    fs::write(
        launch.record_dir().join("record.json.sig"),
        "not a signature\n",
    )
    .unwrap();
    let ours = golive(launch.root(), &VERIFY_ARGS, &[]);
    let stdout = text(&ours.stdout);
    assert_eq!(ours.status.code(), Some(1));
    assert!(
        stdout.contains(
            "rec/record.json.sig is not an SSH signature file (it does not start with \
             -----BEGIN SSH SIGNATURE-----)"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("NUL byte"), "{stdout}");
}

#[test]
fn unsigned_paths_not_followed() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let output = launch.export(&[], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    launch.write_allowed_signers(&text(&output.stdout));

    // A changed record points its checklist subject at a FIFO, which would block a reader.
    let fifo = launch.root().join("pipe");
    mkfifo(&fifo);
    let record_path = launch.record_dir().join("record.json");
    let mut record: serde_json::Value =
        serde_json::from_slice(&fs::read(&record_path).unwrap()).unwrap();
    record["subject"][0]["name"] = "pipe".into();
    record["subject"][0]["annotations"]["path"] = fifo.display().to_string().into();
    fs::write(&record_path, serde_json::to_vec_pretty(&record).unwrap()).unwrap();

    let ours = golive(launch.root(), &VERIFY_ARGS, &[]);
    let stdout = text(&ours.stdout);
    assert_eq!(ours.status.code(), Some(1));
    assert!(
        stdout.contains("the record was changed after signing"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "not checked: the signature is not valid, so the record's paths are not trusted"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("pipe"), "{stdout}");
}

#[test]
fn signed_fifo_subject_not_read() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let attachment = launch.root().join("report.txt");
    fs::write(&attachment, "all green\n").unwrap();
    let output = launch.export(&["--attach", "report.txt"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    launch.write_allowed_signers(&text(&output.stdout));

    let intact = golive(launch.root(), &VERIFY_ARGS, &[]);
    let stdout = text(&intact.stdout);
    assert_eq!(intact.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("report.txt has the recorded sha256"),
        "{stdout}"
    );

    // The attachment is replaced with a FIFO after a valid signature was made.
    fs::remove_file(&attachment).unwrap();
    mkfifo(&attachment);
    let ours = golive(launch.root(), &VERIFY_ARGS, &[]);
    let stdout = text(&ours.stdout);
    assert_eq!(ours.status.code(), Some(1));
    assert!(
        stdout.contains("report.txt is a FIFO, not a regular file"),
        "{stdout}"
    );
}

#[test]
fn public_key_named() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let output = launch.export(&["--key", "signer.pub"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("signer.pub is a public key; give the private key"),
        "{stderr}"
    );
    assert!(!stderr.contains("ssh-keygen -p"), "{stderr}");
    assert!(!stderr.contains("NUL byte"), "{stderr}");
    assert!(!launch.record_dir().exists());
}

#[test]
fn pem_key_conversion_advised() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    keygen(
        launch.root(),
        "old",
        &["-t", "rsa", "-b", "2048", "-m", "PEM"],
        "",
    );
    let key_text = fs::read_to_string(launch.root().join("old")).unwrap();
    assert!(key_text.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let output = launch.export(&["--key", "old"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("older PEM format"), "{stderr}");
    assert!(stderr.contains("ssh-keygen -p -f old"), "{stderr}");
}

#[test]
fn oversized_key_rejected() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let output = launch.export(&["--key", "/dev/zero"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("is larger than 65536 bytes"), "{stderr}");
}

#[test]
fn missing_email_named() {
    let launch = Launch::new(&["-t", "ed25519"], "");
    let config = fs::read_to_string(launch.root().join("config.toml")).unwrap();
    let without_email = config.replace(&format!("email = \"{EMAIL}\"\n"), "");
    fs::write(launch.root().join("config.toml"), without_email).unwrap();
    let output = launch.export(&[], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("no identity email set"), "{stderr}");
}

/// Loads a checklist with a secret used in a check's header, with a fixed secret value.
fn secret_checklist() -> Arc<Checklist> {
    let toml = r#"
[checklist]
title = "Secret launch"
version = "v1"

[secrets.token]
env = "TOKEN_VAR"

[environments.staging]
base_url = "http://127.0.0.1:9"

[[phases]]
id = "api"
title = "API"

[[phases.items]]
id = "manual"
title = "Deploy"
steps = ["Deploy"]

[[phases.items]]
id = "health"
title = "Health"
[phases.items.check]
kind = "http"
url = "${base_url}/health"
headers = { X-Token = "${secret.token}" }
"#;
    let lookup = |name: &str| (name == "TOKEN_VAR").then(|| SECRET.to_string());
    let loaded = load_str_with_env(
        Path::new("secret.toml"),
        toml,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &lookup,
    )
    .unwrap();
    Arc::new(loaded.checklist)
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

/// Builds a session whose notes, summary and evidence all contain the secret, and its journal.
fn secret_session(checklist: &Arc<Checklist>) -> (Session, Vec<Event>) {
    let mut events = Vec::new();
    let mut prev = golive::journal::GENESIS_HASH.to_string();
    let kinds = [
        EventKind::Ticked {
            item: "manual".into(),
        },
        EventKind::Note {
            item: "manual".into(),
            text: format!("token was {SECRET}"),
        },
        EventKind::CheckOutcome {
            item: "health".into(),
            outcome: Outcome::Fail,
            summary: format!("header {SECRET} rejected"),
            files: Vec::new(),
        },
    ];
    for (index, kind) in kinds.into_iter().enumerate() {
        let event = Event::chained(
            &prev,
            index as u64 + 1,
            at("2026-02-16T05:00:00Z"),
            &format!("Ana {SECRET}"),
            kind,
        );
        prev = event.hash.clone();
        events.push(event);
    }
    let mut session = Session::new(checklist.clone());
    for event in &events {
        session.apply_event(event);
    }
    session.apply_result(CheckResult {
        item_id: "health".into(),
        outcome: Outcome::Fail,
        summary: format!("status 401 for {SECRET}"),
        evidence: Evidence {
            request: vec![format!("GET /health?t={SECRET}")],
            status: Some(401),
            body_excerpt: Some(format!("{{\"error\":\"bad token {SECRET}\"}}")),
            assertions: vec![Assertion {
                subject: "status".into(),
                expected: "200".into(),
                actual: format!("401 {SECRET}"),
                passed: false,
            }],
            notes: vec![format!("sent {SECRET}")],
            ..Evidence::default()
        },
        started_at: at("2026-02-16T05:30:00Z"),
        elapsed_ms: 12,
        attempts: 1,
    });
    (session, events)
}

fn build_secret_record(checklist: &Arc<Checklist>, session: &Session, events: &[Event]) -> Vec<u8> {
    record::build(&RecordSource {
        checklist,
        session,
        journal_events: events,
        journal_file: "secret.jsonl".into(),
        attachments: &[],
        generated_at: at(GENERATED_AT),
    })
    .unwrap()
    .to_json()
}

#[test]
fn record_contains_no_secret() {
    let checklist = secret_checklist();
    let (session, events) = secret_session(&checklist);
    let json = build_secret_record(&checklist, &session, &events);
    let record = LaunchRecord::from_json(&json).unwrap();
    let markdown = record::markdown::render(&record, &checklist.redactor);
    let json_text = text(&json);

    for form in golive::redact::secret_forms(SECRET) {
        assert!(!json_text.contains(&form), "record.json contains {form:?}");
        assert!(!markdown.contains(&form), "record.md contains {form:?}");
    }
    // The masked texts are still there, so the test did reach them.
    assert!(json_text.contains("token was ••••••"), "{json_text}");
    assert!(json_text.contains("status 401 for ••••••"), "{json_text}");
    assert!(markdown.contains("token was ••••••"), "{markdown}");
}

#[test]
fn record_bytes_deterministic() {
    let checklist = secret_checklist();
    let (first_session, events) = secret_session(&checklist);
    let (second_session, _) = secret_session(&checklist);
    let first = build_secret_record(&checklist, &first_session, &events);
    let second = build_secret_record(&checklist, &second_session, &events);
    assert_eq!(first, second);
    assert!(first.ends_with(b"}\n"));
    assert!(
        text(&first).contains("\n  \"predicateType\": \"https://golive.dev/launch-record/v1\"")
    );
    assert!(text(&first).contains("\"generated_at\": \"2026-02-16T06:00:00Z\""));
}

#[test]
fn record_decision_and_layout() {
    let checklist = secret_checklist();
    let (session, events) = secret_session(&checklist);
    let json = build_secret_record(&checklist, &session, &events);
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(value["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(value["predicate"]["decision"], "no-go");
    assert_eq!(value["predicate"]["blockers"][0]["item"], "health");
    assert_eq!(value["predicate"]["waivers"], serde_json::json!([]));
    assert_eq!(value["predicate"]["sign_offs"], serde_json::json!([]));
    assert_eq!(value["predicate"]["journal"]["length"], 3);
    assert_eq!(
        value["predicate"]["journal"]["head"],
        events.last().unwrap().hash.as_str()
    );
    let manual = &value["predicate"]["phases"][0]["items"][0];
    assert_eq!(manual["status"], "done");
    assert_eq!(manual["mark"]["at"], "2026-02-16T05:00:00Z");
    let health = &value["predicate"]["phases"][0]["items"][1];
    assert_eq!(health["kind"], "http");
    assert_eq!(health["evidence"]["status"], 401);

    let markdown = record::markdown::render(
        &LaunchRecord::from_json(&json).unwrap(),
        &checklist.redactor,
    );
    let decision = markdown.find("**Decision: NO-GO**").unwrap();
    let blockers = markdown.find("## Blockers").unwrap();
    let waivers = markdown.find("## Waivers").unwrap();
    let sign_offs = markdown.find("## Sign-offs").unwrap();
    let phase = markdown.find("## Phase api").unwrap();
    assert!(decision < blockers);
    assert!(blockers < waivers);
    assert!(waivers < sign_offs);
    assert!(sign_offs < phase);
}

/// Writes a journal with a session start and four notes, returning its path.
fn journal_file(dir: &Path) -> PathBuf {
    let launch_checklist = dir.join("tiny.toml");
    fs::write(&launch_checklist, SMALL_CHECKLIST).unwrap();
    let checklist = loader::load(
        &launch_checklist,
        Some("staging"),
        &BTreeMap::new(),
        &LoadDefaults::default(),
    )
    .unwrap()
    .checklist;
    let mut journal = file::open(&dir.join("journals"), &checklist, false, "Ana").unwrap();
    for index in 0..4 {
        journal
            .append(
                "Ana",
                EventKind::Note {
                    item: "dns".into(),
                    text: format!("note {index}"),
                },
            )
            .unwrap();
    }
    journal.path().to_path_buf()
}

#[test]
fn journal_verify_good_chain() {
    let home = tempfile::tempdir().unwrap();
    let path = journal_file(home.path());
    let contents = file::read_journal(&path).unwrap();
    let head = contents.events.last().unwrap().hash.clone();
    let output = golive(
        home.path(),
        &["journal", "verify", "--file", path.to_str().unwrap()],
        &[],
    );
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(stdout.contains("hash chain intact"), "{stdout}");
    assert!(stdout.contains("length: 5"), "{stdout}");
    assert!(stdout.contains(&format!("head: {head}")), "{stdout}");
}

#[test]
fn journal_verify_names_tampered_event() {
    let home = tempfile::tempdir().unwrap();
    let path = journal_file(home.path());
    let original = fs::read_to_string(&path).unwrap();
    let tampered = original.replacen("note 1", "note 9", 1);
    assert_ne!(original, tampered);
    fs::write(&path, tampered).unwrap();
    let output = golive(
        home.path(),
        &["journal", "verify", "--file", path.to_str().unwrap()],
        &[],
    );
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    // Line 3 is the second note, seq 3, after the session start and the first note.
    assert!(stdout.contains("damaged at line 3"), "{stdout}");
    assert!(stdout.contains("event seq 3"), "{stdout}");
}

/// A checklist with two manual items and one required sign-off by the lead.
const SIGNED_CHECKLIST: &str = r#"
[checklist]
title = "Signed launch"

[environments.staging]
base_url = "http://127.0.0.1:9"

[[phases]]
id = "go"
title = "Go"

[[phases.items]]
id = "dns"
title = "DNS switched"
steps = ["Switch DNS"]

[[phases.items]]
id = "cdn"
title = "CDN purged"
steps = ["Purge the CDN"]

[[signoffs]]
id = "go-call"
title = "Launch lead calls GO"
role = "lead"
"#;

const LEAD: &str = "Ana Lima <ana@golive.invalid>";
const APPROVER: &str = "Bo Berg <bo@golive.invalid>";

fn signed_checklist() -> (Arc<Checklist>, golive::checklist::LaunchPolicy) {
    let loaded = load_str_with_env(
        Path::new("signed.toml"),
        SIGNED_CHECKLIST,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &|_: &str| None,
    )
    .unwrap();
    (Arc::new(loaded.checklist), loaded.policy)
}

/// Chains events at five-minute steps from 05:00 UTC.
fn chain(kinds: Vec<EventKind>) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    let start = at("2026-02-16T05:00:00Z");
    for (index, kind) in kinds.into_iter().enumerate() {
        let prev = events
            .last()
            .map_or(golive::journal::GENESIS_HASH.to_string(), |e| {
                e.hash.clone()
            });
        let when = start + jiff::SignedDuration::from_mins(5 * index as i64);
        events.push(Event::chained(&prev, index as u64 + 1, when, LEAD, kind));
    }
    events
}

fn waive_cdn(expires: &str) -> EventKind {
    EventKind::Waived {
        item: "cdn".into(),
        reason: "purge API down, cache TTL is 5 min".into(),
        risk: golive::checklist::Risk::Low,
        control: "stale assets expire within 5 minutes".into(),
        expires: at(expires),
        approved_by: APPROVER.into(),
    }
}

fn sign_go_call() -> EventKind {
    EventKind::SignedOff {
        signoff: "go-call".into(),
        role: "lead".into(),
        state: golive::journal::SignOffState {
            verdict: "go".into(),
            counts: golive::session::Counts::default(),
            journal_head: "ab".repeat(32),
        },
    }
}

/// Replays `kinds` with the checklist's policy and builds the record at `generated_at`.
fn signed_record(kinds: Vec<EventKind>, generated_at: &str) -> serde_json::Value {
    let (checklist, policy) = signed_checklist();
    let events = chain(kinds);
    let session = record::export::replay(checklist.clone(), policy, &events, at(generated_at));
    let json = record::build(&RecordSource {
        checklist: &checklist,
        session: &session,
        journal_events: &events,
        journal_file: "signed.jsonl".into(),
        attachments: &[],
        generated_at: at(generated_at),
    })
    .unwrap()
    .to_json();
    serde_json::from_slice(&json).unwrap()
}

fn waived_and_signed() -> Vec<EventKind> {
    vec![
        EventKind::Ticked { item: "dns".into() },
        EventKind::MarkedFailed { item: "cdn".into() },
        waive_cdn("2026-02-17T05:00:00Z"),
        sign_go_call(),
    ]
}

#[test]
fn record_lists_waiver_and_sign_off() {
    let value = signed_record(waived_and_signed(), GENERATED_AT);
    let predicate = &value["predicate"];
    assert_eq!(predicate["decision"], "go");
    assert_eq!(predicate["waived_items"], serde_json::json!(["cdn"]));
    let waiver = &predicate["waivers"][0];
    assert_eq!(waiver["item"], "cdn");
    assert_eq!(waiver["reason"], "purge API down, cache TTL is 5 min");
    assert_eq!(waiver["risk"], "low");
    assert_eq!(waiver["control"], "stale assets expire within 5 minutes");
    assert_eq!(waiver["expires"], "2026-02-17T05:00:00Z");
    assert_eq!(waiver["expired"], false);
    assert_eq!(waiver["requested_by"], LEAD);
    assert_eq!(waiver["approved_by"], APPROVER);
    assert_eq!(waiver["recorded_at"], "2026-02-16T05:10:00Z");
    assert_eq!(waiver["source"], "journal");
    let sign_off = &predicate["sign_offs"][0];
    assert_eq!(sign_off["id"], "go-call");
    assert_eq!(sign_off["title"], "Launch lead calls GO");
    assert_eq!(sign_off["role"], "lead");
    assert_eq!(sign_off["by"], LEAD);
    assert_eq!(sign_off["at"], "2026-02-16T05:15:00Z");
    assert_eq!(sign_off["state"]["verdict"], "go");
    assert_eq!(sign_off["state"]["journal_head"], "ab".repeat(32));
    let cdn = &predicate["phases"][0]["items"][1];
    assert_eq!(cdn["status"], "waived");
    assert_eq!(predicate["missing_sign_offs"], serde_json::json!([]));
    assert_eq!(predicate["drift"], serde_json::json!([]));

    let record = LaunchRecord::from_json(&serde_json::to_vec(&value).unwrap()).unwrap();
    let (checklist, _) = signed_checklist();
    let markdown = record::markdown::render(&record, &checklist.redactor);
    assert!(markdown.contains("**Decision: GO**"), "{markdown}");
    assert!(markdown.contains("approved by Bo Berg"), "{markdown}");
    assert!(markdown.contains("given by Ana Lima"), "{markdown}");
}

#[test]
fn record_after_drift_names_it() {
    let mut kinds = waived_and_signed();
    kinds.push(EventKind::Unticked { item: "dns".into() });
    kinds.push(EventKind::Drift {
        item: "dns".into(),
        from: golive::session::Status::Done,
        to: golive::session::Status::Pending,
        signoff: "go-call".into(),
    });
    let value = signed_record(kinds, GENERATED_AT);
    let predicate = &value["predicate"];
    assert_eq!(predicate["decision"], "no-go");
    assert_eq!(predicate["blockers"][0]["item"], "dns");
    let drift = &predicate["drift"][0];
    assert_eq!(drift["item"], "dns");
    assert_eq!(drift["from"], "done");
    assert_eq!(drift["to"], "pending");
    assert_eq!(drift["signoff"], "go-call");
    assert_eq!(drift["at"], "2026-02-16T05:25:00Z");
    assert_eq!(drift["unresolved"], true);

    let record = LaunchRecord::from_json(&serde_json::to_vec(&value).unwrap()).unwrap();
    let (checklist, _) = signed_checklist();
    let markdown = record::markdown::render(&record, &checklist.redactor);
    let decision = markdown.find("**Decision: NO-GO**").unwrap();
    let blockers = markdown.find("## Blockers").unwrap();
    let missing = markdown.find("## Missing sign-offs").unwrap();
    let waivers = markdown.find("## Waivers").unwrap();
    let sign_offs = markdown.find("## Sign-offs").unwrap();
    let drift_section = markdown.find("## Drift since sign-off").unwrap();
    let phase = markdown.find("## Phase go").unwrap();
    assert!(decision < blockers);
    assert!(blockers < missing);
    assert!(missing < waivers);
    assert!(waivers < sign_offs);
    assert!(sign_offs < drift_section);
    assert!(drift_section < phase);
    assert!(
        markdown.contains("| dns | done | pending | go-call |"),
        "{markdown}"
    );
}

#[test]
fn record_go_needs_items_and_sign_offs() {
    // Items count but the sign-off is missing.
    let unsigned = signed_record(
        vec![
            EventKind::Ticked { item: "dns".into() },
            EventKind::MarkedFailed { item: "cdn".into() },
            waive_cdn("2026-02-17T05:00:00Z"),
        ],
        GENERATED_AT,
    );
    assert_eq!(unsigned["predicate"]["decision"], "no-go");
    assert_eq!(unsigned["predicate"]["blockers"], serde_json::json!([]));
    assert_eq!(
        unsigned["predicate"]["missing_sign_offs"][0]["id"],
        "go-call"
    );

    // Signed, but the waiver expired before the record was generated.
    let expired = signed_record(waived_and_signed(), "2026-02-18T06:00:00Z");
    assert_eq!(expired["predicate"]["decision"], "no-go");
    assert_eq!(expired["predicate"]["blockers"][0]["item"], "cdn");
    assert_eq!(expired["predicate"]["blockers"][0]["status"], "failed");
    assert_eq!(expired["predicate"]["waivers"][0]["expired"], true);
    assert_eq!(expired["predicate"]["waived_items"], serde_json::json!([]));

    // A failed item without a waiver blocks even with the sign-off given.
    let failed = signed_record(
        vec![
            EventKind::Ticked { item: "dns".into() },
            EventKind::MarkedFailed { item: "cdn".into() },
            sign_go_call(),
        ],
        GENERATED_AT,
    );
    assert_eq!(failed["predicate"]["decision"], "no-go");

    let go = signed_record(waived_and_signed(), GENERATED_AT);
    assert_eq!(go["predicate"]["decision"], "go");
}

/// A checklist with one `report` check that reads a scan and a baseline.
const REPORT_CHECKLIST: &str = r#"
[checklist]
title = "Scanned launch"

[environments.staging]
base_url = "http://127.0.0.1:9"

[[phases]]
id = "security"
title = "Security"

[[phases.items]]
id = "scan"
title = "No new findings"
[phases.items.check]
kind = "report"
path = "scans/zap.json"
baseline = "scans/baseline.json"
"#;

/// Where a session learns the files its `report` item read.
#[derive(Clone, Copy)]
enum FilesFrom {
    /// A check result of this process, as in the cockpit.
    Result,
    /// Journal events only, as in `golive export`.
    Journal,
}

/// Builds a session whose `report` item read `files`, and returns its record.
fn report_record(files: Vec<FileDigest>, from: FilesFrom) -> LaunchRecord {
    let loaded = load_str_with_env(
        Path::new("scanned.toml"),
        REPORT_CHECKLIST,
        None,
        &BTreeMap::new(),
        &LoadDefaults::default(),
        &|_: &str| None,
    )
    .unwrap();
    let checklist = Arc::new(loaded.checklist);
    let result = CheckResult {
        item_id: "scan".into(),
        outcome: Outcome::Pass,
        summary: "0 new findings".into(),
        evidence: Evidence {
            files,
            ..Evidence::default()
        },
        started_at: at("2026-02-16T05:30:00Z"),
        elapsed_ms: 3,
        attempts: 1,
    };
    let session = match from {
        FilesFrom::Result => {
            let mut session = Session::new(checklist.clone());
            session.apply_result(result);
            session
        }
        FilesFrom::Journal => {
            // The event the cockpit journals for this result, replayed into a new session.
            let kind = Session::new(checklist.clone())
                .apply_result(result)
                .expect("a first outcome is journaled");
            let event = Event {
                seq: 2,
                at: at("2026-02-16T05:30:00Z"),
                actor: "golive".into(),
                kind,
                prev: String::new(),
                hash: String::new(),
            };
            let mut replayed = Session::new(checklist.clone());
            replayed.apply_event(&event);
            replayed
        }
    };
    record::build(&RecordSource {
        checklist: &checklist,
        session: &session,
        journal_events: &[],
        journal_file: "scanned.jsonl".into(),
        attachments: &[],
        generated_at: at(GENERATED_AT),
    })
    .unwrap()
}

#[test]
fn report_files_listed_as_subjects() {
    let dir = tempfile::tempdir().unwrap();
    let scans = dir.path().join("scans");
    fs::create_dir(&scans).unwrap();
    let report = scans.join("zap.json");
    let baseline = scans.join("baseline.json");
    fs::write(&report, "{\"site\": []}\n").unwrap();
    fs::write(&baseline, "{\"site\": [1]}\n").unwrap();
    let report_sha = record::sha256_file(&report).unwrap();
    let baseline_sha = record::sha256_file(&baseline).unwrap();
    let report_path = report.display().to_string();
    let baseline_path = baseline.display().to_string();
    let report_file = FileDigest {
        path: report_path.clone(),
        sha256: report_sha.clone(),
    };
    // The report is read before the baseline, and the report is listed twice.
    let files = vec![
        report_file.clone(),
        FileDigest {
            path: baseline_path.clone(),
            sha256: baseline_sha.clone(),
        },
        report_file,
    ];
    let built = report_record(files.clone(), FilesFrom::Result);
    // A record built from the journal alone names the same files.
    let replayed = report_record(files, FilesFrom::Journal);
    assert_eq!(replayed.subject, built.subject);
    assert_eq!(built.subject.len(), 3);
    assert_eq!(built.subject[0].name, "scanned.toml");
    let first = &built.subject[1];
    assert_eq!(first.name, "baseline.json");
    assert_eq!(first.digest["sha256"], baseline_sha);
    assert_eq!(first.annotations["path"], baseline_path);
    let second = &built.subject[2];
    assert_eq!(second.name, "zap.json");
    assert_eq!(second.digest["sha256"], report_sha);
    assert_eq!(second.annotations["path"], report_path);

    // The record lives in another folder, so the files are found through `annotations.path`.
    let record_dir = dir.path().join("rec");
    fs::create_dir(&record_dir).unwrap();
    let record_path = record_dir.join("record.json");
    let bytes = built.to_json();
    fs::write(&record_path, &bytes).unwrap();
    let key_path = keygen(dir.path(), "signer", &["-t", "ed25519"], "");
    let key = record::signing::SigningKey::load_with(&key_path, |_| Ok(String::new())).unwrap();
    let signature = key.sign(&bytes).unwrap();
    let allowed = key.allowed_signers_line(EMAIL);

    let checked = golive_verify_bytes(&record_path, &bytes, &signature, &allowed);
    assert!(checked.is_valid(), "{checked:?}");
    for path in [&baseline_path, &report_path] {
        let line = format!("subject {path} has the recorded sha256");
        assert!(checked.passed.contains(&line), "{checked:?}");
    }

    // A report changed after the record names the mismatch.
    fs::write(&report, "{\"site\": [2]}\n").unwrap();
    let changed = golive_verify_bytes(&record_path, &bytes, &signature, &allowed);
    assert!(!changed.is_valid());
    let problem = format!("subject file digest differs: {report_path} has sha256");
    assert!(
        changed
            .problems
            .iter()
            .any(|line| line.starts_with(&problem)),
        "{changed:?}"
    );
}

#[test]
fn report_path_with_two_digests_kept() {
    let old = "a".repeat(64);
    let new = "b".repeat(64);
    let file = |sha256: &str| FileDigest {
        path: "scans/zap.json".into(),
        sha256: sha256.into(),
    };
    let built = report_record(vec![file(&new), file(&old)], FilesFrom::Result);
    assert_eq!(built.subject.len(), 3);
    assert_eq!(built.subject[1].digest["sha256"], old);
    assert_eq!(built.subject[2].digest["sha256"], new);
    assert_eq!(built.subject[1].annotations["path"], "scans/zap.json");
    assert_eq!(built.subject[2].annotations["path"], "scans/zap.json");
}
