//! Opening files that golive reads by streaming: only regular files (symbolic links followed),
//! never blocking on a FIFO. A FIFO would block the open until a writer comes, and a device such
//! as `/dev/zero` never ends, so neither is opened for reading.

use std::fs::{File, FileType, OpenOptions};
use std::io;
use std::path::Path;

/// A failure to open a path as a regular file.
#[derive(Debug)]
pub enum OpenError {
    /// The path could not be inspected (`action` is `inspect`) or opened (`open`).
    Io {
        action: &'static str,
        source: io::Error,
    },
    /// The path names something other than a regular file, such as `a FIFO`.
    NotRegular { kind: &'static str },
}

/// Opens a regular file for reading. The type is checked before the open and again on the
/// opened file, because the path may be replaced in between.
pub fn open_regular_file(path: &Path) -> Result<File, OpenError> {
    let io_error = |action| move |source| OpenError::Io { action, source };
    let metadata = std::fs::metadata(path).map_err(io_error("inspect"))?;
    require_regular(metadata.file_type())?;
    let mut options = OpenOptions::new();
    options.read(true);
    // O_NONBLOCK makes opening a FIFO put in place after the check return at once, and the check
    // below then rejects it. The flag has no effect on reads of a regular file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io_error("open"))?;
    let opened = file.metadata().map_err(io_error("inspect"))?;
    require_regular(opened.file_type())?;
    Ok(file)
}

fn require_regular(file_type: FileType) -> Result<(), OpenError> {
    if file_type.is_file() {
        Ok(())
    } else {
        Err(OpenError::NotRegular {
            kind: describe_file_type(&file_type),
        })
    }
}

/// Names a file type with its article, for messages such as "X is a FIFO".
pub fn describe_file_type(file_type: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}
