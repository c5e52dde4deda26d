//! `golive journal verify`: walks a session journal's hash chain.

use std::process::ExitCode;

use anyhow::bail;
use golive::journal::file;
use golive::journal::{GENESIS_HASH, JournalError};
use golive::sanitize::terminal_safe;

use crate::JournalVerifyArgs;

pub fn verify(args: JournalVerifyArgs) -> anyhow::Result<ExitCode> {
    let path = match (&args.file, &args.checklist) {
        (Some(path), _) => path.clone(),
        (None, Some(checklist)) => {
            let settings = super::load_settings(&args.config)?;
            let checklist =
                super::load_checklist_for(checklist, args.env.as_deref(), &args.vars, &settings)?;
            file::path_for(&settings.journal_dir(), &checklist)
        }
        (None, None) => bail!("name the journal: pass CHECKLIST [--env E] or --file PATH"),
    };
    let display = terminal_safe(&path.display().to_string());
    if !path.exists() {
        bail!("journal {display} not found");
    }
    match file::read_journal(&path) {
        Ok(contents) => {
            for warning in &contents.warnings {
                super::print_stderr(&format!("warning: {}\n", terminal_safe(warning)));
            }
            let head = contents
                .events
                .last()
                .map_or(GENESIS_HASH, |event| event.hash.as_str());
            super::print_stdout(&format!(
                "journal {display}: hash chain intact\nlength: {}\nhead: {head}\n",
                contents.events.len()
            ));
            Ok(ExitCode::SUCCESS)
        }
        // Both mean the file fails verification, unlike an I/O error, which stops the command.
        Err(err @ (JournalError::Damaged { .. } | JournalError::NotJournal { .. })) => {
            super::print_stdout(&format!("{}\n", terminal_safe(&err.to_string())));
            Ok(ExitCode::from(1))
        }
        Err(err) => Err(err.into()),
    }
}
