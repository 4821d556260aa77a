// One client shared by many concurrent calls; the event loop keeps turning
// while calls are in flight.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { startSandbox } from 'pockyt-payouts/testing'
import { admin, payeeWithAccount, invoiceId } from './helpers.mjs'

let sandbox
let client

before(async () => {
  sandbox = await startSandbox({ settleDelayMs: 60000 })
  client = sandbox.client()
})

after(async () => {
  await sandbox.stop()
})

test('200 concurrent pays through one client make 200 distinct payouts', { timeout: 120_000 }, async () => {
  const { customerNo, accountToken } = await payeeWithAccount(client)
  const balanceBefore = sandbox.balance('USD')
  const invoices = Array.from({ length: 200 }, () => invoiceId('pending'))
  const payouts = await Promise.all(
    invoices.map((invoice) => client.pay({ customerNo, accountToken, amount: '1.25', currency: 'USD', invoiceId: invoice })),
  )
  assert.deepEqual(
    payouts.map((p) => p.invoiceId),
    invoices,
  )
  assert.equal(new Set(payouts.map((p) => p.transactionNo)).size, 200)
  const held = sandbox.payouts().filter((p) => invoices.includes(p.invoiceId))
  assert.equal(held.length, 200)
  assert.equal(new Set(held.map((p) => p.invoiceId)).size, 200)
  const spent = Math.round((Number(balanceBefore) - Number(sandbox.balance('USD'))) * 100)
  assert.equal(spent, 200 * 125)
})

test('the event loop turns while a call waits on the server', async () => {
  await admin(sandbox, 'faults', { operation: 'balance', fault: 'delay=300' })
  let settled = false
  const call = client.balance({ currency: 'USD' }).finally(() => {
    settled = true
  })
  let turns = 0
  while (!settled && turns < 100000) {
    await new Promise((resolve) => setImmediate(resolve))
    turns += 1
  }
  const balance = await call
  assert.equal(balance.currency, 'USD')
  assert.ok(turns > 1, `the event loop turned ${turns} times while the call was in flight`)
})

test('two loaded copies of the package (as a test runner may load them) each settle their own calls', { timeout: 60_000 }, async () => {
  const require = createRequire(import.meta.url)
  const first = require('pockyt-payouts')
  for (const name of Object.keys(require.cache)) {
    if (!name.endsWith('.node')) delete require.cache[name]
  }
  const second = require('pockyt-payouts')
  assert.notEqual(first.Client, second.Client)
  const options = { merchantNo: sandbox.merchantNo, storeNo: sandbox.storeNo, apiToken: sandbox.apiToken, baseUrl: sandbox.baseUrl }
  const clients = [new first.Client(options), new second.Client(options)]
  const { customerNo } = await payeeWithAccount(client)
  // Interleaved calls through both copies: each answer reaches the call
  // that asked for it.
  const calls = Array.from({ length: 100 }, (_, n) =>
    clients[n % 2].retrievePayee({ customerNo }).then((payee) => [n % 2, payee.customerNo]),
  )
  for (const [, answered] of await Promise.all(calls)) assert.equal(answered, customerNo)
  await assert.rejects(clients[1].retrievePayee({ customerNo: '1' }), second.NoRelatedInformationError)
})
