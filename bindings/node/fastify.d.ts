// Types of pockyt-payouts/fastify.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { EventStore, PayoutEvent } from './webhooks'

/** Options of the payoutWebhook plugin. */
export interface PayoutWebhookPluginOptions {
  /** The route's path (default `/`, under the register prefix). */
  path?: string
  /** The API token IPNs are verified with (never shown). */
  apiToken: string
  /** Runs once per transactionNo + status; may be async; throwing makes the API resend. */
  handler: (event: PayoutEvent, request: FastifyRequest) => unknown
  /** Where handled events are remembered (default: a MemoryEventStore). */
  store?: EventStore
  /** Told when the handler or the store failed (default: request.log.error). */
  onError?: (error: unknown, event: PayoutEvent | undefined) => void
}

/** The plugin: `fastify.register(payoutWebhook, { path, apiToken, handler })`. */
export declare const payoutWebhook: FastifyPluginAsync<PayoutWebhookPluginOptions>
export default payoutWebhook
