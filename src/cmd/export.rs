//! `golive export`: writes the signed launch record of a checklist's session.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use golive::journal::file;
use golive::record::signing::{SigningError, SigningKey};
use golive::record::{self, Attachment, RecordSource};
use golive::session::Session;

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

    let journal_path = file::path_for(&settings.journal_dir(), &checklist);
    let events = if journal_path.exists() {
        let contents = file::read_journal(&journal_path)
            .context("cannot export a record of a damaged journal")?;
        warnings.extend(contents.warnings);
        contents.events
    } else {
        warnings.push(format!(
            "no session journal at {}: the record shows every manual item as not done",
            journal_path.display()
        ));
        Vec::new()
    };
    for warning in &warnings {
        super::print_stderr(&format!("warning: {warning}\n"));
    }
    let mut session = Session::new(checklist.clone());
    for event in &events {
        session.apply_event(event);
    }

    let attachments: Vec<Attachment> = args
        .attach
        .iter()
        .map(|path| Attachment { path: path.clone() })
        .collect();
    let journal_file = journal_path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let launch_record = record::build(&RecordSource {
        checklist: &checklist,
        session: &session,
        journal_events: &events,
        journal_file,
        attachments: &attachments,
        // Whole seconds keep the record readable; the journal has the exact times.
        generated_at: jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_else(|_| jiff::Timestamp::now()),
    })?;
    let json = launch_record.to_json();
    let markdown = record::markdown::render(&launch_record, &checklist.redactor);
    let signature = match &signer {
        Some((key, _)) => Some(key.sign(&json)?),
        None => None,
    };

    let folder = args
        .out
        .clone()
        .unwrap_or_else(|| default_folder(&checklist.environment));
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create folder {}", folder.display()))?;
    let record_path = folder.join(record::RECORD_FILE);
    let signature_path = folder.join(record::SIGNATURE_FILE);
    let mut targets = vec![record_path.clone(), folder.join(record::MARKDOWN_FILE)];
    if signature.is_some() {
        targets.push(signature_path.clone());
    }
    if let Some(existing) = targets.iter().find(|path| path.exists()) {
        bail!(
            "{} already exists; choose another folder with --out or move the old record away",
            existing.display()
        );
    }
    write_new(&record_path, &json)?;
    write_new(&folder.join(record::MARKDOWN_FILE), markdown.as_bytes())?;
    if let Some(signature) = &signature {
        write_new(&signature_path, signature.as_bytes())?;
    }

    let decision = launch_record.predicate.decision.as_str().to_uppercase();
    let mut out = format!(
        "Launch record written to {} (decision: {decision})\n",
        folder.display()
    );
    if let Some((key, email)) = &signer {
        out.push_str(&verify_instructions(
            key,
            email,
            &record_path,
            &signature_path,
        ));
    } else {
        out.push_str("Not signed (--no-sign).\n");
    }
    super::print_stdout(&out);
    Ok(ExitCode::SUCCESS)
}

/// Returns `./launch-record-<env>-<UTC time>`, with the environment made safe for a file name.
fn default_folder(environment: &str) -> PathBuf {
    let environment: String = environment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ");
    PathBuf::from(format!("launch-record-{environment}-{stamp}"))
}

/// Writes a file that must not exist yet, so that no record is overwritten.
fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Returns the `allowed_signers` line and the `ssh-keygen` command that verifies the record.
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
         \n    ssh-keygen -Y verify -f allowed_signers -I {principal} -n {namespace} \\\n\
         \x20       -s {sig} < {rec}\n\
         \n\
         or with golive:\n\
         \n    golive verify {rec} --allowed-signers allowed_signers --identity {principal}\n",
        key_path = key.path().display(),
        line = key.allowed_signers_line(email),
        principal = shell_quote(email),
        namespace = record::SIGNATURE_NAMESPACE,
        sig = shell_quote(&signature_path.display().to_string()),
        rec = shell_quote(&record_path.display().to_string()),
    )
}

/// Quotes a path for a POSIX shell when it contains anything but safe characters.
fn shell_quote(text: &str) -> String {
    let safe = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | ':' | '+' | '@'));
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
