// Type-level tests, checked by `npm run typecheck` (tsc --noEmit): what
// must compile does, and what must not is marked @ts-expect-error (tsc
// fails when such a line compiles).
import {
  Client,
  sign,
  verifyIpn,
  PockytError,
  ApiError,
  InvalidRequestError,
  PayoutOutcomeUnknownError,
  type Payout,
  type Customer,
  type PayoutAccountList,
  type ErrorCode,
  type CallOptions,
} from 'pockyt-payouts'
import { startSandbox, type Sandbox } from 'pockyt-payouts/testing'
import {
  constructEvent,
  eventFromFields,
  dedupKey,
  MemoryEventStore,
  Webhook,
  WebhookError,
  type EventStore,
  type PayoutEvent,
  type WebhookResult,
} from 'pockyt-payouts/webhooks'
import { payoutWebhook as expressWebhook } from 'pockyt-payouts/express'
import { payoutWebhook as fastifyWebhook } from 'pockyt-payouts/fastify'
import express from 'express'
import Fastify from 'fastify'

declare const client: Client
declare const sandbox: Sandbox

export async function compiles(): Promise<void> {
  const payee: Customer = await client.registerPayee({ profileType: 'BUSINESS', dateOfBirth: '1980-01-01' })
  const status: string | undefined = payee.payeeStatus
  const unknownField: unknown = payee['someFieldAddedLater']
  const list: PayoutAccountList = await client.listPayoutAccounts({ customerNo: 'c' })
  const tokens: Array<string | undefined> = (list.accounts ?? []).map((a) => a.accountToken)
  const payout: Payout = await client.pay(
    { customerNo: 'c', accountToken: 'a', amount: '1', currency: 'USD', invoiceId: 'i', processingChannel: 'SAME_DAY_ACH' },
    { timeoutMs: 1000 },
  )
  const found: Payout = await client.inquirePayout({ invoiceId: 'i' }, { timeoutMs: 1000, connectTimeoutMs: 250 })
  const options: CallOptions = { connectTimeoutMs: 250 }
  const funds = await client.balance({ currency: 'USD' }, options)
  const signature: string = sign({ a: 'b' }, 't')
  const valid: boolean = verifyIpn(Buffer.from(''), 't') && verifyIpn('a=b', 't') && verifyIpn({ a: 'b' }, 't')
  const other = await startSandbox({ balances: { USD: '5.00' }, ipnRetryDelaysMs: [0] })
  const balance: string | null = other.balance('USD')
  const sandboxClient: Client = sandbox.client({ timeoutMs: 100 })
  void [status, unknownField, tokens, payout, found, funds, signature, valid, balance, sandboxClient]
}

export function narrows(error: unknown): string {
  if (error instanceof InvalidRequestError) return error.field
  if (error instanceof PayoutOutcomeUnknownError) return `${error.invoiceId} ${error.cause.code}`
  if (error instanceof ApiError) return `${error.retCode} ${error.retMsg} ${error.operation}`
  if (error instanceof PockytError) {
    const code: ErrorCode | (string & {}) = error.code
    return code
  }
  return ''
}

export async function refused(): Promise<void> {
  // @ts-expect-error amount is a string
  await client.pay({ customerNo: 'c', accountToken: 'a', amount: 1, currency: 'USD', invoiceId: 'i' })
  // @ts-expect-error invoiceId is required
  await client.pay({ customerNo: 'c', accountToken: 'a', amount: '1', currency: 'USD' })
  // @ts-expect-error profileType is INDIVIDUAL or BUSINESS
  await client.registerPayee({ profileType: 'ROBOT', dateOfBirth: '1980-01-01' })
  // @ts-expect-error apiToken is required
  new Client({ merchantNo: 'm', storeNo: 's' })
  // @ts-expect-error environment is sandbox or production
  new Client({ merchantNo: 'm', storeNo: 's', apiToken: 't', environment: 'live' })
  // @ts-expect-error not an operation
  await client.refund({ invoiceId: 'i' })
  // @ts-expect-error connectTimeoutMs is a number of milliseconds
  await client.balance({ currency: 'USD' }, { connectTimeoutMs: '2s' })
  // @ts-expect-error not a per-call option
  await client.balance({ currency: 'USD' }, { maxRetries: 0 })
  // @ts-expect-error the sandbox client keeps its base URL
  sandbox.client({ baseUrl: 'http://elsewhere' })
}

export async function webhooks(raw: Buffer): Promise<void> {
  const event: PayoutEvent = constructEvent(raw, 't')
  const same: PayoutEvent = eventFromFields({ transactionNo: '1', verifySign: ['a', 'b'] }, 't')
  const key: string = dedupKey(event)
  const invoiceId: string | undefined = event.invoiceId
  const redis: EventStore = {
    claim: async (k) => (k === key ? 'done' : 'new'),
    complete: async () => {},
    release: () => {},
  }
  const webhook = new Webhook({ apiToken: 't', store: redis })
  const result: WebhookResult = await webhook.handle(raw, async (e) => {
    void e.status
  })
  const status: number = result.reply.status
  try {
    constructEvent('a=b', 't')
  } catch (error) {
    if (error instanceof WebhookError) {
      const reason: 'empty_token' | 'missing_signature' | 'repeated_signature' | 'signature_mismatch' | 'malformed_body' = error.reason
      void reason
    }
  }
  const app = express()
  app.use(express.urlencoded({ extended: true }))
  app.post('/ipn', expressWebhook({ apiToken: 't', store: new MemoryEventStore({ leaseMs: 1000 }), handler: async (e) => void e.transactionNo }))
  const fastify = Fastify()
  await fastify.register(fastifyWebhook, { path: '/ipn', apiToken: 't', handler: (e, request) => void [e.amount, request.url] })
  // @ts-expect-error the handler is required
  expressWebhook({ apiToken: 't' })
  // @ts-expect-error a store answers new, done or in_progress
  const bad: EventStore = { claim: () => 'maybe', complete() {}, release() {} }
  void [same, invoiceId, status, bad]
}
