//! One pass over an upload file: the `csv` crate does the quoting (fields
//! with commas, quotes and newlines), CRLF or LF, the UTF-8 BOM and blank
//! lines; this module adds the header, field counts, UTF-8 checks and line
//! numbers, and guards memory against a record that never ends.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;

use csv::ByteRecord;
use indicatif::ProgressBar;
use sha2::{Digest as _, Sha256};

use super::{LineError, Problems, RECORD_MAX_BYTES, UploadError};

/// What a whole pass read: the SHA-256 of the file's bytes.
pub type Digest = [u8; 32];

/// The error `Guard` raises for a record over `RECORD_MAX_BYTES`.
#[derive(Debug)]
struct TooLong;

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record longer than {RECORD_MAX_BYTES} bytes")
    }
}

impl std::error::Error for TooLong {}

/// Wraps the file: hashes and counts what is read, advances the progress
/// bar, and fails once more than `RECORD_MAX_BYTES` were read since the
/// last record ended, before the `csv` reader buffers a runaway record.
struct Guard<R> {
    inner: R,
    read: u64,
    record_end: Rc<Cell<u64>>,
    /// The last byte read: whether the file ends with a line end.
    last: Option<u8>,
    hash: Sha256,
    progress: ProgressBar,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = buf.get(..n).unwrap_or_default();
        self.read += chunk.len() as u64;
        self.last = chunk.last().copied().or(self.last);
        self.hash.update(chunk);
        self.progress.inc(chunk.len() as u64);
        if self.read.saturating_sub(self.record_end.get()) > RECORD_MAX_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, TooLong));
        }
        Ok(n)
    }
}

/// The header: column names by position, trimmed and lower-cased.
#[derive(Debug, Clone)]
pub struct Header {
    pub line: u64,
    names: Vec<String>,
}

impl Header {
    pub fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// One data row whose fields are all UTF-8 and as many as the header's.
#[derive(Debug)]
pub struct Row<'a> {
    pub line: u64,
    rec: &'a ByteRecord,
}

impl<'a> Row<'a> {
    /// The field at `pos` (checked to be UTF-8 when the row was read).
    fn raw(&self, pos: usize) -> &'a str {
        self.rec.get(pos).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default()
    }

    /// The field at `pos` without surrounding whitespace (`A-1, EAST, 5`).
    pub fn get(&self, pos: usize) -> &'a str {
        self.raw(pos).trim()
    }
}

/// A pass over the data rows of a file.
pub struct Rows {
    rdr: csv::Reader<Guard<File>>,
    rec: ByteRecord,
    record_end: Rc<Cell<u64>>,
    /// The line after the last record read: where a runaway record starts.
    next_line: u64,
    /// The line the last record read starts on.
    line: u64,
    pub header: Header,
    rows: u64,
    /// The pass stopped at a problem that makes the rest unreadable.
    stopped: bool,
}

impl Rows {
    /// Opens `path` and reads its header. Problems with the header (not
    /// UTF-8, an unknown, empty or repeated name) go to `problems` and
    /// return `None`: the rows cannot be read without it. `expected`
    /// describes the header for messages.
    pub fn open(
        path: &Path,
        known: &[&str],
        expected: &str,
        progress: &ProgressBar,
        problems: &mut Problems,
    ) -> Result<Option<Self>, UploadError> {
        let record_end = Rc::new(Cell::new(0));
        let guard = Guard {
            inner: File::open(path)?,
            read: 0,
            record_end: record_end.clone(),
            last: None,
            hash: Sha256::new(),
            progress: progress.clone(),
        };
        // Records end at LF only: with the default (CR, LF or CRLF), the LF
        // of a CRLF would count as the next record's first line. The CR is
        // then part of the last field, and fields are trimmed.
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(guard);
        let empty = Header { line: 1, names: Vec::new() };
        let mut rows = Self {
            rdr,
            rec: ByteRecord::new(),
            record_end,
            next_line: 1,
            line: 1,
            header: empty,
            rows: 0,
            stopped: false,
        };
        if !rows.read_record(problems)? {
            if !rows.stopped {
                problems.push(LineError::new(
                    1,
                    "*",
                    format!("the file is empty; its first line must be the header {expected}"),
                ));
            }
            return Ok(None);
        }
        let line = rows.line();
        let mut names = Vec::with_capacity(rows.rec.len());
        let before = problems.total();
        for (i, raw) in rows.rec.iter().enumerate() {
            let position = (i + 1).to_string();
            let text = std::str::from_utf8(raw).ok().filter(|n| !n.chars().any(|c| c.is_control() && c != '\r'));
            let Some(name) = text else {
                problems.push(LineError::new(line, position, "the header is not UTF-8 text; is this a CSV file?"));
                return Ok(None);
            };
            let name = name.trim().to_lowercase();
            if name.is_empty() {
                problems.push(LineError::new(line, position, format!("the column has no name; expected {expected}")));
            } else if names.contains(&name) {
                problems.push(LineError::new(line, name.clone(), "the column appears twice in the header"));
            } else if !known.contains(&name.as_str()) {
                problems.push(LineError::new(line, name.clone(), format!("unknown column; expected {expected}")));
            }
            names.push(name);
        }
        if problems.total() > before {
            return Ok(None);
        }
        rows.header = Header { line, names };
        Ok(Some(rows))
    }

    /// The next data row. Rows with the wrong number of fields or a field
    /// that is not UTF-8 are reported to `problems` and skipped; `None` at
    /// the end, or when a record is too long to read on (also reported).
    pub fn next(&mut self, problems: &mut Problems) -> Result<Option<Row<'_>>, UploadError> {
        loop {
            if !self.read_record(problems)? {
                return Ok(None);
            }
            self.rows += 1;
            if self.check_record(problems) {
                return Ok(Some(Row { line: self.line(), rec: &self.rec }));
            }
        }
    }

    /// Data rows read so far (blank lines are not rows).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The SHA-256 of the whole file once every row was read; `None` if the
    /// pass stopped early.
    pub fn finish(self) -> Option<Digest> {
        (!self.stopped).then(|| self.rdr.into_inner().hash.finalize().into())
    }

    fn line(&self) -> u64 {
        self.line
    }

    /// Reads the next non-blank record; false at the end or on a runaway record.
    fn read_record(&mut self, problems: &mut Problems) -> Result<bool, UploadError> {
        loop {
            match self.rdr.read_byte_record(&mut self.rec) {
                Ok(false) => return Ok(false),
                Ok(true) => {
                    let (end, after) = (self.rdr.position().byte(), self.rdr.position().line());
                    self.record_end.set(end);
                    self.next_line = after;
                    // The csv crate dates a record from before the blank
                    // lines it skipped, so count back from its end instead:
                    // the lines after it, less its own newlines (quoted ones
                    // and the one ending it, which the file's last record
                    // may lack).
                    let guard = self.rdr.get_ref();
                    let unterminated = end == guard.read && guard.last != Some(b'\n');
                    let inner = self.rec.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
                    self.line = after.saturating_sub(inner + u64::from(!unterminated)).max(1);
                    let blank = self.rec.len() == 1 && self.rec.get(0).is_some_and(|f| f.trim_ascii().is_empty());
                    if !blank {
                        return Ok(true);
                    }
                }
                Err(e) => {
                    let line = self.next_line;
                    let csv::ErrorKind::Io(io) = e.into_kind() else {
                        return Err(UploadError::internal("the CSV reader failed unexpectedly"));
                    };
                    if io.get_ref().is_some_and(|inner| inner.is::<TooLong>()) {
                        self.stopped = true;
                        problems.push(LineError::new(
                            line,
                            "*",
                            format!(
                                "a line (or quoted field) runs on for more than {} MiB; is a quote left open, \
                                 or is this not a CSV file?",
                                RECORD_MAX_BYTES >> 20
                            ),
                        ));
                        return Ok(false);
                    }
                    return Err(io.into());
                }
            }
        }
    }

    /// True when the record has the header's width and is UTF-8; reports why not.
    fn check_record(&self, problems: &mut Problems) -> bool {
        let (line, width, have) = (self.line(), self.header.names.len(), self.rec.len());
        if have < width {
            let missing = &self.header.names[have..];
            problems.push(LineError::new(
                line,
                missing[0].clone(),
                format!("missing: the line has {have} field(s) but the header has {width}"),
            ));
            return false;
        }
        if have > width {
            problems.push(LineError::new(
                line,
                (width + 1).to_string(),
                format!("unexpected field: the line has {have} fields but the header has {width}"),
            ));
            return false;
        }
        let mut ok = true;
        for (i, field) in self.rec.iter().enumerate() {
            if std::str::from_utf8(field).is_err() {
                problems.push(LineError::new(line, self.header.names[i].clone(), "is not UTF-8 text"));
                ok = false;
            }
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(line, fields)` of every data row of `text`, and the problems.
    fn read(text: &[u8]) -> (Vec<(u64, Vec<String>)>, Vec<String>) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, text).unwrap();
        let mut problems = Problems::default();
        let mut out = Vec::new();
        if let Some(mut rows) =
            Rows::open(file.path(), &["a", "b"], "a,b", &ProgressBar::hidden(), &mut problems).unwrap()
        {
            while let Some(row) = rows.next(&mut problems).unwrap() {
                out.push((row.line, (0..2).map(|i| row.get(i).to_owned()).collect()));
            }
        }
        (out, problems.listed().iter().map(ToString::to_string).collect())
    }

    fn lines(text: &[u8]) -> Vec<u64> {
        read(text).0.into_iter().map(|(l, _)| l).collect()
    }

    #[test]
    fn line_numbers_are_physical_lines() {
        assert_eq!(lines(b"a,b\n\n\n1,2\n\n3,4"), [4, 6], "blank lines count; the last line may lack its LF");
        assert_eq!(
            lines(b"\n\na,b\r\n\r\n\"x\ny\",2\r\n3,4\r\n"),
            [5, 7],
            "CRLF, and a quoted newline spans two lines"
        );
        assert_eq!(lines(b"a,b\n1,\"x\n\ny\""), [2], "the last record holds two newlines and no LF");
        assert_eq!(lines(b"\xef\xbb\xbfa,b\n1,2\n"), [2]);
        assert_eq!(lines(b"a,b\n  \n\t\n1,2\n"), [4], "lines of only whitespace are blank");
    }

    #[test]
    fn fields_are_unquoted_and_trimmed() {
        let (rows, problems) = read(b"A , B\r\n\"x, \"\"y\"\"\" , 2 \r\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows, [(2, vec!["x, \"y\"".to_owned(), "2".to_owned()])]);
    }

    #[test]
    fn wrong_widths_and_bad_bytes_are_reported_per_line() {
        let (rows, problems) = read(b"a,b\n1\n1,2,3\n\xff,2\n4,5\n");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            problems,
            [
                "line 2, column b: missing: the line has 1 field(s) but the header has 2",
                "line 3, column 3: unexpected field: the line has 3 fields but the header has 2",
                "line 4, column a: is not UTF-8 text",
            ]
        );
    }
}
