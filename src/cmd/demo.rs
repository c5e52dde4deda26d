//! `golive demo`: the built-in demo target on 127.0.0.1 and the cockpit on the demo checklist.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use golive::demo;

use crate::DemoArgs;

/// The demo checklist shipped inside the binary, used when `checklists/demo.toml` is not in the
/// current folder.
const EMBEDDED_DEMO: &str = include_str!("../../checklists/demo.toml");

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load_settings(&args.config)?;

    // The demo checklist reads its made-up credentials from these variables. They are set here,
    // before the runtime starts any thread, because changing the environment is only sound while
    // the process is single-threaded.
    let checklist_env = demo::checklist_env();
    // SAFETY: no other thread exists yet.
    unsafe {
        for (name, value) in &checklist_env {
            std::env::set_var(name, value);
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
            wait_for_stop_signal().await;
            return Ok(ExitCode::SUCCESS);
        }
        let path = demo_checklist_path()?;
        let vars = [("base_url".to_string(), server.base_url())];
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
    let dir = dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("golive");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let path = dir.join("demo.toml");
    std::fs::write(&path, EMBEDDED_DEMO)
        .with_context(|| format!("cannot write the demo checklist to {}", path.display()))?;
    Ok(path)
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
