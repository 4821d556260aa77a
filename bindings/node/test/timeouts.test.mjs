// Per-call timeouts: `{ timeoutMs, connectTimeoutMs }` as the second
// argument of every method overrides the client's settings for that call
// only. A per-call connectTimeoutMs goes through the Rust client's
// `with_connect_timeout` (one pool per distinct value); a value that is not
// a positive number of milliseconds is refused there, with
// ConfigurationError, before anything is sent.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import net from 'node:net'
import { once } from 'node:events'
import { Client, ConfigurationError, NetworkError, PockytError, PockytTimeoutError } from 'pockyt-payouts'
import { startSandbox } from 'pockyt-payouts/testing'
import { startScriptedServer } from './helpers.mjs'

let sandbox
let scripted

before(async () => {
  sandbox = await startSandbox({ settleDelayMs: 50, balances: { USD: '1000.00' } })
  scripted = await startScriptedServer(() => ({ body: { ret_code: '000100', ret_msg: 'success' } }))
})

after(async () => {
  await sandbox.stop()
  await scripted.close()
})

const customerNo = '2000305228292319592008'

// Every method, with parameters the Rust core accepts.
const calls = [
  ['registerPayee', { profileType: 'INDIVIDUAL', dateOfBirth: '1999-01-01' }],
  ['retrievePayee', { customerNo }],
  ['updatePayee', { customerNo, firstName: 'Ada' }],
  ['addBankAccount', { customerNo, bankAccountId: '7861053298', branchId: '101089292', bankAccountPurpose: 'CHECKING' }],
  ['listPayoutAccounts', { customerNo }],
  ['pay', { customerNo, accountToken: '2010305228303182765718', amount: '500', currency: 'USD', invoiceId: 'inv-1' }],
  ['inquirePayout', { invoiceId: 'inv-1' }],
  ['balance', { currency: 'USD' }],
]

// Not a positive number of milliseconds (1e-9 ms rounds to a zero duration).
const badConnectTimeouts = [0, -1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-9, 1e13, 'soon', '100', true, {}]

function badConnectTimeout(error) {
  assert.ok(error instanceof ConfigurationError, `${error?.name}: ${error?.message}`)
  assert.ok(error instanceof PockytError)
  assert.equal(error.code, 'INVALID_CONFIG')
  assert.equal(error.field, 'connectTimeoutMs')
  assert.equal(error.mayHaveBeenReceived, false)
  assert.ok(error.message.includes('connectTimeoutMs'), error.message)
  return true
}

test('every method takes { connectTimeoutMs } and { timeoutMs, connectTimeoutMs }', async () => {
  const client = sandbox.client({ maxRetries: 0 })
  const payee = await client.registerPayee(
    { profileType: 'INDIVIDUAL', dateOfBirth: '1990-05-17' },
    { timeoutMs: 20_000, connectTimeoutMs: 2_500 },
  )
  const { customerNo } = payee
  assert.ok(customerNo)
  assert.equal((await client.retrievePayee({ customerNo }, { connectTimeoutMs: 2_500 })).customerNo, customerNo)
  await client.updatePayee({ customerNo, firstName: 'Ada' }, { timeoutMs: 20_000, connectTimeoutMs: 3_000 })
  const account = await client.addBankAccount(
    { customerNo, bankAccountId: '7861053298', branchId: '101089292', bankAccountPurpose: 'CHECKING' },
    { connectTimeoutMs: 2_500 },
  )
  assert.ok(account.accountToken)
  const list = await client.listPayoutAccounts({ customerNo }, { timeoutMs: 20_000, connectTimeoutMs: 2_500 })
  assert.deepEqual(
    list.accounts.map((a) => a.accountToken),
    [account.accountToken],
  )
  const payout = await client.pay(
    { customerNo, accountToken: account.accountToken, amount: '5.00', currency: 'USD', invoiceId: 'inv-connect-timeout' },
    { timeoutMs: 20_000, connectTimeoutMs: 500 },
  )
  assert.equal(payout.invoiceId, 'inv-connect-timeout')
  const found = await client.inquirePayout({ invoiceId: 'inv-connect-timeout' }, { connectTimeoutMs: 10_000 })
  assert.equal(found.transactionNo, payout.transactionNo)
  const balance = await client.balance({ currency: 'USD' }, { timeoutMs: 20_000, connectTimeoutMs: 1_000 })
  assert.equal(balance.currency, 'USD')
  // null and undefined mean "the client's own".
  await client.balance({ currency: 'USD' }, { timeoutMs: null, connectTimeoutMs: undefined })
  await client.balance({ currency: 'USD' }, { connectTimeoutMs: null })
  // The overrides were for those calls only.
  assert.equal(client.timeoutMs, 30_000)
  assert.deepEqual(
    sandbox.payouts().map((p) => p.invoiceId),
    ['inv-connect-timeout'],
  )
})

test('concurrent calls with several connect timeouts (one pool per value)', async () => {
  const client = sandbox.client({ maxRetries: 0, connectTimeoutMs: 4_000 })
  const values = [1_000, 2_000, 1_000, 4_000, 2_000, 1_000, undefined, 1_500, 1_500]
  const balances = await Promise.all(
    values.map((connectTimeoutMs) => client.balance({ currency: 'USD' }, { connectTimeoutMs })),
  )
  assert.deepEqual(
    balances.map((b) => b.currency),
    values.map(() => 'USD'),
  )
})

test('a bad per-call connectTimeoutMs is refused with ConfigurationError, and nothing is sent', async () => {
  const client = new Client({ merchantNo: '202333', storeNo: '301854', apiToken: 'test-token', baseUrl: scripted.baseUrl })
  for (const [operation, params] of calls) {
    for (const connectTimeoutMs of badConnectTimeouts) {
      await assert.rejects(
        client[operation](params, { connectTimeoutMs }),
        badConnectTimeout,
        `${operation} with connectTimeoutMs ${String(connectTimeoutMs)}`,
      )
      await assert.rejects(
        client[operation](params, { timeoutMs: 5_000, connectTimeoutMs }),
        badConnectTimeout,
        `${operation} with timeoutMs and connectTimeoutMs ${String(connectTimeoutMs)}`,
      )
    }
  }
  assert.equal(scripted.requests.length, 0)
  // The client itself is unchanged and still works.
  await client.updatePayee({ customerNo }, { connectTimeoutMs: 5_000 })
  assert.equal(scripted.requests.length, 1)
})

/**
 * A port whose listen queue is full: the process listening on it is busy
 * forever and never accepts, so once the queue holds its fill a new
 * connection attempt is neither accepted nor refused (Linux drops the SYN)
 * and only a connect timeout ends it.
 */
async function unansweredPort() {
  const script = `
    const server = require('node:net').createServer()
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(server.address().port + '\\n')
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
    })`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await once(child.stdout, 'data')
  const port = Number(String(line).trim())
  const fillers = []
  // Fill the queue: connect until a connection is no longer accepted.
  for (let i = 0; i < 16; i += 1) {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    fillers.push(socket)
    const connected = await Promise.race([
      once(socket, 'connect').then(() => true),
      new Promise((resolve) => setTimeout(resolve, 300, false)),
    ])
    if (!connected) break
  }
  return {
    port,
    close() {
      for (const socket of fillers) socket.destroy()
      child.kill('SIGKILL')
    },
  }
}

test(
  'a per-call connectTimeoutMs bounds the connection',
  { skip: process.platform !== 'linux' && 'relies on Linux dropping SYNs to a full listen queue', timeout: 60_000 },
  async () => {
    const unanswered = await unansweredPort()
    try {
      const client = new Client({
        merchantNo: '202333',
        storeNo: '301854',
        apiToken: 'test-token',
        baseUrl: `http://127.0.0.1:${unanswered.port}`,
        timeoutMs: 30_000,
        connectTimeoutMs: 30_000,
        maxRetries: 0,
      })
      // With the client's 30 s connect timeout, the 1 s total timeout ends
      // the attempt first.
      await assert.rejects(client.balance({ currency: 'USD' }, { timeoutMs: 1_000 }), PockytTimeoutError)
      // With 200 ms to connect, the connection attempt fails first: a
      // network error, and nothing reached the server.
      await assert.rejects(
        client.balance({ currency: 'USD' }, { timeoutMs: 20_000, connectTimeoutMs: 200 }),
        (error) => {
          assert.ok(error instanceof NetworkError, `${error?.name}: ${error?.message}`)
          assert.equal(error.mayHaveBeenReceived, false)
          return true
        },
      )
    } finally {
      unanswered.close()
    }
  },
)
