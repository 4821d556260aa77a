'use strict'

/**
 * pockyt-payouts/batch: pay every row of a CSV or JSON Lines file,
 * journaled so that running the same file again continues where the last
 * run stopped and never pays a row twice.
 *
 * The engine is the SDK's Rust core (`pockyt_payouts::batch`), run on the
 * addon's runtime (the event loop never waits); this module only carries
 * its calls across, types its answers and turns its errors into
 * `BatchError` (or the client's own Error classes).
 */

const { fileURLToPath } = require('node:url')
const native = require('./native.js')
const { nativeClientOf } = require('./calls.js')
const { PockytError, ConfigurationError, fromNative } = require('./errors.js')

/** Where a row of a batch stands, in lifecycle order. */
const ROW_STATES = Object.freeze(['planned', 'sending', 'pending', 'success', 'failed', 'returned', 'refused', 'unknown'])

/** The progress phase the addon sends last (see NativeBatch.run); never shown. */
const END_PHASE = 'end'

/**
 * A batch that cannot run, or go on: `code` is BATCH_INPUT (the file:
 * `path`, `line`, `field`, `rule`), BATCH_INVALID_ROWS (`rows`, the first
 * 100 of `count`; nothing was sent), BATCH_INSUFFICIENT_FUNDS
 * (`shortfalls`; nothing was sent), BATCH_IN_PROGRESS (`journal`),
 * BATCH_NOT_FOUND, BATCH_JOURNAL or BATCH_OTHER_MERCHANT (the `journal`
 * holds another merchant's or store's payouts; nothing was sent). A call
 * the batch made that failed (the balance, say) rejects with that call's
 * own error instead.
 */
class BatchError extends PockytError {
  constructor(message, details = {}) {
    super(message, details)
    /** The refused rows (BATCH_INVALID_ROWS; empty otherwise). */
    this.rows = details.rows ?? []
    /** Each currency short (BATCH_INSUFFICIENT_FUNDS; empty otherwise). */
    this.shortfalls = details.shortfalls ?? []
    for (const name of ['count', 'path', 'line', 'rule', 'journal']) {
      if (details[name] !== undefined && details[name] !== null) {
        this[name] = details[name]
      }
    }
  }
}

/** The Error for an error of the addon's batch. */
function batchError(error) {
  if (!(error instanceof Error) || error.name !== 'PockytBatchError') {
    return fromNative(error)
  }
  const converted = new BatchError(error.message, { ...error })
  Error.captureStackTrace(converted, batchError)
  return converted
}

/**
 * What a batch came to: rows per state, amounts per currency and state,
 * the first refused rows. `paid` and `success` are the Rust core's.
 */
class BatchReport {
  constructor(fields) {
    /** The batch (null for a dry run of a file the journal did not hold). */
    this.batch = fields.batch
    /** The file. */
    this.source = fields.source
    /** Whether nothing was sent. */
    this.dryRun = fields.dryRun
    /** Rows to pay (journaled). */
    this.rows = fields.rows
    /** Rows refused before anything was sent. */
    this.invalid = fields.invalid
    /** Rows per state (every state of ROW_STATES, 0 included). */
    this.states = fields.states
    /** Per currency, per state: { rows, amount }. */
    this.totals = fields.totals
    /** The first refused rows (100 at most). */
    this.invalidRows = fields.invalidRows
    /** How many rows the API took (pending or success). */
    this.paid = fields.paid
    /** See isSuccess(). */
    this.success = fields.success
  }

  /**
   * Whether every row ended well: none refused before sending, and every
   * journaled row pending or success (for a dry run: no row refused).
   */
  isSuccess() {
    return this.success
  }

  /** How many rows are in `state`. */
  count(state) {
    return this.states[state] ?? 0
  }
}

/** A path given as a string or a file: URL. */
function pathOf(path, name) {
  if (typeof path === 'string') return path
  if (path instanceof URL) return fileURLToPath(path)
  throw new ConfigurationError(`invalid configuration: ${name} must be a path (a string or a file: URL)`, { field: name })
}

/**
 * Batch payouts through a `Client`. Each method starts the operation on
 * the addon's runtime and resolves when it is done.
 */
class Batch {
  #client
  #options
  #onProgress

  /**
   * @param {import('./index').Client} client
   * @param {import('./batch').BatchOptions} [options]
   */
  constructor(client, options = {}) {
    const nativeClient = nativeClientOf(client)
    if (nativeClient === undefined) {
      throw new TypeError('client must be a Client of pockyt-payouts')
    }
    if (options === null || typeof options !== 'object') {
      throw new ConfigurationError('invalid configuration: options must be an object', { field: 'options' })
    }
    const { onProgress, journal, ...rest } = options
    if (onProgress !== undefined && onProgress !== null && typeof onProgress !== 'function') {
      throw new ConfigurationError('invalid configuration: onProgress must be a function', { field: 'onProgress' })
    }
    this.#client = nativeClient
    this.#options = { ...rest, journal: journal === undefined || journal === null ? null : pathOf(journal, 'journal') }
    this.#onProgress = onProgress ?? null
    // The options are checked now (names and types); ranges when a batch runs.
    this.#native()
  }

  /** The journal given, or null: each file's defaultJournalPath(file). */
  get journal() {
    return this.#options.journal
  }

  /** A native batch for one operation (each can be stopped on its own). */
  #native() {
    try {
      return new native.NativeBatch(this.#client, this.#options)
    } catch (error) {
      throw fromNative(error)
    }
  }

  /**
   * Runs `start(op, onProgress)` on a new native batch; an exception of
   * the user's onProgress stops the batch cleanly (the pays in flight
   * finish and are recorded) and is then what it rejects with. Resolves
   * after every progress was delivered.
   */
  async #operation(start, withProgress) {
    const op = this.#native()
    const callback = withProgress ? this.#onProgress : null
    if (callback === null) {
      try {
        return await start(op, null)
      } catch (error) {
        throw batchError(error)
      }
    }
    let failure = null
    let rejected = false
    let ended
    const end = new Promise((resolve) => {
      ended = resolve
    })
    const onProgress = (progress) => {
      if (progress.phase === END_PHASE) {
        ended()
        return
      }
      if (failure !== null || rejected) return
      try {
        callback(progress)
      } catch (error) {
        failure = { error }
        op.stop()
      }
    }
    let answer
    try {
      answer = await start(op, onProgress)
    } catch (error) {
      rejected = true
      if (failure !== null) throw failure.error
      throw batchError(error)
    }
    await end
    if (failure !== null) throw failure.error
    return answer
  }

  /**
   * Runs the batch of `file`: checks and journals every row (or, when the
   * journal already holds this file, resumes it), checks the funds, pays
   * every row not yet paid, and resolves to the report. Rows that failed
   * are in the report; the promise rejects for the batch as a whole.
   * @param {string | URL} file
   * @returns {Promise<BatchReport>}
   */
  async run(file) {
    const path = pathOf(file, 'file')
    const text = await this.#operation((op, onProgress) => op.run(path, onProgress), true)
    return new BatchReport(JSON.parse(text))
  }

  /**
   * Follows the batch of `file` (the journal's latest when omitted) up:
   * inquires every pending, unknown and sending row, in rounds, until none
   * is pending; sends no pay.
   * @param {string | URL} [file]
   * @returns {Promise<BatchReport>}
   */
  async status(file) {
    const path = file === undefined || file === null ? null : pathOf(file, 'file')
    const text = await this.#operation((op, onProgress) => op.status(path, onProgress), true)
    return new BatchReport(JSON.parse(text))
  }

  /**
   * The report of the batch of `file` (the journal's latest when omitted),
   * from the journal alone.
   * @param {string | URL} [file]
   * @returns {Promise<BatchReport>}
   */
  async report(file) {
    const path = file === undefined || file === null ? null : pathOf(file, 'file')
    const text = await this.#operation((op) => op.report(path), false)
    return new BatchReport(JSON.parse(text))
  }

  /**
   * Writes every row of the batch of `file` (the journal's latest when
   * omitted) to the file at `path`: each payout with its state,
   * transactionNo and error, then each refused row (state `invalid`), as
   * CSV (the default) or JSON (`{ summary, rows }`).
   * @param {string | URL} path
   * @param {import('./batch').WriteReportOptions} [options]
   * @returns {Promise<void>}
   */
  async writeReport(path, options = {}) {
    const out = pathOf(path, 'path')
    const { file, format } = options ?? {}
    const source = file === undefined || file === null ? null : pathOf(file, 'file')
    await this.#operation((op) => op.writeReport(out, source, format ?? null), false)
  }

  /**
   * Records a verified IPN (constructEvent's event) in the journal: the
   * row with the event's invoiceId moves to its status, unless that would
   * take back a final status. Resolves to whether a row changed. Needs a
   * journal.
   * @param {import('./index').PayoutEvent} event
   * @returns {Promise<boolean>}
   */
  applyEvent(event) {
    return this.#operation((op) => op.applyEvent(event), false)
  }
}

/**
 * The journal a file's batch uses when none is named: `<file>.journal`
 * beside it (the Rust core's rule).
 * @param {string | URL} file
 * @returns {string}
 */
function defaultJournalPath(file) {
  return native.batchDefaultJournal(pathOf(file, 'file'))
}

module.exports = { Batch, BatchReport, BatchError, ROW_STATES, defaultJournalPath }
