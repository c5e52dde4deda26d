//! `golive verify`: checks a launch record's signature and consistency without `ssh-keygen`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use golive::record::allowed_signers;
use golive::record::verify::{VerifyRequest, verify};
use golive::sanitize::terminal_safe;

use crate::VerifyArgs;

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let record_bytes = std::fs::read(&args.record)
        .with_context(|| format!("cannot read record {}", args.record.display()))?;
    let signature_path = args.signature.clone().unwrap_or_else(|| {
        let mut name = args.record.clone().into_os_string();
        name.push(".sig");
        PathBuf::from(name)
    });
    let signature_bytes = std::fs::read(&signature_path).with_context(|| {
        format!(
            "cannot read signature {}; pass --signature FILE when it is elsewhere",
            signature_path.display()
        )
    })?;
    // A file that is not UTF-8 is passed on as text so that verification names it as not
    // being a signature file.
    let signature_pem = String::from_utf8_lossy(&signature_bytes);
    let signers_text = std::fs::read_to_string(&args.allowed_signers).with_context(|| {
        format!(
            "cannot read allowed_signers file {}",
            args.allowed_signers.display()
        )
    })?;
    let signers = allowed_signers::parse(&signers_text)
        .with_context(|| format!("invalid {}", args.allowed_signers.display()))?;
    let verification = verify(&VerifyRequest {
        record_path: &args.record,
        record_bytes: &record_bytes,
        signature_path: &signature_path,
        signature_pem: &signature_pem,
        allowed_signers: &signers,
        identity: args.identity.as_deref(),
        journal: args.journal.as_deref(),
        now: jiff::Timestamp::now(),
    });

    let mut out = String::new();
    for line in &verification.passed {
        out.push_str(&format!("ok: {}\n", terminal_safe(line)));
    }
    for line in &verification.skipped {
        out.push_str(&format!("not checked: {}\n", terminal_safe(line)));
    }
    for line in &verification.problems {
        out.push_str(&format!("invalid: {}\n", terminal_safe(line)));
    }
    let record = terminal_safe(&args.record.display().to_string());
    if verification.is_valid() {
        out.push_str(&format!("{record}: valid launch record\n"));
        super::print_stdout(&out);
        Ok(ExitCode::SUCCESS)
    } else {
        out.push_str(&format!("{record}: NOT a valid launch record\n"));
        super::print_stdout(&out);
        Ok(ExitCode::from(1))
    }
}
