//! The `golive` command line: the cockpit, `lint`, `check` and `demo`.

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// A terminal cockpit for launch day: live launch checklists, a hash-chained journal and a
/// headless report for CI.
#[derive(Debug, Parser)]
#[command(
    name = "golive",
    version,
    arg_required_else_help = true,
    after_help = "`golive FILE [OPTIONS]` is short for `golive open FILE [OPTIONS]`.\n\
                  New here? `golive demo` opens the cockpit on a built-in demo target."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Subcommand names, so that `golive FILE ...` can be distinguished from `golive lint ...`.
const SUBCOMMANDS: &[&str] = &[
    "open", "lint", "check", "demo", "export", "verify", "journal", "help",
];

/// Inserts `open` when the first argument is not a subcommand or a top-level flag, so that
/// `golive FILE --env E` and `golive --env E FILE` mean `golive open ...`.
fn with_default_subcommand(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let Some(first) = args.get(1).and_then(|arg| arg.to_str()) else {
        return args;
    };
    let top_level_flag = matches!(first, "-h" | "--help" | "-V" | "--version");
    if !SUBCOMMANDS.contains(&first) && !top_level_flag {
        args.insert(1, "open".into());
    }
    args
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Opens the cockpit on a checklist and resumes its session.
    Open(OpenArgs),
    /// Checks a checklist for errors and prints every problem found.
    Lint(LintArgs),
    /// Runs every automated check once and prints a report; exit code 0 when every required
    /// automated check passes or is waived.
    Check(CheckArgs),
    /// Starts the built-in demo target on 127.0.0.1 and opens the cockpit on the demo checklist.
    Demo(DemoArgs),
    /// Writes the launch record of a session (record.json, record.md) and signs it.
    Export(ExportArgs),
    /// Verifies a launch record's signature and consistency; exit code 0 when valid.
    Verify(VerifyArgs),
    /// Inspects session journals.
    #[command(subcommand)]
    Journal(JournalCommand),
}

#[derive(Debug, Subcommand)]
enum JournalCommand {
    /// Walks a journal's hash chain and names the first event that does not match.
    Verify(JournalVerifyArgs),
}

/// Options shared by every command that loads a checklist.
#[derive(Debug, Args, Clone)]
struct ChecklistArgs {
    /// The checklist file (TOML).
    checklist: PathBuf,

    /// The environment to resolve the checklist for, such as `staging`.
    #[arg(short, long)]
    env: Option<String>,

    /// Sets a variable, overriding the checklist's environments and `[vars]`; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = cmd::parse_var)]
    vars: Vec<(String, String)>,
}

/// Options for reading `config.toml`.
#[derive(Debug, Args, Clone)]
struct ConfigArgs {
    /// Settings file applied last, over ~/.config/golive/config.toml and ./config.toml.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
struct OpenArgs {
    #[command(flatten)]
    checklist: ChecklistArgs,

    #[command(flatten)]
    config: ConfigArgs,

    /// Starts a fresh session; the previous journal is kept beside it.
    #[arg(long)]
    new_session: bool,

    /// Theme name (from themes/) or path to a theme file; overrides config.toml.
    #[arg(long)]
    theme: Option<String>,

    /// The person at the keyboard, as `Name <email>`, overriding config.toml's identity.
    #[arg(long = "as", value_name = "NAME <EMAIL>")]
    actor: Option<String>,
}

#[derive(Debug, Args)]
struct LintArgs {
    #[command(flatten)]
    checklist: ChecklistArgs,

    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    checklist: ChecklistArgs,

    #[command(flatten)]
    config: ConfigArgs,

    /// Report format.
    #[arg(long, short, value_enum, default_value = "text")]
    format: golive::report::Format,

    /// Writes the report to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Ignores the cockpit's session journal: manual items count as not done.
    #[arg(long)]
    ignore_journal: bool,
}

#[derive(Debug, Args)]
struct DemoArgs {
    #[command(flatten)]
    config: ConfigArgs,

    /// Only serves the demo target and prints its URL; no cockpit.
    #[arg(long)]
    serve: bool,

    /// Also creates made-up AWS resources in the moto server at this loopback URL, such as
    /// http://127.0.0.1:5000, and adds the AWS phase to the demo checklist.
    #[arg(long, value_name = "URL")]
    aws: Option<String>,

    /// Port of the demo target on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Starts a fresh demo session; the previous journal is kept beside it.
    #[arg(long)]
    new_session: bool,

    /// The person at the keyboard, as `Name <email>`, overriding config.toml's identity.
    #[arg(long = "as", value_name = "NAME <EMAIL>")]
    actor: Option<String>,

    /// Theme name (from themes/) or path to a theme file; overrides config.toml.
    #[arg(long)]
    theme: Option<String>,
}

#[derive(Debug, Args)]
struct ExportArgs {
    #[command(flatten)]
    checklist: ChecklistArgs,

    #[command(flatten)]
    config: ConfigArgs,

    /// Folder to write the record to; default ./launch-record-<env>-<UTC time>.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    /// Writes the record without a signature.
    #[arg(long)]
    no_sign: bool,

    /// The ed25519 OpenSSH private key to sign with; overrides identity.signing_key.
    #[arg(long, value_name = "PATH", conflicts_with = "no_sign")]
    key: Option<PathBuf>,

    /// Lists this evidence or report file among the record's subjects; repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,

    /// Writes a record even when no session journal exists, with every manual item not done.
    #[arg(long)]
    without_journal: bool,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The record file (record.json).
    record: PathBuf,

    /// The signature file; default RECORD.sig.
    #[arg(long, value_name = "FILE")]
    signature: Option<PathBuf>,

    /// The OpenSSH allowed_signers file that lists trusted keys.
    #[arg(long, value_name = "FILE")]
    allowed_signers: PathBuf,

    /// The signer's principal (email) that the signature must be from.
    #[arg(long, short = 'I', value_name = "EMAIL")]
    identity: Option<String>,

    /// The session journal file to compare with the record's length and head hash.
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct JournalVerifyArgs {
    /// The checklist whose session journal to verify.
    #[arg(required_unless_present = "file")]
    checklist: Option<PathBuf>,

    /// The environment of the session, such as `staging`.
    #[arg(short, long)]
    env: Option<String>,

    /// Sets a variable, overriding the checklist's environments and `[vars]`; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = cmd::parse_var)]
    vars: Vec<(String, String)>,

    /// The journal file to verify, instead of the one of CHECKLIST.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["checklist", "env", "vars"])]
    file: Option<PathBuf>,

    #[command(flatten)]
    config: ConfigArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(with_default_subcommand(std::env::args_os().collect()));
    let result = match cli.command {
        Command::Open(args) => cmd::open::run(args),
        Command::Lint(args) => cmd::lint::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Journal(JournalCommand::Verify(args)) => cmd::journal::verify(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            cmd::print_stderr(&format!("golive: {err:#}\n"));
            ExitCode::from(2)
        }
    }
}
