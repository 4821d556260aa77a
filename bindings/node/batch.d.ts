// Types of pockyt-payouts/batch: resumable batch payouts from a CSV or JSON Lines file.
import type { Client, PayoutEvent } from './index'
import { PockytError } from './index'

/** Where a row of a batch stands. */
export type RowState = 'planned' | 'sending' | 'pending' | 'success' | 'failed' | 'returned' | 'refused' | 'unknown'

/** Every row state, in lifecycle order. */
export declare const ROW_STATES: readonly RowState[]

/** The codes of BatchError. */
export type BatchErrorCode =
  | 'BATCH_INPUT'
  | 'BATCH_INVALID_ROWS'
  | 'BATCH_INSUFFICIENT_FUNDS'
  | 'BATCH_IN_PROGRESS'
  | 'BATCH_NOT_FOUND'
  | 'BATCH_JOURNAL'
  | 'BATCH_OTHER_MERCHANT'

/** How far a batch is, as `onProgress` is told. */
export interface BatchProgress {
  /** 'checking' (reading and checking rows), 'paying' (paying, and settling rows a crash left in flight) or 'following' (following pending rows up). */
  phase: 'checking' | 'paying' | 'following'
  /** How many rows this phase has to handle (0 while checking). */
  total: number
  /** How many it has handled. */
  done: number
  /** Of those, how many ended pending or success. */
  paid: number
  /** Of those, how many ended otherwise. */
  problems: number
}

/** Options of `new Batch(client, options)`; unset ones take the Rust core's defaults. */
export interface BatchOptions {
  /** The journal's path (SQLite, created if missing). Unset: each file's own, `<file>.journal` beside it. */
  journal?: string | URL | null
  /** Pays in flight at once, 1 to 256. Default 8. */
  concurrency?: number
  /** At most this many pays started per second. Default: no limit. */
  rate?: number
  /** Check, journal and report, but send nothing: no money moves (the funds check still reads the balance). */
  dryRun?: boolean
  /** Run the valid rows and report the refused ones, instead of refusing the whole file. */
  skipInvalid?: boolean
  /** Start even when the balance does not cover the rows. */
  skipFundsCheck?: boolean
  /** How the file is written. Default: by its name (`.jsonl` and `.ndjson` are JSON Lines, anything else CSV). */
  format?: 'csv' | 'jsonl'
  /** status(): rounds of inquiries at most. Default 5. */
  statusRounds?: number
  /** status(): the wait after the first round that leaves rows pending, in ms, doubled each round up to 30000. Default 1000. */
  statusBackoffMs?: number
  /** Called on the event loop as rows are checked, paid and followed up. An exception it throws stops the batch and is what the call rejects with. */
  onProgress?: ((progress: BatchProgress) => void) | null
}

/** Options of writeReport(). */
export interface WriteReportOptions {
  /** The batch's file. Default: the journal's latest batch. */
  file?: string | URL | null
  /** 'csv' (the default: a header row, then one row per payout and per refused row) or 'json' (`{ summary, rows }`). */
  format?: 'csv' | 'json'
}

/** One row that cannot be paid. */
export interface RowError {
  /** The row's line in the file, from 1 (in a CSV file the header is row 1, the first payout row 2). */
  row: number
  /** The row's invoiceId, when it has one. */
  invoiceId: string | null
  /** The field at fault (camelCase, e.g. 'amount'), or 'row' when the row as a whole cannot be read. */
  field: string
  /** The rule it broke, in words. */
  rule: string
  /** 'INVALID_REQUEST' (the pay rules), 'DUPLICATE_INVOICE_ID' (already in the file or the journal) or 'INVALID_ROW' (unreadable). */
  code: 'INVALID_REQUEST' | 'DUPLICATE_INVOICE_ID' | 'INVALID_ROW' | (string & {})
}

/** A currency whose balance does not cover the rows still to pay. */
export interface Shortfall {
  /** The currency. */
  currency: string
  /** What the rows still to pay add up to, with two fraction digits. */
  needed: string
  /** The balance available, with two fraction digits. */
  available: string
}

/** A batch in a journal: the file it was read from. */
export interface BatchInfo {
  /** The journal's number for it. */
  id: number
  /** The SHA-256 of the file (hex): running the same file again resumes this batch. */
  digest: string
  /** The file's path when it was planned. */
  source: string
  /** When it was planned (UTC, RFC 3339). */
  createdAt: string
  /** How many rows were journaled to pay. */
  rows: number
  /** How many rows were refused (kept with skipInvalid). */
  invalid: number
}

/** Rows and their amounts added. */
export interface Total {
  /** How many rows. */
  rows: number
  /** Their amounts added, with two fraction digits. */
  amount: string
}

/** What a batch came to. `paid` and `success` are the Rust core's. */
export declare class BatchReport {
  /** The batch (null for a dry run of a file the journal did not hold: nothing was kept). */
  readonly batch: BatchInfo | null
  /** The file. */
  readonly source: string
  /** Whether nothing was sent. */
  readonly dryRun: boolean
  /** Rows to pay (journaled). */
  readonly rows: number
  /** Rows refused before anything was sent. */
  readonly invalid: number
  /** Rows per state (every state, 0 included). */
  readonly states: Record<RowState, number>
  /** Per currency, per state: how many rows and their amounts added. */
  readonly totals: Record<string, Partial<Record<RowState, Total>>>
  /** The first refused rows (100 at most). */
  readonly invalidRows: RowError[]
  /** How many rows the API took (pending or success). */
  readonly paid: number
  /** See isSuccess(). */
  readonly success: boolean
  /** Whether every row ended well: none refused before sending, and every journaled row pending or success (for a dry run: no row refused). */
  isSuccess(): boolean
  /** How many rows are in `state`. */
  count(state: RowState): number
}

/**
 * A batch that cannot run, or go on. A call the batch made that failed
 * (the balance, say) rejects with that call's own error instead.
 */
export declare class BatchError extends PockytError {
  /** BATCH_INPUT, BATCH_INVALID_ROWS, BATCH_INSUFFICIENT_FUNDS, BATCH_IN_PROGRESS, BATCH_NOT_FOUND, BATCH_JOURNAL or BATCH_OTHER_MERCHANT. */
  readonly code: BatchErrorCode | (string & {})
  /** The refused rows (BATCH_INVALID_ROWS; empty otherwise). */
  readonly rows: RowError[]
  /** How many rows were refused (BATCH_INVALID_ROWS). */
  readonly count?: number
  /** Each currency short (BATCH_INSUFFICIENT_FUNDS; empty otherwise). */
  readonly shortfalls: Shortfall[]
  /** The file (BATCH_INPUT). */
  readonly path?: string
  /** The line at fault, when there is one (BATCH_INPUT). */
  readonly line?: number
  /** The column or field at fault (BATCH_INPUT). */
  readonly field?: string
  /** The rule broken (BATCH_INPUT). */
  readonly rule?: string
  /** The journal another run holds (BATCH_IN_PROGRESS), or that holds another merchant's payouts (BATCH_OTHER_MERCHANT). */
  readonly journal?: string
}

/**
 * Batch payouts through a Client: every row checked by the pay rules
 * before any money moves, journaled before it is sent, resumed (never
 * paid twice) when the same file runs again.
 */
export declare class Batch {
  /** Throws ConfigurationError (INVALID_CONFIG) naming an unknown option or one of the wrong type; ranges are checked when a batch runs. */
  constructor(client: Client, options?: BatchOptions)
  /** The journal given, or null: each file's defaultJournalPath(file). */
  readonly journal: string | null
  /** Runs the batch of `file` (or resumes it) and resolves to its report; rejects with BatchError for the batch as a whole. */
  run(file: string | URL): Promise<BatchReport>
  /** Follows the batch of `file` (the journal's latest when omitted) up until no row is pending; sends no pay. */
  status(file?: string | URL | null): Promise<BatchReport>
  /** The report of the batch of `file` (the journal's latest when omitted), from the journal alone. */
  report(file?: string | URL | null): Promise<BatchReport>
  /** Writes every row of the batch to the file at `path`, as CSV (the default) or JSON. */
  writeReport(path: string | URL, options?: WriteReportOptions): Promise<void>
  /** Records a verified IPN (constructEvent's event) in the journal; resolves to whether a row changed. Needs a journal. */
  applyEvent(event: PayoutEvent): Promise<boolean>
}

/** The journal a file's batch uses when none is named: `<file>.journal` beside it. */
export declare function defaultJournalPath(file: string | URL): string
