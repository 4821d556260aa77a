// Every error code and class: through the sandbox where it can produce
// the failure, and through a scripted local server for the ret_codes the
// client's own validation keeps the sandbox from answering.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import * as pockyt from 'pockyt-payouts'
import { startSandbox } from 'pockyt-payouts/testing'
import { admin, payeeWithAccount, invoiceId, startScriptedServer } from './helpers.mjs'

const {
  Client,
  PockytError,
  ApiError,
  AccessDeniedError,
  NoRelatedInformationError,
  InsufficientBalanceError,
  ParametersMismatchError,
  SupplierSystemError,
  ApiSystemError,
  HttpError,
  DecodeError,
  PockytTimeoutError,
  NetworkError,
  PayoutOutcomeUnknownError,
} = pockyt

let sandbox
let client

before(async () => {
  sandbox = await startSandbox({ settleDelayMs: 60000 })
  client = sandbox.client({ maxRetries: 0 })
})

after(async () => {
  await sandbox.stop()
})

/** Asserts a rejection's class, code and (for API errors) retCode. */
function expectError(Class, code, extra = () => {}) {
  return (error) => {
    assert.ok(error instanceof Class, `${error?.name}: ${error?.message} is not a ${Class.name}`)
    assert.ok(error instanceof PockytError)
    assert.ok(error instanceof Error)
    assert.equal(error.name, Class.name)
    assert.equal(error.code, code)
    assert.equal(typeof error.message, 'string')
    assert.ok(error.stack.includes(Class.name))
    extra(error)
    return true
  }
}

test('a wrong API token is refused with AccessDeniedError (000030)', async () => {
  const wrong = sandbox.client({ apiToken: 'not-the-sandbox-token' })
  await assert.rejects(
    wrong.balance({ currency: 'USD' }),
    expectError(AccessDeniedError, '000030', (error) => {
      assert.ok(error instanceof ApiError)
      assert.equal(error.retCode, '000030')
      assert.equal(error.operation, 'balance')
      assert.equal(typeof error.retMsg, 'string')
      assert.ok(!error.message.includes('not-the-sandbox-token'))
    }),
  )
})

test('an unknown customer is NoRelatedInformationError (000021)', async () => {
  await assert.rejects(
    client.retrievePayee({ customerNo: '2000000000000000000000' }),
    expectError(NoRelatedInformationError, '000021', (error) => assert.equal(error.retCode, '000021')),
  )
  await assert.rejects(
    client.listPayoutAccounts({ customerNo: '2000000000000000000000' }),
    expectError(NoRelatedInformationError, '000021'),
  )
})

test('a low balance is InsufficientBalanceError (000040)', async () => {
  const { customerNo, accountToken } = await payeeWithAccount(client)
  await admin(sandbox, 'balances', { USD: '10.00' })
  try {
    await assert.rejects(
      client.pay({ customerNo, accountToken, amount: '10.01', currency: 'USD', invoiceId: invoiceId() }),
      expectError(InsufficientBalanceError, '000040', (error) => assert.equal(error.operation, 'pay')),
    )
    assert.equal(sandbox.balance('USD'), '10.00')
  } finally {
    await admin(sandbox, 'balances', { USD: '1000000.00' })
  }
})

test("paying another payee's account is ParametersMismatchError (000022)", async () => {
  const first = await payeeWithAccount(client, 'First')
  const second = await payeeWithAccount(client, 'Second')
  await assert.rejects(
    client.pay({
      customerNo: first.customerNo,
      accountToken: second.accountToken,
      amount: '1.00',
      currency: 'USD',
      invoiceId: invoiceId(),
    }),
    expectError(ParametersMismatchError, '000022'),
  )
})

test('fault ret_000080 is SupplierSystemError; ret_000000 is ApiSystemError', async () => {
  await admin(sandbox, 'faults', { operation: 'balance', fault: 'ret_000080' })
  await assert.rejects(client.balance({ currency: 'USD' }), expectError(SupplierSystemError, '000080'))
  await admin(sandbox, 'faults', { operation: 'balance', fault: 'ret_000000' })
  await assert.rejects(client.balance({ currency: 'USD' }), expectError(ApiSystemError, '000000'))
})

test('fault http_503 is HttpError with the status', async () => {
  await admin(sandbox, 'faults', { operation: 'retrieve_payee', fault: 'http_503' })
  await assert.rejects(
    client.retrievePayee({ customerNo: '2000000000000000000000' }),
    expectError(HttpError, 'HTTP_ERROR', (error) => {
      assert.equal(error.status, 503)
      assert.equal(error.mayHaveBeenReceived, true)
    }),
  )
})

test('fault malformed is DecodeError', async () => {
  await admin(sandbox, 'faults', { operation: 'balance', fault: 'malformed' })
  await assert.rejects(
    client.balance({ currency: 'USD' }),
    expectError(DecodeError, 'DECODE_ERROR', (error) => assert.equal(error.status, 200)),
  )
})

test('a slow answer past timeoutMs is PockytTimeoutError', async () => {
  await admin(sandbox, 'faults', { operation: 'balance', fault: 'delay=2000' })
  await assert.rejects(
    client.balance({ currency: 'USD' }, { timeoutMs: 100 }),
    expectError(PockytTimeoutError, 'TIMEOUT', (error) => {
      assert.equal(error.timeoutMs, 100)
      assert.match(error.message, /^POST \/v3\/payouts\/balance timed out after 100 ms/)
      assert.equal(error.operation, 'balance')
      assert.equal(error.mayHaveBeenReceived, true)
    }),
  )
  const fast = sandbox.client({ maxRetries: 0, timeoutMs: 100 })
  await admin(sandbox, 'faults', { operation: 'balance', fault: 'delay=2000' })
  await assert.rejects(fast.balance({ currency: 'USD' }), expectError(PockytTimeoutError, 'TIMEOUT'))
})

test('a refused connection is NetworkError, known not to have been sent', async () => {
  const gone = await startSandbox()
  const unreachable = gone.client({ maxRetries: 0 })
  await gone.stop()
  await assert.rejects(
    unreachable.balance({ currency: 'USD' }),
    expectError(NetworkError, 'NETWORK_ERROR', (error) => assert.equal(error.mayHaveBeenReceived, false)),
  )
})

test('a pay whose outcome cannot be established is PayoutOutcomeUnknownError', async () => {
  const { customerNo, accountToken } = await payeeWithAccount(client)
  const invoice = invoiceId()
  await admin(sandbox, 'faults', { operation: 'pay', fault: 'drop' })
  // The inquiry stays down for as long as the client keeps inquiring while
  // the dropped pay may land (twice its per-attempt timeout).
  await admin(sandbox, 'faults', { operation: 'inquire_payout', fault: 'http_503', times: 1000 })
  const impatient = sandbox.client({ timeoutMs: 300 })
  try {
    await assert.rejects(
      impatient.pay({ customerNo, accountToken, amount: '2.00', currency: 'USD', invoiceId: invoice }),
      expectError(PayoutOutcomeUnknownError, 'PAYOUT_OUTCOME_UNKNOWN', (error) => {
        assert.equal(error.invoiceId, invoice)
        assert.equal(error.mayHaveBeenReceived, true)
        assert.ok(error.cause instanceof PockytError, 'cause is a PockytError')
        assert.ok(error.message.includes(`look the payout up later by invoiceId "${invoice}"`), error.message)
      }),
    )
  } finally {
    await admin(sandbox, 'faults', undefined, 'DELETE')
  }
  // The payout did happen: reconciling by invoiceId finds it, once.
  const found = await client.inquirePayout({ invoiceId: invoice })
  assert.equal(found.invoiceId, invoice)
  assert.equal(sandbox.payouts().filter((p) => p.invoiceId === invoice).length, 1)
})

test('a dropped pay answer is reconciled by inquiry: one payout, no error', async () => {
  const { customerNo, accountToken } = await payeeWithAccount(client)
  const invoice = invoiceId()
  await admin(sandbox, 'faults', { operation: 'pay', fault: 'drop' })
  const payout = await client.pay({ customerNo, accountToken, amount: '4.00', currency: 'USD', invoiceId: invoice })
  assert.equal(payout.invoiceId, invoice)
  assert.equal(sandbox.payouts().filter((p) => p.invoiceId === invoice).length, 1)
})

test('every ret_code maps to its class (scripted server)', async () => {
  const table = [
    ['000000', ApiSystemError],
    ['000020', pockyt.ParameterNullError],
    ['000021', NoRelatedInformationError],
    ['000022', ParametersMismatchError],
    ['000023', pockyt.ParameterValueError],
    ['000030', AccessDeniedError],
    ['000040', InsufficientBalanceError],
    ['000080', SupplierSystemError],
    ['000099', ApiError],
  ]
  let retCode = '000000'
  const server = await startScriptedServer(() => ({ body: { ret_code: retCode, ret_msg: `message ${retCode}` } }))
  try {
    const scripted = new Client({
      merchantNo: '202333',
      storeNo: '301854',
      apiToken: 'test-token',
      baseUrl: server.baseUrl,
      maxRetries: 0,
    })
    for (const [code, Class] of table) {
      retCode = code
      await assert.rejects(
        scripted.registerPayee({ profileType: 'INDIVIDUAL', dateOfBirth: '1990-01-01' }),
        expectError(Class, code, (error) => {
          assert.equal(error.retCode, code)
          assert.equal(error.retMsg, `message ${code}`)
          assert.equal(error.operation, 'registerPayee')
          assert.ok(error.message.startsWith(`POST /v3/payee/register refused with ret_code ${code}`), error.message)
          assert.ok(error.message.endsWith(`: message ${code}`), error.message)
        }),
      )
    }
    // register is never sent twice, whatever the answer.
    assert.equal(server.requests.length, table.length)
  } finally {
    await server.close()
  }
})
