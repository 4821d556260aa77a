// The package loads through require and through import (package.json
// "exports"), and both give the very same classes.
const { test } = require('node:test')
const assert = require('node:assert/strict')

const names = [
  'Client',
  'sign',
  'verifyIpn',
  'constructEvent',
  'eventFromFields',
  'PockytError',
  'InvalidRequestError',
  'ConfigurationError',
  'ApiError',
  'ApiSystemError',
  'ParameterNullError',
  'NoRelatedInformationError',
  'ParametersMismatchError',
  'ParameterValueError',
  'AccessDeniedError',
  'InsufficientBalanceError',
  'SupplierSystemError',
  'NetworkError',
  'PockytTimeoutError',
  'HttpError',
  'DecodeError',
  'PayoutOutcomeUnknownError',
  'WebhookError',
]

test('require and import load the same API', async () => {
  const required = require('pockyt-payouts')
  const imported = await import('pockyt-payouts')
  for (const name of names) {
    assert.equal(typeof required[name], 'function', `require: ${name}`)
    assert.equal(imported[name], required[name], `import: ${name}`)
  }
  assert.equal(imported.default, required)
  assert.deepEqual(Object.keys(required).sort(), [...names].sort())
})

test('require and import load the testing entry point', async () => {
  const required = require('pockyt-payouts/testing')
  const imported = await import('pockyt-payouts/testing')
  assert.equal(typeof required.startSandbox, 'function')
  assert.equal(imported.startSandbox, required.startSandbox)
  const sandbox = await required.startSandbox({ merchantNo: '100001', storeNo: '200002', apiToken: 'cjs-token' })
  try {
    assert.match(sandbox.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(sandbox.merchantNo, '100001')
    const client = sandbox.client()
    assert.ok(client instanceof require('pockyt-payouts').Client)
    assert.ok(client instanceof (await import('pockyt-payouts')).Client)
    const balance = await client.balance({ currency: 'USD' })
    assert.deepEqual(balance, { currency: 'USD', amount: '1000000.00' })
  } finally {
    await sandbox.stop()
  }
})

test('require and import load the webhook entry points', async () => {
  for (const [entry, names] of [
    ['pockyt-payouts/webhooks', ['constructEvent', 'eventFromFields', 'dedupKey', 'replyFor', 'MemoryEventStore', 'Webhook', 'WebhookError']],
    ['pockyt-payouts/express', ['payoutWebhook']],
    ['pockyt-payouts/fastify', ['payoutWebhook']],
  ]) {
    const required = require(entry)
    const imported = await import(entry)
    for (const name of names) {
      assert.equal(typeof required[name], 'function', `${entry}: ${name}`)
      assert.equal(imported[name], required[name], `${entry} import: ${name}`)
    }
  }
  const root = require('pockyt-payouts')
  const webhooks = require('pockyt-payouts/webhooks')
  assert.equal(webhooks.WebhookError, root.WebhookError)
  assert.equal(webhooks.constructEvent, root.constructEvent)
})

test('error classes form one hierarchy', () => {
  const p = require('pockyt-payouts')
  for (const name of names.filter((n) => n.endsWith('Error') && n !== 'PockytError')) {
    assert.ok(p[name].prototype instanceof p.PockytError, name)
    assert.ok(p[name].prototype instanceof Error, name)
  }
  for (const name of [
    'ApiSystemError',
    'ParameterNullError',
    'NoRelatedInformationError',
    'ParametersMismatchError',
    'ParameterValueError',
    'AccessDeniedError',
    'InsufficientBalanceError',
    'SupplierSystemError',
  ]) {
    assert.ok(p[name].prototype instanceof p.ApiError, name)
  }
  assert.notEqual(p.PockytTimeoutError.name, 'TimeoutError')
})

test('startSandbox refuses bad options with ConfigurationError', async () => {
  const { startSandbox } = require('pockyt-payouts/testing')
  const { ConfigurationError } = require('pockyt-payouts')
  for (const [options, field] of [
    [{ port: 70000 }, 'port'],
    [{ settleDelayMs: -1 }, 'settleDelayMs'],
    [{ balances: { usd: '1.00' } }, 'balances'],
    [{ colour: 'blue' }, 'colour'],
  ]) {
    await assert.rejects(startSandbox(options), (error) => {
      assert.ok(error instanceof ConfigurationError, `${error.name}: ${error.message}`)
      assert.equal(error.field, field)
      return true
    })
  }
})
