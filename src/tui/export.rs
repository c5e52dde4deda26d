//! Exporting the launch record from the cockpit (`E`): the same files as `golive export`,
//! written into `./launch-record-<env>-<UTC time>/` from the live session.
//!
//! The record is signed when `[identity] signing_key` is set. An encrypted key's passphrase
//! comes from `GOLIVE_KEY_PASSPHRASE`, or else from a masked input on the status line that never
//! shows what is typed. Without a key, the record is written unsigned with a warning in the event log.

use std::cell::Cell;
use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};
use zeroize::Zeroizing;

use super::app::{Action, App, Input, LogLevel};
use super::line_input::LineInput;
use crate::record::export::{self, ExportRequest, Exported, Signer};
use crate::record::signing::{PASSPHRASE_ENV, SigningError, SigningKey};
use crate::record::{MARKDOWN_FILE, RecordSource};
use crate::sanitize::terminal_safe;

/// Maximum length of a typed passphrase, in characters.
pub const PASSPHRASE_MAX_CHARS: usize = 1024;

/// The identity that signs records exported from the cockpit, from `[identity]` of
/// config.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportIdentity {
    /// The ed25519 OpenSSH private key; `None` writes records unsigned.
    pub signing_key: Option<PathBuf>,
    /// The signer's principal in `allowed_signers`.
    pub email: String,
}

/// The masked passphrase input for an encrypted signing key. Its text is wiped from memory
/// when dropped and never shown, logged or printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PassphraseInput {
    /// The key's path, shown in the prompt.
    pub key: String,
    pub text: Zeroizing<LineInput>,
}

impl std::fmt::Debug for PassphraseInput {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PassphraseInput")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Writes the launch record of the session (`Action::Export`), signed when a signing key is
    /// set, and logs where it went and how to verify it. Opens the passphrase input when the
    /// key is encrypted and no passphrase is available yet.
    pub fn export_record(&mut self) {
        self.dirty = true;
        let passphrase = self.export_passphrase.take();
        let key = match self.load_export_key(passphrase) {
            Ok(key) => key,
            Err(None) => return,
            Err(Some(message)) => {
                self.report_export_error(&message);
                return;
            }
        };
        let generated_at = export::generation_time(self.now);
        let folder = export::default_folder(&self.checklist().environment, generated_at);
        let journal_file = PathBuf::from(self.journal.location())
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let email = self.export_identity.email.trim().to_string();
        let checklist = std::sync::Arc::clone(self.checklist());
        let written = export::write(&ExportRequest {
            source: RecordSource {
                checklist: &checklist,
                session: &self.session,
                journal_events: self.journal.events(),
                journal_file,
                attachments: &[],
                generated_at,
            },
            folder: &folder,
            signer: key.as_ref().map(|key| Signer { key, email: &email }),
        });
        match written {
            Ok(exported) => self.report_export(&exported, key.as_ref(), &email),
            Err(err) => self.report_export_error(&format!("launch record not written: {err}")),
        }
    }

    /// Loads the signing key. Returns `Ok(None)` when none is set, `Err(None)` when the
    /// passphrase input was opened, and `Err(Some(message))` on a failure.
    fn load_export_key(
        &mut self,
        passphrase: Option<Zeroizing<String>>,
    ) -> Result<Option<SigningKey>, Option<String>> {
        let Some(path) = self
            .export_identity
            .signing_key
            .clone()
            .filter(|path| !path.as_os_str().is_empty())
        else {
            return Ok(None);
        };
        if self.export_identity.email.trim().is_empty() {
            return Err(Some(format!(
                "launch record not written: {}",
                SigningError::NoEmail
            )));
        }
        let needs_input = Cell::new(None);
        let loaded = SigningKey::load_with(&path, |display| {
            if let Some(passphrase) = &passphrase {
                return Ok(passphrase.to_string());
            }
            if let Ok(passphrase) = std::env::var(PASSPHRASE_ENV) {
                return Ok(passphrase);
            }
            needs_input.set(Some(display.to_string()));
            Err(SigningError::NoPassphrase {
                path: display.to_string(),
                reason: "waiting for the passphrase input".into(),
            })
        });
        match loaded {
            Ok(key) => Ok(Some(key)),
            Err(err) => match needs_input.take() {
                Some(key) => {
                    self.input = Some(Input::Passphrase(PassphraseInput {
                        key,
                        // Room for the longest passphrase, so that typing never reallocates
                        // and leaves copies behind.
                        text: Zeroizing::new(LineInput::with_capacity(PASSPHRASE_MAX_CHARS * 4)),
                    }));
                    Err(None)
                }
                None => Err(Some(format!("launch record not written: {err}"))),
            },
        }
    }

    /// Applies a key to the passphrase input. `Enter` exports with the typed passphrase.
    pub(super) fn handle_passphrase_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let Some(Input::Passphrase(input)) = self.input.as_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => {
                self.input = None;
                self.status_line = Some("export cancelled".into());
            }
            KeyCode::Enter => {
                let passphrase = Zeroizing::new(input.text.take_text());
                self.input = None;
                self.export_passphrase = Some(passphrase);
                return vec![Action::Export];
            }
            _ => input.text.handle_key(key, PASSPHRASE_MAX_CHARS),
        }
        Vec::new()
    }

    /// Logs the folder, the decision and, for a signed record, the `allowed_signers` line and
    /// the `ssh-keygen -Y verify` command.
    fn report_export(&mut self, exported: &Exported, key: Option<&SigningKey>, email: &str) {
        let folder = std::path::absolute(&exported.folder).unwrap_or(exported.folder.clone());
        let decision = exported.decision.as_str().to_uppercase();
        let at = self.now;
        // The record is written, so an earlier failure, such as a wrong passphrase, is over.
        self.error_line = None;
        match (key, &exported.signature_path) {
            (Some(key), Some(signature_path)) => {
                let line = format!(
                    "launch record written to {} (decision {decision}), signed with {}",
                    folder.display(),
                    key.path().display()
                );
                self.status_line = Some(line.clone());
                self.push_log(at, LogLevel::Info, &line);
                let signers = format!("allowed_signers line: {}", key.allowed_signers_line(email));
                self.push_log(at, LogLevel::Info, &signers);
                let command = export::verify_command(
                    email,
                    &folder.join(crate::record::RECORD_FILE),
                    &folder.join(signature_path.file_name().unwrap_or_default()),
                );
                self.push_log(at, LogLevel::Info, &format!("verify: {command}"));
            }
            _ => {
                let line = format!(
                    "launch record written UNSIGNED to {} (decision {decision}): set \
                     signing_key under [identity] in config.toml to sign it",
                    folder.display()
                );
                self.status_line = Some(line.clone());
                self.push_log(at, LogLevel::Warning, &line);
            }
        }
        let markdown = folder.join(MARKDOWN_FILE);
        self.push_log(
            at,
            LogLevel::Info,
            &format!("readable copy: {}", markdown.display()),
        );
    }

    fn report_export_error(&mut self, message: &str) {
        self.error_line = Some(terminal_safe(message));
        self.push_log(self.now, LogLevel::Error, message);
    }
}
