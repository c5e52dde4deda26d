//! Signing a launch record with an ed25519 OpenSSH key, as an SSHSIG that
//! `ssh-keygen -Y verify -n golive-launch-record` accepts.
//!
//! Only ed25519 keys are supported: they are the `ssh-keygen` default since OpenSSH 9.5, and
//! their signatures are deterministic, so re-signing the same record gives the same signature.

use std::path::{Path, PathBuf};

use ssh_key::{HashAlg, LineEnding, PrivateKey};

use super::SIGNATURE_NAMESPACE;

/// Environment variable that supplies the signing key's passphrase to scripts.
pub const PASSPHRASE_ENV: &str = "GOLIVE_KEY_PASSPHRASE";

/// The largest signing key file read, in bytes. An OpenSSH RSA key of 16384 bits, the largest
/// `ssh-keygen` makes, is about 13 KB, so a larger file is not a private key.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// The first words of a public key line in OpenSSH format, as in a `.pub` file.
const PUBLIC_KEY_PREFIXES: [&str; 6] = [
    "ssh-ed25519 ",
    "ssh-rsa ",
    "ssh-dss ",
    "ecdsa-sha2-",
    "sk-ssh-ed25519@openssh.com ",
    "sk-ecdsa-sha2-",
];

/// The armour line of a private key in OpenSSH format.
const OPENSSH_PRIVATE_KEY_BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";

/// Failures of loading a signing key or signing.
///
/// The I/O errors are part of the message and not error sources, so that a report printing
/// the source chain shows them once.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(
        "no signing key set: pass --key PATH or set `signing_key` under [identity] in \
         config.toml (identity.signing_key), or pass --no-sign"
    )]
    NoKeyConfigured,
    #[error(
        "signing key {path} not found; create one with `ssh-keygen -t ed25519 -f {path}` or point \
         --key or identity.signing_key in config.toml at an existing key"
    )]
    KeyNotFound { path: String },
    #[error("cannot read signing key {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error(
        "signing key {path} is larger than {MAX_KEY_FILE_BYTES} bytes, so it is not an SSH \
         private key; give an OpenSSH ed25519 private key"
    )]
    TooLarge { path: String },
    #[error("{path} is a public key; give the private key (usually the same path without .pub)")]
    PublicKey { path: String },
    #[error(
        "signing key {path} is a private key in the older PEM format, but golive reads only \
         OpenSSH private keys (`{OPENSSH_PRIVATE_KEY_BEGIN}`); convert it with \
         `ssh-keygen -p -f {path}`"
    )]
    PemFormat { path: String },
    #[error("signing key {path} is not a valid OpenSSH private key: {reason}")]
    InvalidOpenSsh { path: String, reason: String },
    #[error(
        "signing key {path} is not an OpenSSH private key (a file starting with \
         `{OPENSSH_PRIVATE_KEY_BEGIN}`); give the private key file that `ssh-keygen` wrote"
    )]
    NotOpenSsh { path: String },
    #[error(
        "signing key {path} is an {algorithm} key, but golive signs only with ed25519 keys; \
         create one with `ssh-keygen -t ed25519`"
    )]
    UnsupportedAlgorithm { path: String, algorithm: String },
    #[error(
        "signing key {path} is encrypted and no passphrase is available: set {PASSPHRASE_ENV} \
         or run in a terminal ({reason})"
    )]
    NoPassphrase { path: String, reason: String },
    #[error("wrong passphrase for {path}")]
    WrongPassphrase { path: String },
    #[error(
        "no identity email set: a signature is checked against the signer's email \
         (`ssh-keygen -Y verify -I EMAIL`); set `email` under [identity] in config.toml"
    )]
    NoEmail,
    #[error("cannot sign the record: {0}")]
    Sign(String),
}

/// An ed25519 private key ready to sign, with the path it came from.
pub struct SigningKey {
    key: PrivateKey,
    path: PathBuf,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Replaces a leading `~` or `~/` with the home folder.
pub fn expand_home(path: &Path) -> PathBuf {
    let Ok(rest) = path.strip_prefix("~") else {
        return path.to_path_buf();
    };
    match dirs::home_dir() {
        Some(home) => home.join(rest),
        None => path.to_path_buf(),
    }
}

impl SigningKey {
    /// Loads an ed25519 OpenSSH private key. An encrypted key is decrypted with the passphrase
    /// from [`PASSPHRASE_ENV`], or else one asked for on the terminal without echo.
    ///
    /// # Errors
    ///
    /// A [`SigningError`] naming the key's path for a missing or unreadable file, a file that
    /// is not an OpenSSH private key, a key of another algorithm, or a wrong passphrase.
    pub fn load(path: &Path) -> Result<SigningKey, SigningError> {
        let passphrase = |display: &str| -> Result<String, SigningError> {
            if let Ok(passphrase) = std::env::var(PASSPHRASE_ENV) {
                return Ok(passphrase);
            }
            rpassword::prompt_password(format!("Passphrase for {display}: ")).map_err(|err| {
                SigningError::NoPassphrase {
                    path: display.to_string(),
                    reason: err.to_string(),
                }
            })
        };
        Self::load_with(path, passphrase)
    }

    /// Loads a key like [`SigningKey::load`], asking `passphrase` (given the key's path) when
    /// the key is encrypted.
    ///
    /// # Errors
    ///
    /// As [`SigningKey::load`], and whatever `passphrase` returns.
    pub fn load_with(
        path: &Path,
        passphrase: impl FnOnce(&str) -> Result<String, SigningError>,
    ) -> Result<SigningKey, SigningError> {
        let path = expand_home(path);
        let display = path.display().to_string();
        let text = read_key_file(&path, &display)?;
        let key = parse_private_key(&text, &display)?;
        // The algorithm is in the key's unencrypted public part, so an unsupported key is
        // reported before a passphrase is asked for.
        let algorithm = key.algorithm();
        if algorithm != ssh_key::Algorithm::Ed25519 {
            return Err(SigningError::UnsupportedAlgorithm {
                path: display,
                algorithm: algorithm_name(&algorithm),
            });
        }
        let key = if key.is_encrypted() {
            let passphrase = zeroize::Zeroizing::new(passphrase(&display)?);
            key.decrypt(passphrase.as_bytes())
                .map_err(|_| SigningError::WrongPassphrase {
                    path: display.clone(),
                })?
        } else {
            key
        };
        Ok(SigningKey { key, path })
    }

    /// Returns the file the key was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Signs `message` in the [`SIGNATURE_NAMESPACE`] with SHA-512, and returns the signature
    /// as the PEM text that `ssh-keygen -Y sign` writes.
    ///
    /// # Errors
    ///
    /// [`SigningError::Sign`] when the signature cannot be made or encoded.
    pub fn sign(&self, message: &[u8]) -> Result<String, SigningError> {
        let signature = self
            .key
            .sign(SIGNATURE_NAMESPACE, HashAlg::Sha512, message)
            .map_err(|err| SigningError::Sign(err.to_string()))?;
        signature
            .to_pem(LineEnding::LF)
            .map_err(|err| SigningError::Sign(err.to_string()))
    }

    /// Returns the public key in OpenSSH format, such as `ssh-ed25519 AAAA...`, without a comment.
    pub fn public_key_openssh(&self) -> String {
        let mut public = self.key.public_key().clone();
        public.set_comment("");
        public
            .to_openssh()
            .map(|text| text.trim_end().to_string())
            .unwrap_or_default()
    }

    /// Returns the `allowed_signers` line that accepts this key's signatures on launch records
    /// from `email`.
    pub fn allowed_signers_line(&self, email: &str) -> String {
        format!(
            "{email} namespaces=\"{SIGNATURE_NAMESPACE}\" {}",
            self.public_key_openssh()
        )
    }
}

/// Reads a key file of at most [`MAX_KEY_FILE_BYTES`]. The limit keeps a path such as
/// `/dev/zero` from filling memory, and a FIFO (such as `<(pass show key)`) still works.
fn read_key_file(path: &Path, display: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, SigningError> {
    use std::io::Read;

    let read_error = |error: std::io::Error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            SigningError::KeyNotFound {
                path: display.to_string(),
            }
        } else {
            SigningError::Read {
                path: display.to_string(),
                error,
            }
        }
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(SigningError::TooLarge {
            path: display.to_string(),
        });
    }
    Ok(bytes)
}

/// Parses an OpenSSH private key, naming what the file is when it is not one: a public key,
/// a private key in the older PEM format, or something else.
fn parse_private_key(bytes: &[u8], display: &str) -> Result<PrivateKey, SigningError> {
    let path = display.to_string();
    // Text key formats are ASCII, so a file that is not UTF-8 is none of them.
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    if text.contains(OPENSSH_PRIVATE_KEY_BEGIN) {
        return PrivateKey::from_openssh(bytes).map_err(|err| SigningError::InvalidOpenSsh {
            path,
            reason: err.to_string(),
        });
    }
    let first_line = text.lines().map(str::trim).find(|line| !line.is_empty());
    if first_line.is_some_and(|line| {
        PUBLIC_KEY_PREFIXES
            .iter()
            .any(|prefix| line.starts_with(prefix))
    }) {
        return Err(SigningError::PublicKey { path });
    }
    // PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`), SEC1 (`EC`) and PKCS#8 (no word or
    // `ENCRYPTED`) armour lines all end the same way.
    let pem_private_key = text
        .lines()
        .map(str::trim)
        .any(|line| line.starts_with("-----BEGIN ") && line.ends_with(" PRIVATE KEY-----"));
    if pem_private_key {
        return Err(SigningError::PemFormat { path });
    }
    Err(SigningError::NotOpenSsh { path })
}

/// Returns the algorithm's usual name for messages: `RSA`, `ECDSA`, or its SSH name.
fn algorithm_name(algorithm: &ssh_key::Algorithm) -> String {
    match algorithm {
        ssh_key::Algorithm::Rsa { .. } => "RSA".to_string(),
        ssh_key::Algorithm::Ecdsa { .. } => "ECDSA".to_string(),
        ssh_key::Algorithm::Dsa => "DSA".to_string(),
        other => other.as_str().to_string(),
    }
}
