//! A batch report as text: rows per state, totals per currency, the
//! refused rows, and what to do next.

use std::path::Path;

use pockyt_payouts::batch::{BatchReport, RowState};

use crate::exit_code;
use crate::output::{say, Output};

/// Prints `report` (text, or JSON with `--json`) and answers the exit
/// code it calls for: 0 when every row ended well, 1 otherwise.
pub(crate) fn print(out: &Output, report: &BatchReport, journal: &Path) -> i32 {
    if out.json {
        out.json_line(report);
    } else {
        say(&text(report, journal));
    }
    if report.is_success() {
        exit_code::SUCCESS
    } else {
        exit_code::PROBLEMS
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The report as text.
pub(crate) fn text(report: &BatchReport, journal: &Path) -> String {
    let mut lines = Vec::new();
    if report.dry_run {
        lines.push("dry run: nothing was sent, no money moved".to_owned());
    }
    match &report.batch {
        Some(batch) => lines.push(format!(
            "batch {} of {} (journal {}, planned {})",
            batch.id,
            report.source,
            journal.display(),
            batch.created_at
        )),
        None => lines.push(format!("{} (not journaled: dry run)", report.source)),
    }
    lines.push(format!(
        "rows: {} to pay, {} refused before sending",
        report.rows, report.invalid
    ));
    for (state, count) in &report.states {
        if *count > 0 {
            lines.push(format!("  {:<9} {count}", state.as_str()));
        }
    }
    if !report.totals.is_empty() {
        lines.push("totals:".to_owned());
        for (currency, by_state) in &report.totals {
            for (state, total) in by_state {
                lines.push(format!(
                    "  {currency} {:<9} {:>14}  ({})",
                    state.as_str(),
                    total.amount,
                    plural(total.rows, "row", "rows")
                ));
            }
        }
    }
    if !report.invalid_rows.is_empty() {
        lines.push("refused rows:".to_owned());
        for row in &report.invalid_rows {
            lines.push(format!("  {row}"));
        }
        let listed = report.invalid_rows.len() as u64;
        if report.invalid > listed {
            lines.push(format!("  … and {} more", report.invalid - listed));
        }
    }
    lines.push(verdict(report));
    lines.join("\n")
}

fn verdict(report: &BatchReport) -> String {
    if report.dry_run {
        return if report.is_success() {
            "result: every row is valid".to_owned()
        } else {
            "result: some rows are invalid (see above)".to_owned()
        };
    }
    if report.is_success() {
        let pending = report.count(RowState::Pending);
        return if pending > 0 {
            format!(
                "result: every row was taken; {} pending (`pockyt-payouts batch status` follows them up)",
                plural(pending, "payout", "payouts")
            )
        } else {
            "result: every row was paid".to_owned()
        };
    }
    let problems: u64 = report
        .states
        .iter()
        .filter(|(state, _)| state.is_problem())
        .map(|(_, count)| count)
        .sum::<u64>()
        + report.invalid;
    format!(
        "result: {} attention (`pockyt-payouts batch report --format csv` lists every row)",
        plural(problems, "row needs", "rows need")
    )
}
