//! `golive demo`: the built-in demo target on 127.0.0.1 and the cockpit on the demo checklist.
//! With `--aws URL`, also made-up AWS resources in a moto server on this machine and the AWS
//! phase of `checklists/demo-aws.toml`.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use golive::demo;
use golive::demo::aws;
use golive::demo::moto_bridge::MotoBridge;

use crate::DemoArgs;

/// The demo checklist shipped inside the binary, used when `checklists/demo.toml` is not in the
/// current folder.
const EMBEDDED_DEMO: &str = include_str!("../../checklists/demo.toml");

/// The demo AWS checklist shipped inside the binary, used when `checklists/demo-aws.toml` is not
/// in the current folder.
const EMBEDDED_DEMO_AWS: &str = include_str!("../../checklists/demo-aws.toml");

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load_settings(&args.config)?;
    let moto_url = args.aws.as_deref().map(aws::moto_url).transpose()?;

    // The demo checklist reads its made-up credentials from these variables. They are set here,
    // before the runtime starts any thread, because changing the environment is only sound while
    // the process is single-threaded.
    let checklist_env = demo::checklist_env();
    // SAFETY: no other thread exists yet.
    unsafe {
        for (name, value) in &checklist_env {
            std::env::set_var(name, value);
        }
        if moto_url.is_some() {
            isolate_aws_env();
        }
    }

    let mut warnings = Vec::new();
    let _log = if args.serve {
        None
    } else {
        super::start_logging(&settings, &mut warnings)
    };
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        // The bridge lives until the cockpit closes, because the AWS checks go through it.
        let bridge = match &moto_url {
            Some(url) => Some(start_aws(url).await?),
            None => None,
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
        let server = demo::serve(addr)
            .await
            .with_context(|| format!("cannot start the demo target on {addr}"))?;
        if args.serve {
            super::print_stdout(&format!("{}\n", server.base_url()));
            let exports: Vec<String> = checklist_env
                .iter()
                .map(|(name, value)| format!("export {name}={value}\n"))
                .collect();
            super::print_stderr(&format!(
                "demo target listening; its made-up credentials, for `golive check`:\n{}",
                exports.concat()
            ));
            if let Some(bridge) = &bridge {
                super::print_stdout(&format!("{}\n", bridge.endpoint()));
                super::print_stderr(&aws_check_help(&bridge.endpoint()));
            }
            wait_for_stop_signal().await;
            return Ok(ExitCode::SUCCESS);
        }
        let mut vars = vec![("base_url".to_string(), server.base_url())];
        let path = match &bridge {
            Some(bridge) => {
                vars.push((aws::ENDPOINT_VAR.to_string(), bridge.endpoint()));
                demo_aws_checklist_path()?
            }
            None => demo_checklist_path()?,
        };
        let checklist = super::load_checklist_for(&path, Some("demo"), &vars, &settings)?;
        let actor = super::resolve_actor(args.actor, &settings, &mut warnings);
        let reason = super::open::open_cockpit(
            checklist,
            settings,
            actor,
            args.theme,
            args.new_session,
            warnings,
        )
        .await?;
        Ok(ExitCode::from(reason.exit_code()))
    })
}

/// `checklists/demo.toml` when run from the repository, else a copy of the embedded one in the
/// data folder, so that `golive demo` works from any folder.
fn demo_checklist_path() -> anyhow::Result<PathBuf> {
    let local = PathBuf::from("checklists/demo.toml");
    if local.is_file() {
        return Ok(local);
    }
    let path = data_dir()?.join("demo.toml");
    std::fs::write(&path, EMBEDDED_DEMO)
        .with_context(|| format!("cannot write the demo checklist to {}", path.display()))?;
    Ok(path)
}

/// Removes every `AWS_` variable of the user's environment and sets the fake demo keys, so that
/// the demo's AWS checks can never sign with real credentials or read a real profile.
///
/// # Safety
///
/// Only sound while the process has a single thread.
unsafe fn isolate_aws_env() {
    let inherited: Vec<std::ffi::OsString> = std::env::vars_os()
        .map(|(name, _)| name)
        .filter(|name| name.to_str().is_some_and(|name| name.starts_with("AWS_")))
        .collect();
    // SAFETY: the caller guarantees that no other thread exists.
    unsafe {
        for name in inherited {
            std::env::remove_var(name);
        }
        for (name, value) in aws::sdk_env() {
            std::env::set_var(name, value);
        }
    }
}

/// Checks that moto responds at `moto_url`, starts the bridge in front of it and seeds the
/// demo's AWS resources through the bridge.
async fn start_aws(moto_url: &str) -> anyhow::Result<MotoBridge> {
    aws::check_moto(moto_url).await?;
    let bridge = MotoBridge::start(moto_url)
        .await
        .context("cannot start the bridge in front of moto on 127.0.0.1")?;
    super::print_stderr(&format!(
        "golive: creating the demo's AWS resources in moto at {moto_url}\n"
    ));
    tracing::info!(moto = moto_url, bridge = %bridge.endpoint(), "seeding the AWS demo");
    aws::Seeder::new(&bridge.endpoint())
        .await
        .seed_all()
        .await?;
    tracing::info!(moto = moto_url, "AWS demo resources seeded");
    Ok(bridge)
}

/// Returns the lines `--serve` prints on standard error for running the AWS checklist headless.
fn aws_check_help(endpoint: &str) -> String {
    let exports: Vec<String> = aws::sdk_env()
        .iter()
        .map(|(name, value)| format!("export {name}={value}\n"))
        .collect();
    format!(
        "AWS demo resources seeded; the AWS checks reach moto through {endpoint}. For \
         `golive check`, with fake keys only:\n{}golive check checklists/demo-aws.toml \
         --var {}={endpoint}\n",
        exports.concat(),
        aws::ENDPOINT_VAR,
    )
}

/// Combines the demo checklist and the demo AWS checklist into one file in the data folder and
/// returns its path. It reads both from `checklists/` when run from the repository, else uses
/// the embedded copies.
fn demo_aws_checklist_path() -> anyhow::Result<PathBuf> {
    let local_demo = Path::new("checklists/demo.toml");
    let local_aws = Path::new("checklists/demo-aws.toml");
    let (demo_text, aws_text) = if local_demo.is_file() && local_aws.is_file() {
        (read_text(local_demo)?, read_text(local_aws)?)
    } else {
        (EMBEDDED_DEMO.to_string(), EMBEDDED_DEMO_AWS.to_string())
    };
    let combined = aws::cockpit_checklist(&demo_text, &aws_text)
        .context("cannot combine the demo checklist with its AWS phase")?;
    let path = data_dir()?.join("demo-aws-cockpit.toml");
    std::fs::write(&path, combined)
        .with_context(|| format!("cannot write the demo checklist to {}", path.display()))?;
    Ok(path)
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Returns golive's data folder, creating it when missing.
/// The copy of the demo checklist that `golive demo` writes and opens outside the repository.
pub fn installed_demo_path() -> PathBuf {
    data_folder().join("demo.toml")
}

fn data_folder() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("golive")
}

fn data_dir() -> anyhow::Result<PathBuf> {
    let dir = data_folder();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    Ok(dir)
}

/// Waits for Ctrl-C or SIGTERM.
async fn wait_for_stop_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
