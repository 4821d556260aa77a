// Types of pockyt-payouts/webhooks: receive the API's IPNs (webhooks).
import type { PayoutEvent } from './index'
import { WebhookError } from './index'

export type { PayoutEvent }
export { WebhookError }

/** The plain-text body that tells the API an IPN was received: `success`. */
export declare const SUCCESS_BODY: string
/** The content type of every answer: `text/plain; charset=utf-8`. */
export declare const CONTENT_TYPE: string
/** The largest IPN body a receiver reads, in bytes. */
export declare const MAX_BODY_BYTES: number

/**
 * Verifies a raw IPN body (exactly as received) with the API token and
 * returns the typed event. Throws WebhookError when refused, or when the
 * body is undefined or was already parsed (the message says what to pass
 * instead); InvalidRequestError when apiToken is not a string.
 */
export declare function constructEvent(rawBody: Buffer | Uint8Array | string, apiToken: string): PayoutEvent

/**
 * Verifies fields a body parser already decoded (`req.body` of
 * `express.urlencoded()`; an array value is the field repeated) and
 * returns the typed event. A nested object (extended parsing of `a[b]=c`)
 * is refused as malformed. Prefer the raw body.
 */
export declare function eventFromFields(fields: Record<string, unknown>, apiToken: string): PayoutEvent

/** The key an event is deduplicated by: `transactionNo:status`. */
export declare function dedupKey(event: PayoutEvent): string

/** How one IPN delivery ended at the receiver. */
export type WebhookOutcome = 'handled' | 'duplicate' | 'in_progress' | 'refused' | 'handler_failed' | 'store_failed'

/** What to answer the API. */
export interface WebhookReply {
  /** The HTTP status (2xx only for handled and duplicate). */
  status: number
  /** Plain text: exactly `success` when the API should stop resending. */
  body: string
  /** `text/plain; charset=utf-8`. */
  contentType: string
}

/** The answer to an outcome (`refused` needs the refusal's code). */
export declare function replyFor(outcome: WebhookOutcome, code?: string): WebhookReply

/** The answer to an IPN body over MAX_BODY_BYTES: 413. */
export declare function tooLargeReply(): WebhookReply

/** What a store answers when a key is claimed. */
export type Claim = 'new' | 'done' | 'in_progress'

/**
 * Remembers which events were handled, so a handler runs at most once per
 * key (`transactionNo:status`). Methods may answer values or Promises.
 * `claim` must atomically answer 'done' for a completed key, 'in_progress'
 * for a key claimed recently (a lease) and neither completed nor released,
 * and otherwise record the claim and answer 'new'. `complete` marks a key
 * done for good (at least the API's 2 hours of resends); `release` forgets
 * an uncompleted claim.
 */
export interface EventStore {
  claim(key: string): Claim | Promise<Claim>
  complete(key: string): void | Promise<void>
  release(key: string): void | Promise<void>
}

/** Options of MemoryEventStore. */
export interface MemoryEventStoreOptions {
  /** How long a claim holds before another delivery may take it over (default 5 minutes). */
  leaseMs?: number
  /** How long handled keys are remembered (default 7 days). */
  retentionMs?: number
  /** How many keys are kept at most, the oldest dropped first (default 100000). */
  capacity?: number
}

/** The in-process store (the default): bounded, forgotten at restart. */
export declare class MemoryEventStore implements EventStore {
  constructor(options?: MemoryEventStoreOptions)
  claim(key: string): Claim
  complete(key: string): void
  release(key: string): void
  /** How many keys the store remembers now. */
  readonly size: number
}

/** A handler: may be async; throwing (or rejecting) makes the API resend. */
export type WebhookHandler<Context = unknown> = (event: PayoutEvent, context: Context) => unknown

/** Options of a Webhook. */
export interface WebhookOptions {
  /** The API token IPNs are verified with (never shown). */
  apiToken: string
  /** Where handled events are remembered (default: a new MemoryEventStore). */
  store?: EventStore
}

/** How one delivery ended, and what to answer. */
export interface WebhookResult {
  outcome: WebhookOutcome
  reply: WebhookReply
  /** The verified event (absent when refused). */
  event?: PayoutEvent
  /** The WebhookError (refused), or what the handler or the store threw. */
  error?: unknown
}

/** An IPN receiver: verifies, runs your handler at most once per transactionNo + status, says what to answer. */
export declare class Webhook {
  /** Throws WebhookError (IPN_EMPTY_TOKEN) for an empty or missing token. */
  constructor(options: WebhookOptions)
  /** The store events are deduplicated in. */
  readonly store: EventStore
  /** constructEvent with this receiver's token. */
  constructEvent(rawBody: Buffer | Uint8Array | string): PayoutEvent
  /** eventFromFields with this receiver's token. */
  eventFromFields(fields: Record<string, unknown>): PayoutEvent
  /** Verifies the raw body, then runOnce; a refusal is a result, not a throw. */
  handle<Context>(rawBody: Buffer | Uint8Array | string, handler: WebhookHandler<Context>, context?: Context): Promise<WebhookResult>
  /** handle, from fields a body parser already decoded. */
  handleFields<Context>(fields: Record<string, unknown>, handler: WebhookHandler<Context>, context?: Context): Promise<WebhookResult>
  /** Runs the handler unless it already succeeded (or is running) for this transactionNo + status. */
  runOnce<Context>(event: PayoutEvent, handler: WebhookHandler<Context>, context?: Context): Promise<WebhookResult>
}
