// pockyt-payouts/webhooks, /express and /fastify: real Express and Fastify
// apps receiving real IPNs from the in-process sandbox, whatever body
// parser runs globally; plus the typed errors of constructEvent and
// eventFromFields. Waits are bounded polls, never fixed sleeps.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import express from 'express'
import Fastify from 'fastify'
import formbody from '@fastify/formbody'
import { sign, PockytError, WebhookError } from 'pockyt-payouts'
import { constructEvent, eventFromFields, MemoryEventStore, Webhook, MAX_BODY_BYTES } from 'pockyt-payouts/webhooks'
import { payoutWebhook as expressWebhook } from 'pockyt-payouts/express'
import { payoutWebhook as fastifyWebhook } from 'pockyt-payouts/fastify'
import { startSandbox } from 'pockyt-payouts/testing'

let sandbox
let client
let serial = 0

before(async () => {
  sandbox = await startSandbox({ settleDelayMs: 20, ipnRetryDelaysMs: [0, 50, 100, 200] })
  client = sandbox.client()
})

after(async () => {
  await sandbox.stop()
})

/** Polls `check` until it returns a truthy value (at most 15 s). */
async function waitFor(check, what) {
  const deadline = Date.now() + 15_000
  for (;;) {
    const value = check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Pays a new payee, with the IPNs sent to `ipnUrl`; resolves to the invoiceId. */
async function pay(ipnUrl) {
  serial += 1
  const invoiceId = `wh-${process.pid}-${serial}`
  const payee = await client.registerPayee({ profileType: 'INDIVIDUAL', dateOfBirth: '1990-01-01' })
  const account = await client.addBankAccount({
    customerNo: payee.customerNo,
    bankAccountId: '7861053298',
    branchId: '101089292',
    bankAccountPurpose: 'CHECKING',
  })
  await client.pay({ customerNo: payee.customerNo, accountToken: account.accountToken, amount: '1.00', currency: 'USD', invoiceId, ipnUrl })
  return invoiceId
}

/** The sandbox's IPN tries for a payout. */
const triesFor = (invoiceId) => sandbox.ipnLog().filter((d) => d.fields.some(([k, v]) => k === 'reference' && v === invoiceId))
const field = (delivery, name) => delivery.fields.find(([k]) => k === name)?.[1]

/** A recording handler: `calls` holds `invoiceId:status` per run. */
function recorder(fail = () => false) {
  const calls = []
  const handler = async (event) => {
    calls.push(`${event.invoiceId}:${event.status}`)
    if (fail(event, calls)) throw new Error('handler failed on purpose')
  }
  return { calls, handler }
}

/** A genuine IPN signed with the sandbox's token, re-encoded: other order, %20 or +, uppercase signature. */
function reencoded(transactionNo, spaces) {
  const fields = { transactionNo, status: 'success', reference: `re-${transactionNo}`, amount: '1.00', currency: 'USD', note: 'paid in full' }
  const signature = sign(fields, sandbox.apiToken).toUpperCase()
  const pairs = Object.entries({ ...fields, verifySign: signature }).reverse()
  return pairs.map(([k, v]) => `${k}=${encodeURIComponent(v).replaceAll('%20', spaces)}`).join('&')
}

const post = (url, body, type = 'application/x-www-form-urlencoded') =>
  fetch(url, { method: 'POST', headers: { 'content-type': type }, body })

/**
 * The behaviour every receiver must have, through `start(options)` which
 * serves a receiver with { apiToken, handler } and resolves to { url, close }.
 */
async function receives(start) {
  const { calls, handler } = recorder()
  const app = await start({ apiToken: sandbox.apiToken, handler })
  try {
    // Real IPNs: pending, then success; each handled exactly once.
    const invoiceId = await pay(app.url)
    await waitFor(() => triesFor(invoiceId).filter((d) => d.answeredSuccess).length === 2, 'both IPNs answered')
    assert.deepEqual(calls, [`${invoiceId}:pending`, `${invoiceId}:success`])
    for (const delivery of triesFor(invoiceId)) {
      assert.equal(delivery.httpStatus, 200)
      assert.equal(delivery.answer, 'success')
      assert.equal(delivery.resendReason, undefined)
    }

    // A replay is answered success without running the handler again.
    assert.equal(sandbox.resendIpn(invoiceId), true)
    await waitFor(() => triesFor(invoiceId).filter((d) => d.answeredSuccess).length === 3, 'the replay answered')
    assert.equal(calls.length, 2)

    // A forged IPN is refused and never reaches the handler.
    const forgedFields = { transactionNo: '999', status: 'success', reference: 'forged' }
    const forged = new URLSearchParams({ ...forgedFields, verifySign: sign(forgedFields, 'not-the-token') }).toString()
    const refused = await post(app.url, forged)
    assert.equal(refused.status, 400)
    assert.equal(await refused.text(), 'refused: IPN_SIGNATURE_MISMATCH')
    assert.match(refused.headers.get('content-type'), /^text\/plain/)

    // The same genuine IPN, encoded differently: accepted once, then a duplicate.
    const transactionNo = `77${serial}${process.pid}`
    const first = await post(app.url, reencoded(transactionNo, '%20'))
    assert.equal(first.status, 200)
    assert.equal(await first.text(), 'success')
    const second = await post(app.url, reencoded(transactionNo, '+'))
    assert.equal(await second.text(), 'success')
    assert.deepEqual(calls.slice(2), [`re-${transactionNo}:success`])
  } finally {
    await app.close()
  }
}

/** An Express app with `parsers` mounted globally and the webhook at /ipn. */
function expressApp(parsers) {
  return async (options) => {
    const app = express()
    for (const parser of parsers) app.use(parser)
    app.post('/ipn', expressWebhook(options))
    const server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    return {
      url: `http://127.0.0.1:${server.address().port}/ipn`,
      close: () => new Promise((resolve) => server.close(resolve)),
    }
  }
}

/** A Fastify app (with @fastify/formbody when asked) and the plugin at /ipn. */
function fastifyApp(withFormbody) {
  return async (options) => {
    const app = Fastify()
    if (withFormbody) await app.register(formbody)
    await app.register(fastifyWebhook, { path: '/ipn', ...options })
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    return { url: `${address}/ipn`, close: () => app.close() }
  }
}

test('Express with no body parser receives real IPNs', { timeout: 60_000 }, () => receives(expressApp([])))
test('Express with express.urlencoded({ extended: true }) globally', { timeout: 60_000 }, () =>
  receives(expressApp([express.urlencoded({ extended: true })])))
test('Express with express.urlencoded({ extended: false }) globally', { timeout: 60_000 }, () =>
  receives(expressApp([express.urlencoded({ extended: false })])))
test('Express with express.json() globally', { timeout: 60_000 }, () => receives(expressApp([express.json()])))
test("Express with express.raw({ type: '*/*' }) globally", { timeout: 60_000 }, () =>
  receives(expressApp([express.raw({ type: '*/*' })])))
test('Fastify receives real IPNs', { timeout: 60_000 }, () => receives(fastifyApp(false)))
test('Fastify with @fastify/formbody registered globally', { timeout: 60_000 }, () => receives(fastifyApp(true)))

test('a failing handler makes the sandbox resend, and the retry runs it', { timeout: 60_000 }, async () => {
  for (const start of [expressApp([]), fastifyApp(true)]) {
    let failures = 0
    const { calls, handler } = recorder((event) => event.status === 'success' && failures++ === 0)
    const app = await start({ apiToken: sandbox.apiToken, handler, onError: () => {} })
    try {
      const invoiceId = await pay(app.url)
      await waitFor(() => triesFor(invoiceId).filter((d) => d.answeredSuccess).length === 2, 'both IPNs answered')
      assert.deepEqual(calls, [`${invoiceId}:pending`, `${invoiceId}:success`, `${invoiceId}:success`])
      const success = triesFor(invoiceId).filter((d) => field(d, 'status') === 'success')
      assert.deepEqual(success.map((d) => [d.attempt, d.httpStatus, d.answeredSuccess]), [[1, 500, false], [2, 200, true]])
      assert.equal(success[0].answer, 'failed: the handler did not succeed; resend later')
      assert.match(success[0].resendReason, /500/)
      assert.equal(success[1].resendReason, undefined)
    } finally {
      await app.close()
    }
  }
})

test('the Express handler refuses a body over MAX_BODY_BYTES with 413', async () => {
  const app = await expressApp([])({ apiToken: sandbox.apiToken, handler: () => assert.fail('not run') })
  try {
    const response = await post(app.url, `a=${'x'.repeat(MAX_BODY_BYTES)}`)
    assert.equal(response.status, 413)
    assert.match(await response.text(), /^refused: the IPN body is over \d+ bytes$/)
  } finally {
    await app.close()
  }
})

const token = 'unit-token'
const ipnFields = { transactionNo: '42', status: 'success', reference: 'inv-42' }
const body = new URLSearchParams({ ...ipnFields, verifySign: sign(ipnFields, token) }).toString()

test('constructEvent types a genuine IPN, invoiceId from reference', () => {
  const event = constructEvent(Buffer.from(body), token)
  assert.equal(event.transactionNo, '42')
  assert.equal(event.status, 'success')
  assert.equal(event.invoiceId, 'inv-42')
  assert.deepEqual(constructEvent(body, token), event)
  assert.deepEqual(eventFromFields(Object.fromEntries(new URLSearchParams(body)), token), event)
})

function refusedWith(code, reason, message) {
  return (error) => {
    assert.ok(error instanceof WebhookError, String(error))
    assert.ok(error instanceof PockytError)
    assert.equal(error.code, code)
    assert.equal(error.reason, reason)
    if (message) assert.match(error.message, message)
    assert.ok(!error.message.includes(token))
    return true
  }
}

test('constructEvent answers the classic mistakes by name', () => {
  assert.throws(() => constructEvent(undefined, token), refusedWith('IPN_MALFORMED_BODY', 'malformed_body', /body is undefined.*express\.raw\(\)/))
  assert.throws(
    () => constructEvent({ ...ipnFields }, token),
    refusedWith('IPN_MALFORMED_BODY', 'malformed_body', /already parsed: pass the raw body \(express\.raw \/ the middleware of this package\) or use eventFromFields\(req\.body\)/),
  )
  assert.throws(() => constructEvent(body, ' '), refusedWith('IPN_EMPTY_TOKEN', 'empty_token'))
  assert.throws(() => constructEvent(body, 'other'), refusedWith('IPN_SIGNATURE_MISMATCH', 'signature_mismatch'))
  assert.throws(() => constructEvent('transactionNo=1', token), refusedWith('IPN_MISSING_SIGNATURE', 'missing_signature'))
})

test('eventFromFields: an array is the field repeated, a nested object is refused', () => {
  const sig = sign(ipnFields, token)
  assert.throws(() => eventFromFields({ ...ipnFields, verifySign: [sig, sig] }, token), refusedWith('IPN_REPEATED_SIGNATURE', 'repeated_signature'))
  assert.throws(
    () => eventFromFields({ ...ipnFields, a: { b: 'c' }, verifySign: sig }, token),
    refusedWith('IPN_MALFORMED_BODY', 'malformed_body', /nested object.*extended: true/),
  )
  assert.throws(() => eventFromFields(undefined, token), refusedWith('IPN_MALFORMED_BODY', 'malformed_body'))
})

test('Webhook: at most once per transactionNo + status, whatever the store answers', async () => {
  const store = new MemoryEventStore()
  const webhook = new Webhook({ apiToken: token, store })
  const runs = []
  const handled = await webhook.handle(body, (event) => runs.push(event.transactionNo))
  assert.equal(handled.outcome, 'handled')
  assert.deepEqual(handled.reply, { status: 200, body: 'success', contentType: 'text/plain; charset=utf-8' })
  const duplicate = await webhook.handle(body, () => assert.fail('not run'))
  assert.equal(duplicate.outcome, 'duplicate')
  assert.equal(duplicate.reply.body, 'success')
  assert.deepEqual(runs, ['42'])
  assert.equal(store.size, 1)

  // An async store, and one that breaks its contract.
  const asyncStore = { claim: async () => 'in_progress', complete: async () => {}, release: async () => {} }
  const busy = await new Webhook({ apiToken: token, store: asyncStore }).handle(body, () => assert.fail('not run'))
  assert.deepEqual([busy.outcome, busy.reply.status], ['in_progress', 409])
  const broken = await new Webhook({ apiToken: token, store: { ...asyncStore, claim: () => 'maybe' } }).handle(body, () => assert.fail('not run'))
  assert.deepEqual([broken.outcome, broken.reply.status], ['store_failed', 500])

  const refused = await webhook.handle('verifySign=00', () => assert.fail('not run'))
  assert.equal(refused.outcome, 'refused')
  assert.ok(refused.error instanceof WebhookError)
  assert.deepEqual([refused.reply.status, refused.reply.body], [400, 'refused: IPN_SIGNATURE_MISMATCH'])

  assert.throws(() => new Webhook({ apiToken: '' }), refusedWith('IPN_EMPTY_TOKEN', 'empty_token'))
  assert.throws(() => expressWebhook({ handler() {} }), refusedWith('IPN_EMPTY_TOKEN', 'empty_token'))
  const { inspect } = await import('node:util')
  assert.ok(!inspect(webhook).includes(token))
  assert.ok(!JSON.stringify(webhook).includes(token))
})
