//! What a batch refuses, with stable codes: a row that cannot be paid
//! ([`RowError`]) and a batch that cannot run ([`BatchError`]).

use std::fmt;

use crate::error::Error;

/// How many refused rows a [`BatchError::InvalidRows`] carries (the
/// journal keeps every one of them when `skip_invalid` is set).
pub const MAX_LISTED_ROW_ERRORS: usize = 100;

/// One row that cannot be paid: its row number, the field at fault and
/// the rule it broke.
///
/// `row` is the row's line in the file, counted from 1: in a CSV file the
/// header is row 1 and the first payout row 2 (what a spreadsheet shows);
/// in a JSON Lines file, the line number.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The row's line in the file, from 1.
    pub row: u64,
    /// The row's invoiceId, when it has one.
    #[serde(rename = "invoiceId")]
    pub invoice_id: Option<String>,
    /// The field at fault (wire spelling, e.g. `amount`), or `row` when
    /// the row as a whole cannot be read.
    pub field: String,
    /// The rule it broke, in words.
    pub rule: String,
    /// A stable code: `INVALID_REQUEST` (the SDK's input rules, as for a
    /// single pay), `DUPLICATE_INVOICE_ID` (the invoiceId is already used
    /// in this file or in the journal), or `INVALID_ROW` (the row cannot
    /// be read).
    pub code: String,
}

impl RowError {
    /// A refusal of `field` in `row`.
    pub(crate) fn new(row: u64, field: &str, rule: impl Into<String>, code: &str) -> Self {
        RowError {
            row,
            invoice_id: None,
            field: field.to_owned(),
            rule: rule.into(),
            code: code.to_owned(),
        }
    }

    /// The SDK's own refusal of a row's pay fields.
    pub(crate) fn from_error(row: u64, error: &Error) -> Self {
        let (field, rule) = match error {
            Error::InvalidRequest { field, rule } => (field.clone(), rule.clone()),
            other => ("row".to_owned(), other.to_string()),
        };
        RowError {
            row,
            invoice_id: None,
            field,
            rule,
            code: error.code().as_str().to_owned(),
        }
    }

    /// This refusal, naming the row's invoiceId.
    pub(crate) fn with_invoice_id(mut self, invoice_id: Option<&str>) -> Self {
        self.invoice_id = invoice_id.map(str::to_owned);
        self
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {}: {} {} ({})",
            self.row, self.field, self.rule, self.code
        )
    }
}

/// One currency the balance cannot cover.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Shortfall {
    /// The currency.
    pub currency: String,
    /// What the rows still to pay add up to, with two fraction digits.
    pub needed: String,
    /// The balance available, with two fraction digits.
    pub available: String,
}

/// Why a batch cannot run (or go on), with a stable [`code`](Self::code).
#[derive(Debug)]
#[non_exhaustive]
pub enum BatchError {
    /// `BATCH_INPUT`: the file cannot be read as a batch (missing, not
    /// CSV / JSON Lines, a header naming no pay field, a required column
    /// missing).
    Input {
        /// The file.
        path: String,
        /// The line at fault, when there is one.
        line: Option<u64>,
        /// The column or field at fault (`file` for the file itself).
        field: String,
        /// The rule it broke.
        rule: String,
    },
    /// `BATCH_INVALID_ROWS`: rows were refused and `skip_invalid` is off;
    /// nothing was journaled, nothing sent.
    InvalidRows {
        /// How many rows were refused.
        count: u64,
        /// The first of them ([`MAX_LISTED_ROW_ERRORS`] at most).
        rows: Vec<RowError>,
    },
    /// `BATCH_INSUFFICIENT_FUNDS`: the balance of some currency does not
    /// cover the rows still to pay; nothing was sent.
    InsufficientFunds {
        /// Each currency short.
        shortfalls: Vec<Shortfall>,
    },
    /// `BATCH_IN_PROGRESS`: another process is running a batch on this
    /// journal.
    InProgress {
        /// The journal.
        journal: String,
    },
    /// `BATCH_NOT_FOUND`: the journal holds no batch for this file (or no
    /// batch at all).
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// `BATCH_JOURNAL`: the journal could not be read or written; the
    /// run stopped (a rerun resumes it).
    Journal {
        /// What failed.
        message: String,
    },
    /// `BATCH_OTHER_MERCHANT`: the journal holds the payouts of another
    /// merchant (or store) than the client's. Its rows' invoiceIds and
    /// idempotency keys mean nothing to this merchant's account: an
    /// inquiry there finds none of them, and a row left `sending` would
    /// be paid a second time, from the wrong account. Nothing was sent.
    OtherMerchant {
        /// The journal.
        journal: String,
        /// The journal's merchant and store, as `merchant M, store S`.
        recorded: String,
        /// The client's, the same way.
        given: String,
    },
    /// A call the batch needed (the balance, say) failed: the client's
    /// error, with its own code.
    Client(Error),
}

impl BatchError {
    /// The stable code: `BATCH_INPUT`, `BATCH_INVALID_ROWS`,
    /// `BATCH_INSUFFICIENT_FUNDS`, `BATCH_IN_PROGRESS`, `BATCH_NOT_FOUND`,
    /// `BATCH_JOURNAL`, `BATCH_OTHER_MERCHANT`, or the client error's code.
    pub fn code(&self) -> String {
        match self {
            BatchError::Input { .. } => "BATCH_INPUT".into(),
            BatchError::InvalidRows { .. } => "BATCH_INVALID_ROWS".into(),
            BatchError::InsufficientFunds { .. } => "BATCH_INSUFFICIENT_FUNDS".into(),
            BatchError::InProgress { .. } => "BATCH_IN_PROGRESS".into(),
            BatchError::NotFound { .. } => "BATCH_NOT_FOUND".into(),
            BatchError::Journal { .. } => "BATCH_JOURNAL".into(),
            BatchError::OtherMerchant { .. } => "BATCH_OTHER_MERCHANT".into(),
            BatchError::Client(error) => error.code().as_str().to_owned(),
        }
    }

    /// The error's details by name, for the bindings and the CLI's
    /// `--json`: `path`, `line`, `field`, `rule` (`BATCH_INPUT`); `count`,
    /// `rows` (`BATCH_INVALID_ROWS`); `shortfalls`
    /// (`BATCH_INSUFFICIENT_FUNDS`); `journal` (`BATCH_IN_PROGRESS`,
    /// `BATCH_OTHER_MERCHANT`); an empty object otherwise.
    pub fn details(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            BatchError::Input {
                path,
                line,
                field,
                rule,
            } => json!({ "path": path, "line": line, "field": field, "rule": rule }),
            BatchError::InvalidRows { count, rows } => json!({ "count": count, "rows": rows }),
            BatchError::InsufficientFunds { shortfalls } => json!({ "shortfalls": shortfalls }),
            BatchError::InProgress { journal } | BatchError::OtherMerchant { journal, .. } => {
                json!({ "journal": journal })
            }
            _ => json!({}),
        }
    }

    /// A journal failure.
    pub(crate) fn journal(what: &str, error: impl fmt::Display) -> Self {
        BatchError::Journal {
            message: format!("{what}: {error}"),
        }
    }

    /// An input refusal.
    pub(crate) fn input(
        path: &str,
        line: Option<u64>,
        field: &str,
        rule: impl Into<String>,
    ) -> Self {
        BatchError::Input {
            path: path.to_owned(),
            line,
            field: field.to_owned(),
            rule: rule.into(),
        }
    }
}

impl BatchError {
    /// What went wrong, in words, without the code (the `Display` is
    /// `CODE: message`).
    pub fn message(&self) -> String {
        Message(self).to_string()
    }
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), Message(self))
    }
}

/// A [`BatchError`]'s words, without its code.
struct Message<'a>(&'a BatchError);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            BatchError::Input {
                path,
                line,
                field,
                rule,
            } => match line {
                Some(line) => write!(f, "{path}, line {line}: {field} {rule}"),
                None => write!(f, "{path}: {field} {rule}"),
            },
            BatchError::InvalidRows { count, rows } => {
                write!(f, "{count} row(s) cannot be paid; nothing was sent")?;
                for row in rows {
                    write!(f, "\n  {row}")?;
                }
                if *count > rows.len() as u64 {
                    write!(f, "\n  … and {} more", *count - rows.len() as u64)?;
                }
                Ok(())
            }
            BatchError::InsufficientFunds { shortfalls } => {
                write!(f, "the balance does not cover the batch; nothing was sent")?;
                for s in shortfalls {
                    write!(
                        f,
                        "\n  {}: needs {}, available {}",
                        s.currency, s.needed, s.available
                    )?;
                }
                Ok(())
            }
            BatchError::InProgress { journal } => {
                write!(
                    f,
                    "another process is running a batch on the journal {journal}"
                )
            }
            BatchError::OtherMerchant {
                journal,
                recorded,
                given,
            } => write!(
                f,
                "the journal {journal} holds the payouts of {recorded}, not of this client's \
                 {given}; nothing was sent (run it with that merchant's credentials, or give \
                 this merchant's batches a journal of their own)"
            ),
            BatchError::NotFound { what } => write!(f, "{what}"),
            BatchError::Journal { message } => write!(f, "{message}"),
            BatchError::Client(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for BatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BatchError::Client(error) => Some(error),
            _ => None,
        }
    }
}

impl From<Error> for BatchError {
    fn from(error: Error) -> Self {
        BatchError::Client(error)
    }
}
