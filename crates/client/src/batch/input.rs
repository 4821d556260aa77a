//! Reading a batch file, one row at a time: CSV with a header row, or JSON
//! Lines. Column (or key) names are the pay fields, in wire spelling
//! (`customerNo`) or snake_case (`customer_no`). Every row is checked by
//! the same rules as a single pay ([`crate::Client::pay`]) before anything
//! is sent.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use pockyt_payouts_core::naming::camel_case;
use pockyt_payouts_core::operation::Operation;
use pockyt_payouts_core::types::PayParams;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::error::{BatchError, RowError};
use crate::json::from_json;
use crate::operations::prepared;

/// The longest row read, in bytes; a longer one is refused (`INVALID_ROW`).
pub const MAX_ROW_BYTES: usize = 64 * 1024;

/// How a batch file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// Comma-separated values with a header row naming the columns.
    Csv,
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    JsonLines,
}

impl InputFormat {
    /// The format a file's name says: `.jsonl` and `.ndjson` are JSON
    /// Lines, anything else CSV.
    ///
    /// ```
    /// use pockyt_payouts::batch::InputFormat;
    /// assert_eq!(InputFormat::from_path("may.jsonl".as_ref()), InputFormat::JsonLines);
    /// assert_eq!(InputFormat::from_path("may.csv".as_ref()), InputFormat::Csv);
    /// ```
    pub fn from_path(path: &Path) -> InputFormat {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(ext) if ext == "jsonl" || ext == "ndjson" => InputFormat::JsonLines,
            _ => InputFormat::Csv,
        }
    }
}

impl std::str::FromStr for InputFormat {
    type Err = crate::Error;

    /// A format by name: `csv`, or `jsonl` (also `ndjson`). Any other name
    /// is `INVALID_CONFIG` (field `format`).
    ///
    /// ```
    /// use pockyt_payouts::batch::InputFormat;
    /// assert_eq!("jsonl".parse::<InputFormat>().unwrap(), InputFormat::JsonLines);
    /// assert_eq!("xlsx".parse::<InputFormat>().unwrap_err().code().as_str(), "INVALID_CONFIG");
    /// ```
    fn from_str(name: &str) -> Result<InputFormat, crate::Error> {
        match name {
            "csv" => Ok(InputFormat::Csv),
            "jsonl" | "ndjson" => Ok(InputFormat::JsonLines),
            _ => Err(crate::Error::invalid_config(
                "format",
                "must be \"csv\" or \"jsonl\"",
            )),
        }
    }
}

/// One row of the file, checked: its line and the pay it asks for.
pub(crate) struct CheckedRow {
    pub row: u64,
    pub params: PayParams,
}

/// The SHA-256 of a file, hex: the identity of a batch in the journal.
pub(crate) fn digest(path: &Path) -> Result<String, BatchError> {
    let shown = path.display().to_string();
    let mut file = File::open(path)
        .map_err(|e| BatchError::input(&shown, None, "file", format!("cannot be opened: {e}")))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| BatchError::input(&shown, None, "file", format!("cannot be read: {e}")))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex_lower(&hasher.finalize()))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The wire name of a column: `customer_no` and `customerNo` are both
/// `customerNo`.
fn wire_name(column: &str) -> String {
    camel_case(column.trim())
}

/// A batch file opened for reading, row by row.
pub(crate) struct Rows {
    path: String,
    source: Source,
}

/// The CSV reader's own buffer, in bytes.
const CSV_BUFFER: usize = 8 * 1024;
/// How far past the end of the last whole record the CSV file is read
/// before it is refused: a row up to this long is read, then refused on
/// its own (`INVALID_ROW`, longer than [`MAX_ROW_BYTES`]); a longer one
/// (an unclosed quote, most likely) refuses the file at that row's line.
const MAX_RECORD_READ: u64 = 1024 * 1024;

/// A CSV file that refuses to be read further than [`MAX_RECORD_READ`]
/// past the end of the last whole record: an unclosed quote would
/// otherwise have the reader hold the rest of the file as one record.
struct BoundedRows {
    file: File,
    /// Bytes handed to the reader so far.
    read: u64,
    /// Where the last whole record (or the header) ended.
    record_end: u64,
}

impl Read for BoundedRows {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let limit = self.record_end + MAX_RECORD_READ;
        if self.read >= limit {
            // A file that ends right here is not too long.
            let mut probe = [0u8; 1];
            if self.file.read(&mut probe)? == 0 {
                return Ok(0);
            }
            return Err(std::io::Error::other(format!(
                "a row runs past {MAX_RECORD_READ} bytes (an unclosed quote?)"
            )));
        }
        let room = usize::try_from(limit - self.read).unwrap_or(usize::MAX);
        let len = buf.len().min(room);
        let n = self.file.read(&mut buf[..len])?;
        self.read += n as u64;
        Ok(n)
    }
}

enum Source {
    Csv {
        reader: csv::Reader<BoundedRows>,
        columns: Vec<String>,
        record: csv::StringRecord,
        /// Records read, the header included: the spreadsheet row of the
        /// last one (whatever its line endings or quoted line breaks).
        rows: u64,
    },
    JsonLines {
        reader: BufReader<File>,
        line: u64,
        buf: Vec<u8>,
    },
}

impl Rows {
    /// Opens `path` and, for CSV, reads and checks its header: every column
    /// must be a pay field, none repeated, the required ones present.
    pub fn open(path: &Path, format: InputFormat) -> Result<Rows, BatchError> {
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|e| {
            BatchError::input(&shown, None, "file", format!("cannot be opened: {e}"))
        })?;
        let source = match format {
            InputFormat::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .buffer_capacity(CSV_BUFFER)
                    .from_reader(BoundedRows {
                        file,
                        read: 0,
                        record_end: 0,
                    });
                let header = reader
                    .headers()
                    .map_err(|e| {
                        BatchError::input(&shown, Some(1), "header", format!("cannot be read: {e}"))
                    })?
                    .clone();
                let columns = check_header(&shown, header.iter())?;
                reader.get_mut().record_end = reader.position().byte();
                Source::Csv {
                    reader,
                    columns,
                    record: csv::StringRecord::new(),
                    rows: 1,
                }
            }
            InputFormat::JsonLines => Source::JsonLines {
                reader: BufReader::new(file),
                line: 0,
                buf: Vec::new(),
            },
        };
        Ok(Rows {
            path: shown,
            source,
        })
    }

    /// The next row, checked; `None` at the end of the file. A row that
    /// breaks a rule is `Ok(Some(Err(..)))`; a file that cannot be read
    /// further is `Err`.
    pub fn next_row(&mut self) -> Result<Option<Result<CheckedRow, RowError>>, BatchError> {
        match &mut self.source {
            Source::Csv {
                reader,
                columns,
                record,
                rows,
            } => {
                let line = reader.position().line();
                let read = reader.read_record(record);
                reader.get_mut().record_end = reader.position().byte();
                match read {
                    Ok(false) => Ok(None),
                    Ok(true) => {
                        *rows += 1;
                        Ok(Some(csv_row(*rows, columns, record)))
                    }
                    Err(error) => match error.kind() {
                        csv::ErrorKind::Utf8 { .. } => {
                            *rows += 1;
                            Ok(Some(Err(RowError::new(
                                *rows,
                                "row",
                                "is not valid UTF-8",
                                "INVALID_ROW",
                            ))))
                        }
                        _ => Err(BatchError::input(
                            &self.path,
                            Some(line),
                            "file",
                            format!("cannot be read as CSV: {error}"),
                        )),
                    },
                }
            }
            Source::JsonLines { reader, line, buf } => loop {
                buf.clear();
                let n = reader
                    .by_ref()
                    .take(MAX_ROW_BYTES as u64 + 1)
                    .read_until(b'\n', buf)
                    .map_err(|e| {
                        BatchError::input(
                            &self.path,
                            Some(*line + 1),
                            "file",
                            format!("cannot be read: {e}"),
                        )
                    })?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                let row = *line;
                if buf.len() > MAX_ROW_BYTES && !buf.ends_with(b"\n") {
                    // Skip the rest of the line, then refuse it.
                    let mut rest = Vec::new();
                    loop {
                        rest.clear();
                        let m = reader
                            .by_ref()
                            .take(MAX_ROW_BYTES as u64)
                            .read_until(b'\n', &mut rest)
                            .map_err(|e| {
                                BatchError::input(
                                    &self.path,
                                    Some(row),
                                    "file",
                                    format!("cannot be read: {e}"),
                                )
                            })?;
                        if m == 0 || rest.ends_with(b"\n") {
                            break;
                        }
                    }
                    return Ok(Some(Err(RowError::new(
                        row,
                        "row",
                        format!("is longer than {MAX_ROW_BYTES} bytes"),
                        "INVALID_ROW",
                    ))));
                }
                let text = match std::str::from_utf8(buf) {
                    // A byte-order mark may open the file.
                    Ok(text) if row == 1 => text.trim_start_matches('\u{feff}').trim(),
                    Ok(text) => text.trim(),
                    Err(_) => {
                        return Ok(Some(Err(RowError::new(
                            row,
                            "row",
                            "is not valid UTF-8",
                            "INVALID_ROW",
                        ))))
                    }
                };
                if text.is_empty() {
                    continue;
                }
                return Ok(Some(json_row(row, text)));
            },
        }
    }
}

/// The header's columns in wire spelling, each a pay field, none twice,
/// every required field present.
fn check_header<'a>(
    path: &str,
    header: impl Iterator<Item = &'a str>,
) -> Result<Vec<String>, BatchError> {
    let known = Operation::Pay.params();
    let mut columns: Vec<String> = Vec::new();
    for column in header {
        let wire = wire_name(column.trim_start_matches('\u{feff}'));
        if !known.contains(&wire.as_str()) {
            return Err(BatchError::input(
                path,
                Some(1),
                column,
                format!("is not a pay field (the fields are: {})", known.join(", ")),
            ));
        }
        if columns.contains(&wire) {
            return Err(BatchError::input(path, Some(1), column, "is named twice"));
        }
        columns.push(wire);
    }
    if let Some(missing) = Operation::Pay
        .required_params()
        .iter()
        .find(|name| !columns.iter().any(|c| c == *name))
    {
        return Err(BatchError::input(
            path,
            Some(1),
            missing,
            "is a required column",
        ));
    }
    Ok(columns)
}

fn csv_row(
    row: u64,
    columns: &[String],
    record: &csv::StringRecord,
) -> Result<CheckedRow, RowError> {
    if record.as_slice().len() > MAX_ROW_BYTES {
        return Err(RowError::new(
            row,
            "row",
            format!("is longer than {MAX_ROW_BYTES} bytes"),
            "INVALID_ROW",
        ));
    }
    if record.len() != columns.len() {
        return Err(RowError::new(
            row,
            "row",
            format!("has {} fields, the header {}", record.len(), columns.len()),
            "INVALID_ROW",
        ));
    }
    let mut fields = Map::new();
    for (name, value) in columns.iter().zip(record.iter()) {
        // An empty cell is an absent field.
        if !value.trim().is_empty() {
            fields.insert(name.clone(), Value::String(value.to_owned()));
        }
    }
    checked(row, fields)
}

fn json_row(row: u64, text: &str) -> Result<CheckedRow, RowError> {
    let object = match serde_json::from_str::<UniqueObject>(text) {
        Ok(UniqueObject(object)) => object,
        Err(error) => {
            let message = error.to_string();
            return Err(match message.strip_prefix(REPEATED) {
                // serde_json adds " at line L column C".
                Some(rest) => {
                    let name = rest.rsplit_once(" at line ").map_or(rest, |(name, _)| name);
                    RowError::new(row, name, "is named twice", "INVALID_ROW")
                }
                None => RowError::new(row, "row", "is not a JSON object", "INVALID_ROW"),
            });
        }
    };
    let mut fields = Map::new();
    for (name, value) in object {
        let wire = wire_name(&name);
        if fields.contains_key(&wire) {
            return Err(RowError::new(row, &wire, "is named twice", "INVALID_ROW"));
        }
        fields.insert(wire, value);
    }
    checked(row, fields)
}

/// The start of the error a repeated key gives (then the key).
const REPEATED: &str = "repeated key: ";

/// A JSON object whose keys are all different: a repeated key (which
/// `serde_json::Value` would silently resolve to its last value) is an
/// error, since the row is ambiguous.
struct UniqueObject(Map<String, Value>);

impl<'de> serde::Deserialize<'de> for UniqueObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UniqueObject, A::Error> {
                let mut object = Map::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    if object.contains_key(&name) {
                        return Err(serde::de::Error::custom(format!("{REPEATED}{name}")));
                    }
                    object.insert(name, value);
                }
                Ok(UniqueObject(object))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// A row's fields checked by the SDK's pay rules (the same as a single pay).
fn checked(row: u64, fields: Map<String, Value>) -> Result<CheckedRow, RowError> {
    let invoice_id = fields
        .get("invoiceId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    from_json::<PayParams>(Value::Object(fields))
        .and_then(prepared::<PayParams>)
        .map(|params| CheckedRow { row, params })
        .map_err(|e| RowError::from_error(row, &e).with_invoice_id(invoice_id.as_deref()))
}
