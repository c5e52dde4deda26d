//! `golive export`: writes the signed launch record of a checklist's session.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use golive::journal::file;
use golive::record::export::{self, ExportError, ExportRequest, Signer};
use golive::record::signing::{SigningError, SigningKey};
use golive::record::{Attachment, RecordSource};

use crate::ExportArgs;

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load_settings(&args.config)?;
    let mut warnings = Vec::new();
    let _log = super::start_logging(&settings, &mut warnings);
    let checklist = super::load_checklist(&args.checklist, &settings)?;

    // The key and identity are checked before anything is written, so a signing problem
    // leaves no unsigned record behind.
    let signer = if args.no_sign {
        None
    } else {
        let email = settings.identity.email.trim().to_string();
        if email.is_empty() {
            return Err(SigningError::NoEmail.into());
        }
        let key_path = args
            .key
            .clone()
            .or_else(|| settings.identity.signing_key.clone())
            .filter(|path| !path.as_os_str().is_empty())
            .ok_or(SigningError::NoKeyConfigured)?;
        Some((SigningKey::load(&key_path)?, email))
    };

    // The loader accepted the policy already; it is read again because only the checklist
    // is passed on.
    let policy = golive::checklist::loader::load_policy(&checklist)
        .map_err(|failure| anyhow::anyhow!("cannot read sign-offs and waivers:\n{failure}"))?;

    let journal_path = file::path_for(&settings.journal_dir(), &checklist);
    let events = if journal_path.exists() {
        let contents = file::read_journal(&journal_path)
            .context("cannot export a record of a damaged journal")?;
        warnings.extend(contents.warnings);
        contents.events
    } else if args.without_journal {
        warnings.push(format!(
            "no session journal at {}: the record shows every manual item as not done",
            journal_path.display()
        ));
        Vec::new()
    } else {
        anyhow::bail!(
            "no session journal for {} (environment {}) at {}: a session belongs to one \
             checklist file and environment, so export the file the cockpit opened (outside the \
             repository `golive demo` opens {}), or pass --without-journal to record the \
             automated checks alone",
            golive::sanitize::terminal_safe(&checklist.path.display().to_string()),
            checklist.environment,
            journal_path.display(),
            super::demo::installed_demo_path().display(),
        );
    };
    for warning in &warnings {
        super::print_stderr(&format!("warning: {warning}\n"));
    }
    let generated_at = export::generation_time(jiff::Timestamp::now());
    let session = export::replay(checklist.clone(), policy, &events, generated_at);

    let attachments: Vec<Attachment> = args
        .attach
        .iter()
        .map(|path| Attachment { path: path.clone() })
        .collect();
    let journal_file = journal_path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let folder = args
        .out
        .clone()
        .unwrap_or_else(|| export::default_folder(&checklist.environment, generated_at));
    let exported = export::write(&ExportRequest {
        source: RecordSource {
            checklist: &checklist,
            session: &session,
            journal_events: &events,
            journal_file,
            attachments: &attachments,
            generated_at,
        },
        folder: &folder,
        signer: signer.as_ref().map(|(key, email)| Signer { key, email }),
    })
    .map_err(|err| match err {
        ExportError::Exists { path } => anyhow::anyhow!(
            "{path} already exists; choose another folder with --out or move the old record away"
        ),
        other => other.into(),
    })?;

    let decision = exported.decision.as_str().to_uppercase();
    let mut out = format!(
        "Launch record written to {} (decision: {decision})\n",
        folder.display()
    );
    match (&signer, &exported.signature_path) {
        (Some((key, email)), Some(signature_path)) => out.push_str(&verify_instructions(
            key,
            email,
            &exported.record_path,
            signature_path,
        )),
        _ => out.push_str("Not signed (--no-sign).\n"),
    }
    super::print_stdout(&out);
    Ok(ExitCode::SUCCESS)
}

/// Returns the `allowed_signers` line and the commands that verify the record.
fn verify_instructions(
    key: &SigningKey,
    email: &str,
    record_path: &Path,
    signature_path: &Path,
) -> String {
    format!(
        "Signed with {key_path}.\n\
         \n\
         allowed_signers line for this key:\n\
         \n    {line}\n\
         \n\
         Verify with OpenSSH (after saving that line in allowed_signers):\n\
         \n    {command}\n\
         \n\
         or with golive:\n\
         \n    golive verify {rec} --allowed-signers allowed_signers --identity {principal}\n",
        key_path = key.path().display(),
        line = key.allowed_signers_line(email),
        command = export::verify_command(email, record_path, signature_path),
        principal = export::shell_quote(email),
        rec = export::shell_quote(&record_path.display().to_string()),
    )
}
