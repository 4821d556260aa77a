'use strict'

/**
 * pockyt-payouts/webhooks: receive the API's IPNs (webhooks) right.
 *
 * Verification, typing, the dedup key (`transactionNo:status`), the claim
 * rule and the answer to each outcome come from the Rust core through the
 * native addon; this module only sequences claim → your handler →
 * complete / release. The framework middleware is in
 * `pockyt-payouts/express` and `pockyt-payouts/fastify`.
 */

const { inspect } = require('node:util')
const native = require('./native.js')
const { fromNative, requireStringToken, checkTokenOption, ConfigurationError, WebhookError } = require('./errors.js')

/** The plain-text body that tells the API an IPN was received: `success`. */
const SUCCESS_BODY = native.SUCCESS_BODY
/** The content type of every answer: `text/plain; charset=utf-8`. */
const CONTENT_TYPE = native.CONTENT_TYPE
/** The largest IPN body a receiver reads, in bytes. */
const MAX_BODY_BYTES = native.MAX_BODY_BYTES

function unwrap(read) {
  try {
    return read()
  } catch (error) {
    throw fromNative(error)
  }
}

/**
 * Verifies a raw IPN body (a Buffer, Uint8Array or string, exactly as
 * received) with the API token and returns the typed event; throws
 * WebhookError when refused (or when the body is undefined or was already
 * parsed: the message says what to pass instead).
 * @param {Buffer | Uint8Array | string} rawBody
 * @param {string} apiToken
 * @returns {import('./index').PayoutEvent}
 */
function constructEvent(rawBody, apiToken) {
  requireStringToken(apiToken)
  return unwrap(() => native.constructEvent(rawBody, apiToken))
}

/**
 * Verifies the fields a body parser already decoded (`req.body` of
 * `express.urlencoded()`: an array value is the field repeated) and
 * returns the typed event; throws WebhookError when refused. Prefer the
 * raw body: a decoder can hide what verification must see.
 * @param {Record<string, unknown>} fields
 * @param {string} apiToken
 * @returns {import('./index').PayoutEvent}
 */
function eventFromFields(fields, apiToken) {
  requireStringToken(apiToken)
  return unwrap(() => native.eventFromFields(fields, apiToken))
}

/**
 * The key an event is deduplicated by: `transactionNo:status`.
 * @param {import('./index').PayoutEvent} event
 * @returns {string}
 */
function dedupKey(event) {
  return native.dedupKey(event)
}

/**
 * The answer to an outcome: `{ status, body, contentType }` (`refused`
 * needs the refusal's code).
 * @param {import('./webhooks').WebhookOutcome} outcome
 * @param {string} [code]
 * @returns {import('./webhooks').WebhookReply}
 */
function replyFor(outcome, code) {
  return native.webhookReply(outcome, code)
}

/**
 * The answer to an IPN body over MAX_BODY_BYTES: `413` (not read further).
 * @returns {import('./webhooks').WebhookReply}
 */
function tooLargeReply() {
  return native.tooLargeReply()
}

/**
 * The in-process dedup store (the Rust core's MemoryEventStore): bounded,
 * forgotten at restart. Use your own EventStore when several processes
 * receive IPNs or keys must survive a restart.
 */
class MemoryEventStore {
  #native

  /** @param {import('./webhooks').MemoryEventStoreOptions} [options] */
  constructor(options) {
    this.#native = unwrap(() => new native.NativeMemoryEventStore(options ?? undefined))
  }

  /** Claims `key`: 'new', 'done' or 'in_progress'. */
  claim(key) {
    return this.#native.claim(key)
  }

  /** Marks a claimed `key` done. */
  complete(key) {
    this.#native.complete(key)
  }

  /** Forgets an uncompleted claim of `key`. */
  release(key) {
    this.#native.release(key)
  }

  /** How many keys the store remembers now. */
  get size() {
    return this.#native.size
  }
}

/** A result: the outcome, the Rust reply to it, the event and the error. */
function result(outcome, event, error, code) {
  const out = { outcome, reply: replyFor(outcome, code) }
  if (event !== undefined) out.event = event
  if (error !== undefined) out.error = error
  return out
}

/**
 * An IPN receiver: the API token to verify with and the store that
 * remembers handled events. Runs your handler at most once per
 * transactionNo + status, and says what to answer. Never shows the token.
 */
class Webhook {
  #apiToken
  #store

  /**
   * Throws WebhookError (IPN_EMPTY_TOKEN) for an empty or missing token.
   * @param {import('./webhooks').WebhookOptions} options
   */
  constructor(options) {
    if (options === null || typeof options !== 'object') {
      throw new ConfigurationError('invalid configuration: options must be an object', { field: 'options' })
    }
    checkTokenOption(options)
    const apiToken = options.apiToken ?? ''
    unwrap(() => native.checkWebhookToken(apiToken))
    const store = options.store ?? new MemoryEventStore()
    for (const method of ['claim', 'complete', 'release']) {
      if (typeof store[method] !== 'function') {
        throw new ConfigurationError(`invalid configuration: store must have a ${method}(key) method`, { field: 'store' })
      }
    }
    this.#apiToken = apiToken
    this.#store = store
  }

  /** The store events are deduplicated in. */
  get store() {
    return this.#store
  }

  /** constructEvent with this receiver's token. */
  constructEvent(rawBody) {
    return constructEvent(rawBody, this.#apiToken)
  }

  /** eventFromFields with this receiver's token. */
  eventFromFields(fields) {
    return eventFromFields(fields, this.#apiToken)
  }

  /**
   * Verifies the raw body, then runs `handler(event, context)` at most
   * once for it (runOnce). Never throws for a refused IPN: the result
   * says `refused`, with the WebhookError.
   */
  handle(rawBody, handler, context) {
    return this.#verified(() => this.constructEvent(rawBody), handler, context)
  }

  /** handle, from fields a body parser already decoded. */
  handleFields(fields, handler, context) {
    return this.#verified(() => this.eventFromFields(fields), handler, context)
  }

  async #verified(read, handler, context) {
    let event
    try {
      event = read()
    } catch (error) {
      if (error instanceof WebhookError) {
        return result('refused', undefined, error, error.code)
      }
      throw error
    }
    return this.runOnce(event, handler, context)
  }

  /**
   * Runs `handler(event, context)` unless it already succeeded for the
   * same transactionNo + status (or is running now): claims the key, runs,
   * then completes it on success or releases it on failure so the API's
   * resend runs it again. Resolves to `{ outcome, reply, event, error }`.
   */
  async runOnce(event, handler, context) {
    const key = dedupKey(event)
    let claim
    try {
      claim = await this.#store.claim(key)
    } catch (error) {
      return result('store_failed', event, error)
    }
    const skipped = native.outcomeForClaim(claim)
    if (skipped !== null) {
      const error = skipped === 'store_failed' ? new Error("the store's claim() did not answer 'new', 'done' or 'in_progress'") : undefined
      return result(skipped, event, error)
    }
    try {
      await handler(event, context)
    } catch (error) {
      try {
        await this.#store.release(key)
      } catch (storeError) {
        return result('store_failed', event, storeError)
      }
      return result('handler_failed', event, error)
    }
    try {
      await this.#store.complete(key)
    } catch (error) {
      return result('store_failed', event, error)
    }
    return result('handled', event)
  }

  /** What JSON.stringify shows: never the API token. */
  toJSON() {
    return { store: this.#store.constructor?.name ?? 'EventStore' }
  }

  [inspect.custom]() {
    return `Webhook { apiToken: <redacted>, store: ${this.toJSON().store} }`
  }
}

module.exports = {
  constructEvent,
  eventFromFields,
  dedupKey,
  replyFor,
  tooLargeReply,
  MemoryEventStore,
  Webhook,
  WebhookError,
  SUCCESS_BODY,
  CONTENT_TYPE,
  MAX_BODY_BYTES,
}
