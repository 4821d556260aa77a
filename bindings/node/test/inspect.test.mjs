// The API token never shows: not in inspect, JSON, string conversion,
// enumeration, nor any error message.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import util from 'node:util'
import { Client } from 'pockyt-payouts'
import { startSandbox } from 'pockyt-payouts/testing'

const token = 'tok-3f9a1c7e-super-secret'

test('inspect, JSON.stringify, String and enumeration never show the token', () => {
  const client = new Client({ merchantNo: '202333', storeNo: '301854', apiToken: token, baseUrl: 'http://127.0.0.1:9' })
  const views = [
    util.inspect(client),
    util.inspect(client, { showHidden: true, depth: Infinity, getters: true }),
    util.format('%o %O %j %s', client, client, client, client),
    JSON.stringify(client),
    JSON.stringify({ nested: [client] }),
    String(client),
    Object.keys(client).join(','),
    Object.getOwnPropertyNames(client).join(','),
  ]
  for (const view of views) {
    assert.ok(!view.includes(token), view)
  }
  assert.match(util.inspect(client), /Client/)
  assert.match(util.inspect(client), /202333/)
  assert.deepEqual(JSON.parse(JSON.stringify(client)), {
    baseUrl: 'http://127.0.0.1:9',
    merchantNo: '202333',
    storeNo: '301854',
    timeoutMs: 30000,
  })
})

test('errors never carry the token', async () => {
  const sandbox = await startSandbox()
  try {
    const wrong = sandbox.client({ apiToken: token, maxRetries: 0 })
    const failures = await Promise.allSettled([
      wrong.balance({ currency: 'USD' }),
      wrong.pay({ customerNo: 'c', accountToken: 'a', amount: '-1', currency: 'USD', invoiceId: 'i' }),
    ])
    for (const failure of failures) {
      assert.equal(failure.status, 'rejected')
      const error = failure.reason
      assert.ok(!util.inspect(error, { showHidden: true, depth: Infinity }).includes(token))
      assert.ok(!JSON.stringify(error).includes(token))
      assert.ok(!error.stack.includes(token))
    }
  } finally {
    await sandbox.stop()
  }
})
