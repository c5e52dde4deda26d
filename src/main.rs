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
    args_conflicts_with_subcommands = true,
    arg_required_else_help = true,
    after_help = "New here? `golive demo` opens the cockpit on a built-in demo target."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Opens the cockpit on a checklist (same as `golive open`).
    #[command(flatten)]
    open: Option<OpenArgs>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Opens the cockpit on a checklist and resumes its session.
    Open(OpenArgs),
    /// Checks a checklist for errors and prints every problem found.
    Lint(LintArgs),
    /// Runs every automated check once and prints a report; exit code 0 is GO.
    Check(CheckArgs),
    /// Starts the built-in demo target on 127.0.0.1 and opens the cockpit on the demo checklist.
    Demo(DemoArgs),
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
    /// Settings file to use instead of ./config.toml and ~/.config/golive/config.toml.
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

    /// Who is at the keyboard, as `Name <email>`; overrides config.toml's identity.
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
}

#[derive(Debug, Args)]
struct DemoArgs {
    #[command(flatten)]
    config: ConfigArgs,

    /// Only serves the demo target and prints its URL; no cockpit.
    #[arg(long)]
    serve: bool,

    /// Port of the demo target on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Starts a fresh demo session; the previous journal is kept beside it.
    #[arg(long)]
    new_session: bool,

    /// Who is at the keyboard, as `Name <email>`; overrides config.toml's identity.
    #[arg(long = "as", value_name = "NAME <EMAIL>")]
    actor: Option<String>,

    /// Theme name (from themes/) or path to a theme file; overrides config.toml.
    #[arg(long)]
    theme: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match (cli.command, cli.open) {
        (Some(Command::Open(args)), _) | (None, Some(args)) => cmd::open::run(args),
        (Some(Command::Lint(args)), _) => cmd::lint::run(args),
        (Some(Command::Check(args)), _) => cmd::check::run(args),
        (Some(Command::Demo(args)), _) => cmd::demo::run(args),
        (None, None) => {
            eprintln!(
                "golive: no checklist given. Try `golive demo`, or `golive open CHECKLIST --env ENV`; \
                 `golive --help` lists every command."
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("golive: {err:#}");
            ExitCode::from(2)
        }
    }
}
