// Bad input is refused before anything is sent, with an InvalidRequestError
// naming the field and the rule; bad configuration with ConfigurationError.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { Client, InvalidRequestError, ConfigurationError, PockytError } from 'pockyt-payouts'
import { startScriptedServer } from './helpers.mjs'

let server
let client

before(async () => {
  server = await startScriptedServer(() => ({ body: { ret_code: '000100', balance: { currency: 'USD', amount: '1.00' } } }))
  client = new Client({ merchantNo: '202333', storeNo: '301854', apiToken: 'test-token', baseUrl: server.baseUrl })
})

after(async () => {
  await server.close()
})

const pay = {
  customerNo: '2000305228292319592008',
  accountToken: '2010305228303182765718',
  amount: '500.00',
  currency: 'USD',
  invoiceId: 'inv-1',
}

function invalid(field, rule) {
  return (error) => {
    assert.ok(error instanceof InvalidRequestError, `${error?.name}: ${error?.message}`)
    assert.ok(error instanceof PockytError)
    assert.equal(error.code, 'INVALID_REQUEST')
    assert.equal(error.field, field)
    assert.equal(error.mayHaveBeenReceived, false)
    assert.ok(error.message.includes(field), error.message)
    assert.match(error.message, rule)
    return true
  }
}

test('each rule names its field, and nothing is sent', async () => {
  const cases = [
    ['pay', { ...pay, amount: '-5' }, 'amount', /positive decimal/],
    ['pay', { ...pay, amount: '1,000' }, 'amount', /positive decimal/],
    ['pay', { ...pay, amount: '0.00' }, 'amount', /greater than zero/],
    ['pay', { ...pay, currency: 'usd' }, 'currency', /three uppercase letters/],
    ['pay', { ...pay, customerNo: undefined }, 'customerNo', /required/],
    ['pay', { ...pay, invoiceId: 'x'.repeat(65) }, 'invoiceId', /1 to 64 characters/],
    ['pay', { ...pay, ipnUrl: 'ftp://example.com' }, 'ipnUrl', /http/],
    ['pay', { ...pay, processingChannel: 'CARRIER_PIGEON' }, 'processingChannel', /STANDARD_ACH/],
    ['pay', { ...pay, amount: 500 }, 'amount', /must be a string/],
    ['pay', { ...pay, merchantNo: '202333' }, 'merchantNo', /signing layer/],
    ['pay', { ...pay, amountt: '5' }, 'amountt', /not a parameter/],
    ['registerPayee', { profileType: 'INDIVIDUAL', dateOfBirth: '1999-02-29' }, 'dateOfBirth', /real date/],
    ['registerPayee', { profileType: 'ROBOT', dateOfBirth: '1999-01-01' }, 'profileType', /INDIVIDUAL/],
    ['registerPayee', { profileType: 'INDIVIDUAL', dateOfBirth: '1999-01-01', email: 'nope' }, 'email', /email/],
    ['registerPayee', { profileType: 'INDIVIDUAL' }, 'dateOfBirth', /required/],
    ['updatePayee', { customerNo: ' ' }, 'customerNo', /required/],
    ['retrievePayee', {}, 'customerNo', /required/],
    [
      'addBankAccount',
      { customerNo: 'c', bankAccountId: '7861053298', branchId: '101089293', bankAccountPurpose: 'CHECKING' },
      'branchId',
      /checksum/,
    ],
    [
      'addBankAccount',
      { customerNo: 'c', bankAccountId: '12', branchId: '101089292', bankAccountPurpose: 'CHECKING' },
      'bankAccountId',
      /4 to 17 digits/,
    ],
    ['listPayoutAccounts', { customerNo: '' }, 'customerNo', /required/],
    ['inquirePayout', { invoiceId: '' }, 'invoiceId', /1 to 64/],
    ['balance', { currency: 'DOLLARS' }, 'currency', /three uppercase/],
    ['balance', undefined, 'params', /object/],
    ['balance', 'USD', 'params', /object/],
    // JSON cannot hold a BigInt: the value itself goes to the addon, which
    // refuses it as it refuses any value that is not a string...
    ['balance', { currency: 5n }, 'currency', /must be a string/],
    // Nor one that JSON would change (a Date becomes its text): refused as
    // the value it is, never sent as something else.
    ['balance', { currency: new Date(0) }, 'currency', /must be a string/],
  ]
  for (const [operation, params, field, rule] of cases) {
    await assert.rejects(client[operation](params), invalid(field, rule), `${operation} ${inspect(params)}`)
  }
  assert.equal(server.requests.length, 0)
})

test('a bad per-call option is a ConfigurationError naming it, before sending (one code for every setting)', async () => {
  for (const timeoutMs of [0, 'soon', Number.NaN, Infinity, -5]) {
    await assert.rejects(client.balance({ currency: 'USD' }, { timeoutMs }), badConfig('timeoutMs'))
  }
  await assert.rejects(client.balance({ currency: 'USD' }, { deadlineMs: 0 }), badConfig('deadlineMs'))
  // Unknown per-call options are refused, not ignored.
  await assert.rejects(client.balance({ currency: 'USD' }, { timeout: 1 }), badConfig('timeout'))
  assert.equal(server.requests.length, 0)
})

test('unknown and out-of-range client options name the option as Node spells it', () => {
  const good = { merchantNo: '202333', storeNo: '301854', apiToken: 'test-token' }
  assert.throws(() => new Client({ ...good, timeout: 5 }), badConfig('timeout'))
  assert.throws(() => new Client({ ...good, maxRetries: 11 }), badConfig('maxRetries'))
  assert.throws(() => new Client({ ...good, maxResponseBytes: 10 }), badConfig('maxResponseBytes'))
  assert.throws(() => new Client({ ...good, maxConnections: 0 }), badConfig('maxConnections'))
  assert.throws(() => new Client({ ...good, maxConnections: 10001 }), badConfig('maxConnections'))
  assert.ok(new Client({ ...good, maxConnections: 1 }))
  assert.throws(() => new Client({ ...good, apiToken: 'short' }), badConfig('apiToken'))
})

test('valid input is sent, signed, with the wire names as given', async () => {
  const balance = await client.balance({ currency: 'USD' }, { timeoutMs: 5000 })
  assert.deepEqual(balance, { currency: 'USD', amount: '1.00' })
  const sent = JSON.parse(server.requests.at(-1).body)
  assert.equal(server.requests.at(-1).url, '/v3/payouts/balance')
  assert.equal(sent.currency, 'USD')
  assert.equal(sent.merchantNo, '202333')
  assert.equal(sent.storeNo, '301854')
  assert.match(sent.verifySign, /^[0-9a-f]{32}$/)
  assert.match(sent.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
})

function badConfig(field) {
  return (error) => {
    assert.ok(error instanceof ConfigurationError, `${error?.name}: ${error?.message}`)
    assert.equal(error.code, 'INVALID_CONFIG')
    assert.equal(error.field, field)
    assert.ok(error.message.includes(field), error.message)
    return true
  }
}

test('bad client options throw ConfigurationError naming the option', () => {
  const good = { merchantNo: '202333', storeNo: '301854', apiToken: 'test-token' }
  assert.throws(() => new Client({ ...good, merchantNo: '' }), badConfig('merchantNo'))
  assert.throws(() => new Client({ storeNo: '1', apiToken: 't' }), badConfig('merchantNo'))
  assert.throws(() => new Client({ ...good, apiToken: undefined }), badConfig('apiToken'))
  assert.throws(() => new Client({ ...good, environment: 'live' }), badConfig('environment'))
  assert.throws(() => new Client({ ...good, baseUrl: 'localhost:8080' }), badConfig('baseUrl'))
  assert.throws(() => new Client({ ...good, timeoutMs: -1 }), badConfig('timeoutMs'))
  assert.throws(() => new Client({ ...good, connectTimeoutMs: 0 }), badConfig('connectTimeoutMs'))
  assert.throws(() => new Client({ ...good, maxRetries: 1.5 }), badConfig('maxRetries'))
  assert.throws(() => new Client({ ...good, maxRetries: 11 }), badConfig('maxRetries'))
  assert.throws(() => new Client({ ...good, apiKey: 'x' }), badConfig('apiKey'))
  assert.throws(() => new Client({ ...good, storeNo: 301854 }), badConfig('storeNo'))
  assert.throws(() => new Client(), badConfig('options'))
  assert.equal(new Client({ ...good, environment: 'production' }).baseUrl, 'https://mapi.yuansfer.com')
  assert.equal(new Client(good).baseUrl, 'https://mapi.yuansfer.yunkeguan.com')
  assert.equal(new Client({ ...good, timeoutMs: 1500 }).timeoutMs, 1500)
})

test('Client.fromEnv reads POCKYT_* and names a missing variable', () => {
  const names = ['POCKYT_MERCHANT_NO', 'POCKYT_STORE_NO', 'POCKYT_API_TOKEN', 'POCKYT_ENV', 'POCKYT_BASE_URL']
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]))
  try {
    for (const name of names) delete process.env[name]
    assert.throws(() => Client.fromEnv(), badConfig('POCKYT_MERCHANT_NO'))
    process.env.POCKYT_MERCHANT_NO = '202333'
    process.env.POCKYT_STORE_NO = '301854'
    process.env.POCKYT_API_TOKEN = 'env-token'
    process.env.POCKYT_ENV = 'production'
    const production = Client.fromEnv()
    assert.equal(production.baseUrl, 'https://mapi.yuansfer.com')
    assert.equal(production.merchantNo, '202333')
    assert.equal(production.storeNo, '301854')
    process.env.POCKYT_BASE_URL = 'http://127.0.0.1:9/'
    assert.equal(Client.fromEnv().baseUrl, 'http://127.0.0.1:9')
    process.env.POCKYT_ENV = 'staging'
    assert.throws(() => Client.fromEnv(), badConfig('POCKYT_ENV'))
  } finally {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name]
      else process.env[name] = saved[name]
    }
  }
})
