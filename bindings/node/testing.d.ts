// Types of `pockyt-payouts/testing`.
import type { Client, ClientOptions } from './index'

/** Options of startSandbox(); every one has a default. */
export interface SandboxOptions {
  /** Default '202333'. */
  merchantNo?: string
  /** Default '301854'. */
  storeNo?: string
  /** Default 'sandbox-api-token'. One that is not a string rejects with ConfigurationError (field `apiToken`), never showing it. */
  apiToken?: string
  /** Address to listen on. Default '127.0.0.1'. */
  host?: string
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number
  /** Starting balance per currency, e.g. { USD: '1000000.00' } (the default). */
  balances?: Record<string, string>
  /** Time from a payout's creation to its final status, in ms. Default 2000. */
  settleDelayMs?: number
  /** The wait before each IPN try, in ms (at most 8 tries). Default [0, 250, 500, 1000, 2000, 4000, 8000, 16000]. */
  ipnRetryDelaysMs?: number[]
  /** Accepted clock difference of a request's timestamp, in ms. Default 600000. */
  timestampToleranceMs?: number
  /** Connections served at once; more wait until one ends. Default 512. */
  maxConnections?: number
  /** Time allowed to send a request's head, in ms. Default 10000. */
  headerReadTimeoutMs?: number
  /** Time allowed to send a request's body, in ms. Default 10000. */
  bodyReadTimeoutMs?: number
  /** The largest request body accepted, in bytes. Default 262144. */
  maxBodyBytes?: number
  /** The most fields a request body may carry. Default 256. */
  maxFields?: number
  /** Connections accepted past maxConnections (the one waiting longest for a request is then closed). Default 64. */
  connectionReserve?: number
  /** How long a Pockyt-Request-ID is kept, in ms. Default 86400000. */
  idempotencyTtlMs?: number
  /** Keys kept per merchant (oldest dropped). Default 100000. */
  idempotencyMaxKeys?: number
  /** How long a repeat waits for a first request with its key still being processed, in ms. Default 30000. */
  idempotencyWaitMs?: number
  /** Window in which an identical pay without a key is refused as a duplicate, in ms. Default 600000. */
  duplicateWindowMs?: number
}

/** A payout the sandbox holds. */
export interface SandboxPayout {
  invoiceId: string
  transactionNo: string
  customerNo: string
  accountToken: string
  amount: string
  currency: string
  /** pending, success, failed or returned. */
  status: string
  createdTime: string
}

/** One try of an IPN delivery. */
export interface SandboxIpnDelivery {
  url: string
  /** The fields sent, in order, as [name, value] pairs. */
  fields: Array<[string, string]>
  /** 1 for the first try. */
  attempt: number
  /** The receiver's HTTP status, when it answered. */
  httpStatus?: number
  /** Why the try got no answer, when it did not. */
  error?: string
  /** The first 200 bytes of the receiver's answer, when it answered. */
  answer?: string
  /** Why this try does not count as received, so the IPN is resent (`answered HTTP 500 ...`); absent when received. */
  resendReason?: string
  /** Whether the receiver answered the plain text `success`. */
  answeredSuccess: boolean
}

/** A running sandbox. */
export interface Sandbox {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string
  readonly merchantNo: string
  readonly storeNo: string
  readonly apiToken: string
  /** A Client for this sandbox; `overrides` may set timeouts, retries or other credentials. */
  client(overrides?: Partial<Omit<ClientOptions, 'baseUrl' | 'environment'>>): Client
  /** Stops serving and ends the sandbox's background work. */
  stop(): Promise<void>
  /** Every payout, in creation order. */
  payouts(): SandboxPayout[]
  /** The balance available in `currency`, or null when it has none. */
  balance(currency: string): string | null
  /** Every IPN try made so far, in order. */
  ipnLog(): SandboxIpnDelivery[]
  /** Sends the IPN of the payout's current status again (a replay, as the API resends); false when no payout has this invoiceId or it has no ipnUrl. */
  resendIpn(invoiceId: string): boolean
  /** Forgets every payee, account, payout, IPN try and fault rule; balances back to the configured ones. */
  reset(): void
  /** Everything the sandbox holds, as GET /_sandbox/state answers it. */
  state(): Record<string, unknown>
}

/** Starts the sandbox in this process; resolves once it is listening. */
export declare function startSandbox(options?: SandboxOptions): Promise<Sandbox>
