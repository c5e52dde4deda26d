//! Verifying a signed launch record without `ssh-keygen`: the SSHSIG signature over the
//! record's bytes against an `allowed_signers` file, then the record's own consistency with
//! the files it names and, when given, its session journal.

use std::path::{Path, PathBuf};

use ssh_key::{HashAlg, PublicKey, SshSig};

use super::allowed_signers::{AllowedSigner, matches_pattern_list};
use super::{FileDigestError, LaunchRecord, SIGNATURE_NAMESPACE, sha256_file};
use crate::journal::GENESIS_HASH;
use crate::journal::file::read_journal;

/// The inputs of a verification besides the record's bytes.
pub struct VerifyRequest<'a> {
    /// The record file; subjects are looked for in its folder.
    pub record_path: &'a Path,
    pub record_bytes: &'a [u8],
    /// The signature file, named in messages.
    pub signature_path: &'a Path,
    /// The signature file's text (`-----BEGIN SSH SIGNATURE-----` PEM).
    pub signature_pem: &'a str,
    pub allowed_signers: &'a [AllowedSigner],
    /// The principal the signature must be from; any listed principal when `None`.
    pub identity: Option<&'a str>,
    /// The session journal file to compare with the record's `journal` fields.
    pub journal: Option<&'a Path>,
    /// The time that `valid-after` and `valid-before` options are checked against.
    pub now: jiff::Timestamp,
}

/// The `allowed_signers` entry that accepted a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedSigner {
    /// The principal patterns of the matching line.
    pub principals: Vec<String>,
    /// The matching line's 1-based number.
    pub line: usize,
    /// The key's SHA-256 fingerprint, such as `SHA256:...`.
    pub fingerprint: String,
}

/// The outcome of verifying a record: what was checked and every problem found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// The signer, when the signature is valid and trusted.
    pub signer: Option<AcceptedSigner>,
    /// Checks that passed, one line each, for the report.
    pub passed: Vec<String>,
    /// Checks that could not run, such as a subject file that is not present.
    pub skipped: Vec<String>,
    /// Every problem found; empty when the record is valid.
    pub problems: Vec<String>,
}

impl Verification {
    /// Returns whether the signature is valid and trusted and no check found a problem.
    pub fn is_valid(&self) -> bool {
        self.signer.is_some() && self.problems.is_empty()
    }
}

/// The armour line a signature file starts with.
const SIGNATURE_BEGIN: &str = "-----BEGIN SSH SIGNATURE-----";

/// Verifies the signature, then the record's consistency. The subject files are read only
/// when the signature is valid and trusted, because their paths come from the record.
pub fn verify(request: &VerifyRequest<'_>) -> Verification {
    let mut verification = Verification::default();
    match verify_signature(request) {
        Ok(signer) => {
            verification.passed.push(format!(
                "signature by {} ({}, allowed_signers line {}), namespace {SIGNATURE_NAMESPACE}",
                signer.principals.join(","),
                signer.fingerprint,
                signer.line
            ));
            verification.signer = Some(signer);
        }
        Err(problem) => verification.problems.push(problem),
    }
    check_record(request, &mut verification);
    verification
}

/// Checks the SSHSIG signature over the record's bytes: its namespace, that it matches the
/// bytes, and that an `allowed_signers` line trusts its key for the identity and namespace.
///
/// # Errors
///
/// A sentence saying what is wrong.
pub fn verify_signature(request: &VerifyRequest<'_>) -> Result<AcceptedSigner, String> {
    let signature_file = request.signature_path.display();
    let pem = request.signature_pem.trim();
    // Checked here because the PEM decoder's message for a file without this armour line
    // names a NUL byte even when the file has none.
    if !pem.starts_with(SIGNATURE_BEGIN) {
        return Err(format!(
            "{signature_file} is not an SSH signature file (it does not start with \
             {SIGNATURE_BEGIN})"
        ));
    }
    let signature = SshSig::from_pem(pem.as_bytes())
        .map_err(|err| format!("{signature_file} is not a valid SSH signature: {err}"))?;
    if signature.namespace() != SIGNATURE_NAMESPACE {
        return Err(format!(
            "namespace is {}, expected {SIGNATURE_NAMESPACE}",
            signature.namespace()
        ));
    }
    let key = PublicKey::new(signature.public_key().clone(), "");
    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    if key
        .verify(SIGNATURE_NAMESPACE, request.record_bytes, &signature)
        .is_err()
    {
        return Err(
            "signature does not match the file: the record was changed after signing".to_string(),
        );
    }
    find_trusted_signer(request, &key, fingerprint)
}

/// Finds the `allowed_signers` line that trusts `key` for the requested identity, the
/// launch record namespace and the current time.
fn find_trusted_signer(
    request: &VerifyRequest<'_>,
    key: &PublicKey,
    fingerprint: String,
) -> Result<AcceptedSigner, String> {
    // NOTE: certificate signatures and `cert-authority` lines are not supported, so such
    // lines never accept a signature here.
    let same_key: Vec<&AllowedSigner> = request
        .allowed_signers
        .iter()
        .filter(|signer| !signer.cert_authority && signer.key.key_data() == key.key_data())
        .collect();
    if same_key.is_empty() {
        return Err(format!(
            "signed by a key not in allowed_signers ({fingerprint})"
        ));
    }

    let for_identity: Vec<&AllowedSigner> = match request.identity {
        Some(identity) => same_key
            .iter()
            .copied()
            .filter(|signer| matches_pattern_list(&signer.principals, identity))
            .collect(),
        None => same_key.clone(),
    };
    if for_identity.is_empty() {
        let listed: Vec<String> = same_key
            .iter()
            .flat_map(|signer| signer.principals.iter().cloned())
            .collect();
        return Err(format!(
            "signed by key {fingerprint}, which allowed_signers lists for {}, not for {}",
            listed.join(", "),
            request.identity.unwrap_or_default()
        ));
    }

    let namespace_allowed = |signer: &&&AllowedSigner| {
        signer
            .namespaces
            .as_ref()
            .is_none_or(|namespaces| matches_pattern_list(namespaces, SIGNATURE_NAMESPACE))
    };
    let in_namespace: Vec<&&AllowedSigner> =
        for_identity.iter().filter(namespace_allowed).collect();
    let Some(first) = in_namespace.first() else {
        return Err(format!(
            "allowed_signers does not allow key {fingerprint} to sign in namespace \
             {SIGNATURE_NAMESPACE} (see its namespaces=\"...\" option)"
        ));
    };

    let valid = in_namespace.iter().find(|signer| {
        signer.valid_after.is_none_or(|after| request.now >= after)
            && signer
                .valid_before
                .is_none_or(|before| request.now <= before)
    });
    let Some(signer) = valid else {
        return Err(format!(
            "allowed_signers line {} for key {fingerprint} is not valid at {} (see its \
             valid-after and valid-before options)",
            first.line, request.now
        ));
    };
    Ok(AcceptedSigner {
        principals: signer.principals.clone(),
        line: signer.line,
        fingerprint,
    })
}

/// Checks that the record is a golive launch record, that present subject files have the
/// recorded digests, and that the journal, when given, matches.
fn check_record(request: &VerifyRequest<'_>, verification: &mut Verification) {
    let record = match LaunchRecord::from_json(request.record_bytes) {
        Ok(record) => record,
        Err(err) => {
            verification.problems.push(err.to_string());
            return;
        }
    };
    verification
        .passed
        .push("the record is an in-toto Statement v1 with golive's predicate type".to_string());
    let folder = request
        .record_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if verification.signer.is_some() {
        for (index, subject) in record.subject.iter().enumerate() {
            check_subject(index, subject, &folder, verification);
        }
    } else {
        verification
            .skipped
            .push("the signature is not valid, so the record's paths are not trusted".to_string());
    }
    if let Some(journal) = request.journal {
        check_journal(&record, journal, verification);
    }
}

fn check_subject(
    index: usize,
    subject: &super::Subject,
    folder: &Path,
    verification: &mut Verification,
) {
    let label = if index == 0 { "checklist" } else { "subject" };
    let Some(expected) = subject.digest.get("sha256") else {
        verification
            .problems
            .push(format!("{label} {} has no sha256 digest", subject.name));
        return;
    };
    let mut candidates = Vec::new();
    // A name with folders in it could point outside the record's folder.
    if !subject.name.is_empty()
        && Path::new(&subject.name)
            .file_name()
            .is_some_and(|name| name == subject.name.as_str())
    {
        candidates.push(folder.join(&subject.name));
    }
    if let Some(path) = subject.annotations.get("path") {
        candidates.push(PathBuf::from(path));
    }
    // A regular file is preferred. Otherwise the first path that exists is reported, such as
    // a FIFO or device, which is never read because reading it could block or never end.
    let found = candidates
        .iter()
        .find(|path| path.is_file())
        .or_else(|| candidates.iter().find(|path| path.exists()));
    let Some(found) = found else {
        verification.skipped.push(format!(
            "{label} {} not found next to the record or at its recorded path",
            subject.name
        ));
        return;
    };
    match sha256_file(found) {
        Ok(actual) => {
            if &actual == expected {
                verification.passed.push(format!(
                    "{label} {} has the recorded sha256",
                    found.display()
                ));
            } else {
                verification.problems.push(format!(
                    "{label} file digest differs: {} has sha256 {actual}, the record says \
                     {expected}",
                    found.display()
                ));
            }
        }
        Err(FileDigestError::NotRegularFile { kind }) => verification.problems.push(format!(
            "{label} {} is {kind}, not a regular file",
            found.display()
        )),
        Err(FileDigestError::Io(err)) => verification
            .problems
            .push(format!("cannot read {label} {}: {err}", found.display())),
    }
}

fn check_journal(record: &LaunchRecord, path: &Path, verification: &mut Verification) {
    let contents = match read_journal(path) {
        Ok(contents) => contents,
        Err(err) => {
            verification.problems.push(err.to_string());
            return;
        }
    };
    verification.skipped.extend(contents.warnings);
    let recorded = &record.predicate.journal;
    let events = &contents.events;
    // The record covers the journal as it was at export time, and later events may follow. So
    // the event at the recorded length must have the recorded head hash.
    let length = events.len() as u64;
    let head_at_recorded_length = match recorded.length {
        0 => Some(GENESIS_HASH),
        n => usize::try_from(n - 1)
            .ok()
            .and_then(|index| events.get(index))
            .map(|event| event.hash.as_str()),
    };
    match head_at_recorded_length {
        None => verification.problems.push(format!(
            "journal {} has {length} events, but the record covers {}: events were removed",
            path.display(),
            recorded.length
        )),
        Some(head) if head != recorded.head => verification.problems.push(format!(
            "journal {} differs from the record: event {} has hash {head}, the record's head \
             is {}",
            path.display(),
            recorded.length,
            recorded.head
        )),
        Some(_) if length > recorded.length => verification.passed.push(format!(
            "journal {}: hash chain intact, its first {} events match the record's head ({} \
             events were added after the export)",
            path.display(),
            recorded.length,
            length - recorded.length
        )),
        Some(_) => verification.passed.push(format!(
            "journal {}: hash chain intact, {length} events, head matches the record",
            path.display()
        )),
    }
}
