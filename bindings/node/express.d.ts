// Types of pockyt-payouts/express (no dependency on @types/express).
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { EventStore, PayoutEvent } from './webhooks'

/** Options of payoutWebhook. */
export interface PayoutWebhookOptions<Req extends IncomingMessage = IncomingMessage> {
  /** The API token IPNs are verified with (never shown). */
  apiToken: string
  /** Runs once per transactionNo + status; may be async; throwing makes the API resend. */
  handler: (event: PayoutEvent, req: Req) => unknown
  /** Where handled events are remembered (default: a MemoryEventStore). */
  store?: EventStore
  /** Told when the handler or the store failed (default: console.error). */
  onError?: (error: unknown, event: PayoutEvent | undefined) => void
}

/**
 * An Express handler (also a node:http request listener) for IPNs; works
 * whatever body parser ran before it. Throws WebhookError (IPN_EMPTY_TOKEN)
 * now for an empty token.
 */
export declare function payoutWebhook<Req extends IncomingMessage = IncomingMessage>(
  options: PayoutWebhookOptions<Req>,
): (req: Req, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void>
