// What the Rust core decides once and every language inherits: the same
// error properties, the same result shapes, the same sandbox options, and
// the core's events behind DEBUG=pockyt-payouts.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import test from 'node:test'
import { fileURLToPath } from 'node:url'

import { Client, NetworkError, NoRelatedInformationError, ConfigurationError } from '../index.mjs'
import { startSandbox } from '../testing.mjs'
import { startScriptedServer } from './helpers.mjs'

const PROPERTIES = ['code', 'message', 'mayHaveBeenReceived', 'operation']

async function freePort() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

test('every error carries the core\'s description of it', async () => {
  const port = await freePort()
  const client = new Client({ merchantNo: '1', storeNo: '2', apiToken: 'test-token', baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0 })
  const error = await client.balance({ currency: 'USD' }).catch((e) => e)
  assert.ok(error instanceof NetworkError, String(error))
  for (const name of PROPERTIES) {
    assert.ok(name in error, name)
  }
  assert.equal(error.operation, 'balance')
  assert.equal(error.mayHaveBeenReceived, false)

  const sandbox = await startSandbox()
  try {
    const refused = await sandbox.client().retrievePayee({ customerNo: '0' }).catch((e) => e)
    assert.ok(refused instanceof NoRelatedInformationError)
    assert.equal(refused.operation, 'retrievePayee')
    assert.equal(refused.retCode, '000021')
    assert.equal(refused.mayHaveBeenReceived, true)
  } finally {
    await sandbox.stop()
  }
})

test('a list the API leaves out is an empty list, as in Python', async () => {
  const server = await startScriptedServer(() => ({ body: { ret_code: '000100', ret_msg: 'success' } }))
  try {
    const client = new Client({ merchantNo: '1', storeNo: '2', apiToken: 'test-token', baseUrl: server.baseUrl })
    const answer = await client.listPayoutAccounts({ customerNo: '1' })
    assert.deepEqual(answer.accounts, [])
  } finally {
    await server.close()
  }
})

test('startSandbox takes the same options as Python\'s Sandbox, checked by one rule', async () => {
  const port = await freePort()
  const sandbox = await startSandbox({ port, apiToken: 'node-sandbox-token', ipnRetryDelaysMs: [0, 10], maxConnections: 64, maxFields: 64 })
  try {
    assert.equal(sandbox.baseUrl, `http://127.0.0.1:${port}`)
    assert.equal(sandbox.apiToken, 'node-sandbox-token')
    assert.equal((await sandbox.client().balance({ currency: 'USD' })).amount, '1000000.00')
    assert.ok(Array.isArray(sandbox.state().payouts))
  } finally {
    await sandbox.stop()
  }
  for (const [options, field] of [[{ port: 70000 }, 'port'], [{ settleDelay: 1 }, 'settleDelay'], [{ host: 'nowhere' }, 'host']]) {
    const error = await startSandbox(options).catch((e) => e)
    assert.ok(error instanceof ConfigurationError, String(error))
    assert.equal(error.field, field)
  }
})

test('DEBUG=pockyt-payouts writes the core\'s events to stderr, never the token', async () => {
  const sandbox = await startSandbox()
  try {
    const script = `
      const { Client } = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
      const client = new Client(${JSON.stringify({ merchantNo: sandbox.merchantNo, storeNo: sandbox.storeNo, apiToken: sandbox.apiToken, baseUrl: sandbox.baseUrl })})
      client.balance({ currency: 'USD' }).then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
    `
    const run = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, DEBUG: 'pockyt-payouts' }, encoding: 'utf8', timeout: 60000 })
    assert.equal(run.status, 0, run.stderr)
    assert.match(run.stderr, /pockyt-payouts debug sending operation=balance/)
    assert.match(run.stderr, /pockyt-payouts debug answered/)
    assert.ok(!run.stderr.includes(sandbox.apiToken))
    const quiet = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, DEBUG: '' }, encoding: 'utf8', timeout: 60000 })
    assert.equal(quiet.status, 0, quiet.stderr)
    assert.ok(!quiet.stderr.includes('pockyt-payouts debug'))
  } finally {
    await sandbox.stop()
  }
})

test('state-changing calls take an idempotency key; deleting an account unlists it', async () => {
  const sandbox = await startSandbox()
  try {
    const client = sandbox.client()
    const params = { profileType: 'INDIVIDUAL', dateOfBirth: '1990-05-17', customerCode: 'node-idem-1' }
    const first = await client.registerPayee(params, { idempotencyKey: 'node-payee-1' })
    const again = await client.registerPayee(params, { idempotencyKey: 'node-payee-1' })
    assert.equal(again.customerNo, first.customerNo)
    assert.equal(sandbox.state().payees.filter((p) => p.customerCode === 'node-idem-1').length, 1)
    const refused = await client.registerPayee(params, { idempotencyKey: 'not a key' }).catch((e) => e)
    assert.equal(refused.code, 'INVALID_REQUEST')
    assert.equal(refused.field, 'idempotencyKey')

    const account = await client.addBankAccount({ customerNo: first.customerNo, bankAccountId: '7861053298', branchId: '101089292', bankAccountPurpose: 'CHECKING' })
    const deleted = await client.deletePayoutAccount({ customerNo: first.customerNo, accountToken: account.accountToken })
    assert.equal(deleted.ret_code, '000100')
    assert.deepEqual((await client.listPayoutAccounts({ customerNo: first.customerNo })).accounts, [])
    const pay = await client.pay({ customerNo: first.customerNo, accountToken: account.accountToken, amount: '1.00', currency: 'USD', invoiceId: 'node-deleted' }).catch((e) => e)
    assert.ok(pay instanceof NoRelatedInformationError, String(pay))
  } finally {
    await sandbox.stop()
  }
})

test('the signed raw request reaches unmodelled paths with the same errors', async () => {
  const sandbox = await startSandbox()
  try {
    const client = sandbox.client()
    const answer = await client.request('/v3/payouts/balance', { currency: 'USD' })
    assert.equal(answer.ret_code, '000100')
    assert.equal(answer.balance.amount, '1000000.00')
    const refused = await client.request('/v3/payee/retrieve', { customerNo: '0' }).catch((e) => e)
    assert.ok(refused instanceof NoRelatedInformationError)
    const bad = await client.request('/v2/elsewhere', {}).catch((e) => e)
    assert.equal(bad.code, 'INVALID_REQUEST')
    assert.equal(bad.field, 'path')
    const envelope = await client.request('/v3/payouts/balance', { verifySign: '00' }).catch((e) => e)
    assert.equal(envelope.field, 'verifySign')
  } finally {
    await sandbox.stop()
  }
})
