//! Parse time and peak memory of the `report` check's readers on large generated files: a
//! 100 MiB Nuclei JSON Lines file and a 50 MiB ZAP JSON report.
//!
//! Each parse runs in a child process (this binary started again with `--parse-child`), so
//! that its peak resident memory (`VmHWM` in `/proc/self/status`) belongs to that parse only.
//! Run with `cargo bench --bench report_parse`; prints one line per file.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use golive::checks::report::{ReadOptions, Tally, read_report};

const NUCLEI_BYTES: u64 = 100 * 1024 * 1024;
const ZAP_BYTES: u64 = 50 * 1024 * 1024;
const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == "--parse-child") {
        let path = args.get(position + 1).expect("--parse-child needs a path");
        parse_child(Path::new(path));
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let nuclei = dir.path().join("nuclei-100mb.jsonl");
    let zap = dir.path().join("zap-50mb.json");
    write_nuclei(&nuclei, NUCLEI_BYTES);
    write_zap(&zap, ZAP_BYTES);
    let exe = std::env::current_exe().expect("path of this benchmark binary");
    for path in [&nuclei, &zap] {
        let output = Command::new(&exe)
            .arg("--parse-child")
            .arg(path)
            .output()
            .expect("child parse started");
        if !output.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
            panic!("child parse of {} failed", path.display());
        }
        print!("{}", String::from_utf8_lossy(&output.stdout));
    }
}

/// Parses one file and prints its size, findings, time and peak memory.
fn parse_child(path: &Path) {
    let before = peak_kib();
    let mut tally = Tally::default();
    let started = Instant::now();
    let meta = read_report(
        path,
        ReadOptions::default(),
        Arc::new(AtomicBool::new(false)),
        &mut |finding| tally.add(finding, false),
    )
    .expect("generated report parses");
    let elapsed = started.elapsed();
    let after = peak_kib();
    let mib = meta.bytes as f64 / (1024.0 * 1024.0);
    let format = meta.format.map_or("unknown", |format| format.as_str());
    println!(
        "{format:<12} {mib:>6.1} MiB  {:>8} findings  {:>6.2} s  {:>6.1} MiB/s  \
         peak RSS {:>6.1} MiB (before parse {:>5.1} MiB)  kept {}",
        tally.total(),
        elapsed.as_secs_f64(),
        mib / elapsed.as_secs_f64(),
        after as f64 / 1024.0,
        before as f64 / 1024.0,
        tally.kept_total(),
    );
}

/// Returns `VmHWM` (peak resident set size) of this process in KiB, or 0 where `/proc` is not
/// available.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

fn write_nuclei(path: &Path, target: u64) {
    let mut file = BufWriter::new(std::fs::File::create(path).expect("create the Nuclei file"));
    let mut written = 0u64;
    let mut index = 0u64;
    while written < target {
        let severity = SEVERITIES[(index % 5) as usize];
        let line = format!(
            "{{\"template-id\":\"generated-{}\",\"info\":{{\"name\":\"Generated finding\",\
             \"author\":[\"golive\"],\"tags\":[\"bench\"],\"severity\":\"{severity}\"}},\
             \"type\":\"http\",\"host\":\"https://app.example.test\",\
             \"matched-at\":\"https://app.example.test/page/{index}?session=abc{index}\",\
             \"ip\":\"127.0.0.1\",\"timestamp\":\"2026-12-03T10:00:00Z\",\
             \"matcher-status\":true}}\n",
            index % 97
        );
        file.write_all(line.as_bytes()).expect("write a line");
        written += line.len() as u64;
        index += 1;
    }
    file.flush().expect("flush the Nuclei file");
}

/// A writer that counts the bytes written through it.
struct CountingWriter {
    inner: BufWriter<std::fs::File>,
    written: u64,
}

impl CountingWriter {
    /// Writes the text and returns the bytes written so far.
    fn put(&mut self, text: &str) -> u64 {
        self.inner
            .write_all(text.as_bytes())
            .expect("write the ZAP file");
        self.written += text.len() as u64;
        self.written
    }
}

fn write_zap(path: &Path, target: u64) {
    let file = std::fs::File::create(path).expect("create the ZAP file");
    let mut out = CountingWriter {
        inner: BufWriter::new(file),
        written: 0,
    };
    out.put(
        "{\"@version\":\"2.16.1\",\"@generated\":\"Thu, 3 Dec 2026 09:15:00\",\"site\":[\
         {\"@name\":\"https://app.example.test\",\"@host\":\"app.example.test\",\
         \"@port\":\"443\",\"@ssl\":\"true\",\"alerts\":[",
    );
    let per_alert = 5_000;
    let mut alert = 0u64;
    let mut size = 0;
    while size < target {
        if alert > 0 {
            out.put(",");
        }
        out.put(&format!(
            "{{\"pluginid\":\"{}\",\"alertRef\":\"{}\",\"alert\":\"Generated alert\",\
             \"name\":\"Generated alert\",\"riskcode\":\"{}\",\"confidence\":\"2\",\
             \"desc\":\"<p>A generated alert for the parse benchmark.</p>\",\"instances\":[",
            10000 + alert,
            10000 + alert,
            alert % 4
        ));
        for instance in 0..per_alert {
            let separator = if instance == 0 { "" } else { "," };
            size = out.put(&format!(
                "{separator}{{\"uri\":\"https://app.example.test/item/{instance}?id={instance}\",\
                 \"method\":\"GET\",\"param\":\"id\",\"attack\":\"' OR '1'='1\",\
                 \"evidence\":\"<div class=\\\"result\\\">{instance}</div>\",\"otherinfo\":\"\"}}"
            ));
        }
        out.put(&format!(
            "],\"count\":\"{per_alert}\",\"solution\":\"<p>Fix it.</p>\",\"cweid\":\"79\"}}"
        ));
        alert += 1;
    }
    out.put("]}]}\n");
    out.inner.flush().expect("flush the ZAP file");
}
