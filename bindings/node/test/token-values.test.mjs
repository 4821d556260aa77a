// An API token given as something other than a string (a Buffer, number,
// object, ...) is refused before it reaches the addon, whose conversion
// errors print the value: the error names `apiToken` and never shows it,
// not in its message, its stack nor any property.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import util from 'node:util'
import { Client, sign, verifyIpn, InvalidRequestError, ConfigurationError } from 'pockyt-payouts'
import { startSandbox } from 'pockyt-payouts/testing'

const SECRET = 'tok-7f3e9a1c-super-secret'
const bytes = Buffer.from(SECRET)

// Each non-string token with the texts that would give it away: the
// secret itself and its bytes as napi, JSON or inspect would print them.
const byteViews = [SECRET, bytes.toString('hex'), bytes.toString('base64'), [...bytes].join(','), [...bytes].join(', ')]
const TOKENS = [
  ['Buffer', Buffer.from(SECRET), byteViews],
  ['Uint8Array', new TextEncoder().encode(SECRET), byteViews],
  ['number', 424242424242, ['424242424242']],
  ['bigint', 987654321987654321n, ['987654321987654321']],
  ['object', { secret: SECRET }, [SECRET]],
  ['array', [SECRET], [SECRET]],
  ['String object', new String(SECRET), [SECRET]],
  ['Symbol', Symbol(SECRET), [SECRET]],
  ['function', function tok_7f3e9a1c_secret() {}, ['tok_7f3e9a1c_secret']],
  ['boolean', true, []],
]

/** Every text `error` shows: message, stack, inspect, JSON, and each own property, down the cause chain. */
function texts(error, seen = new Set()) {
  if (error === null || typeof error !== 'object' || seen.has(error)) return []
  seen.add(error)
  const out = [
    String(error.message),
    String(error.stack),
    util.inspect(error, { showHidden: true, depth: Infinity, getters: true }),
    JSON.stringify(error) ?? '',
  ]
  for (const key of Reflect.ownKeys(error)) {
    const value = error[key]
    out.push(String(key), typeof value === 'string' ? value : util.inspect(value, { showHidden: true, depth: Infinity }))
  }
  out.push(...texts(error.cause, seen))
  return out
}

function assertHidden(error, needles, label) {
  for (const text of texts(error)) {
    for (const needle of needles) {
      assert.ok(!text.includes(needle), `${label}: the error shows ${JSON.stringify(needle)}: ${text}`)
    }
  }
}

function refusedRequest(label, needles) {
  return (error) => {
    assert.ok(error instanceof InvalidRequestError, `${label}: ${error?.name}: ${error?.message}`)
    assert.equal(error.code, 'INVALID_REQUEST')
    assert.equal(error.field, 'apiToken')
    assert.equal(error.message, 'apiToken must be a string')
    assert.equal(error.mayHaveBeenReceived, false)
    assertHidden(error, needles, label)
    return true
  }
}

function refusedConfig(label, needles) {
  return (error) => {
    assert.ok(error instanceof ConfigurationError, `${label}: ${error?.name}: ${error?.message}`)
    assert.equal(error.code, 'INVALID_CONFIG')
    assert.equal(error.field, 'apiToken')
    assert.match(error.message, /apiToken must be a string/)
    assertHidden(error, needles, label)
    return true
  }
}

test('sign and verifyIpn refuse a token that is not a string, never showing it', () => {
  const fields = { merchantNo: '202333', amount: '1.00' }
  for (const [kind, token, needles] of TOKENS) {
    assert.throws(() => sign(fields, token), refusedRequest(`sign, ${kind}`, needles))
    const ipns = [['fields', fields], ['body', 'amount=1.00'], ['Buffer body', Buffer.from('amount=1.00')], ['URLSearchParams', new URLSearchParams('amount=1.00')]]
    for (const [shape, ipn] of ipns) {
      assert.throws(() => verifyIpn(ipn, token), refusedRequest(`verifyIpn(${shape}), ${kind}`, needles))
    }
  }
  assert.throws(() => sign(fields), refusedRequest('sign, no token', []))
  assert.throws(() => verifyIpn('amount=1.00', null), refusedRequest('verifyIpn, null token', []))
  // A string token still signs and verifies.
  const verifySign = sign(fields, SECRET)
  assert.match(verifySign, /^[0-9a-f]{32}$/)
  assert.equal(verifyIpn({ ...fields, verifySign }, SECRET), true)
})

test('new Client refuses an apiToken that is not a string, never showing it', () => {
  const good = { merchantNo: '202333', storeNo: '301854', baseUrl: 'http://127.0.0.1:9' }
  for (const [kind, token, needles] of TOKENS) {
    assert.throws(() => new Client({ ...good, apiToken: token }), refusedConfig(`Client, ${kind}`, needles))
  }
})

test('startSandbox and sandbox.client refuse an apiToken that is not a string, never showing it', async () => {
  for (const [kind, token, needles] of TOKENS) {
    await assert.rejects(startSandbox({ apiToken: token }), refusedConfig(`startSandbox, ${kind}`, needles))
  }
  const sandbox = await startSandbox()
  try {
    for (const [kind, token, needles] of TOKENS) {
      assert.throws(() => sandbox.client({ apiToken: token }), refusedConfig(`sandbox.client, ${kind}`, needles))
    }
  } finally {
    await sandbox.stop()
  }
})
