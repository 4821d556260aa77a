// verifyIpn() refuses what the signing rule cannot read unambiguously: one
// test per rule (the Rust crate pockyt-payouts-sign holds the rules and
// their exhaustive tests; this checks that Node reaches them).
//
// Every forged IPN here is signed correctly for the text the signing rule
// builds, so a refusal proves the rule, not a broken signature.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { verifyIpn, ConfigurationError } from 'pockyt-payouts'

const md5 = (text) => createHash('md5').update(text, 'utf8').digest('hex')

/** The API page's rule, written out independently of the SDK: [name, value] pairs. */
function reference(pairs, token) {
  const joined = pairs
    .filter(([name]) => name !== 'verifySign')
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
  return md5(`${joined}&${md5(token)}`)
}

const token = 'ipn-hardening-token'
const genuine = {
  merchantNo: '202333',
  storeNo: '301854',
  transactionNo: '305588797074336092',
  reference: 'inv-0001',
  status: 'success',
  amount: '25.00',
  currency: 'USD',
  settleCurrency: 'USD',
  customerNo: '2000305228292319592008',
  time: '20240101120000',
}

const signedBody = (fields, key) =>
  new URLSearchParams({ ...fields, verifySign: reference(Object.entries(fields), key) }).toString()

function configurationError(label) {
  return (error) => {
    assert.ok(error instanceof ConfigurationError, `${label}: ${error?.name}: ${error?.message}`)
    assert.equal(error.code, 'INVALID_CONFIG')
    assert.equal(error.field, 'apiToken')
    assert.match(error.message, /empty/)
    return true
  }
}

test('a genuine IPN passes', () => {
  const body = signedBody(genuine, token)
  assert.equal(verifyIpn(body, token), true)
  assert.equal(verifyIpn(Buffer.from(body), token), true)
  assert.equal(verifyIpn(Object.fromEntries(new URLSearchParams(body)), token), true)
})

test('an empty token throws ConfigurationError (INVALID_CONFIG), not false', () => {
  // Signed with md5(''): anyone can compute it.
  const forged = signedBody(genuine, '')
  for (const [shape, ipn] of [
    ['string', forged],
    ['Buffer', Buffer.from(forged)],
    ['URLSearchParams', new URLSearchParams(forged)],
    ['fields', Object.fromEntries(new URLSearchParams(forged))],
  ]) {
    assert.throws(() => verifyIpn(ipn, ''), configurationError(shape))
  }
})

test('a whitespace-only token throws ConfigurationError (INVALID_CONFIG)', () => {
  for (const blank of [' ', '\t\n', '\u3000']) {
    assert.throws(() => verifyIpn(signedBody(genuine, blank), blank), configurationError(JSON.stringify(blank)))
  }
})

test('a value re-split into another field is refused', () => {
  // Signed: settleCurrency=USD and status=pending; sent: no status field.
  const sig = reference([['settleCurrency', 'USD'], ['status', 'pending']], token)
  assert.equal(verifyIpn(`settleCurrency=USD%26status%3Dpending&verifySign=${sig}`, token), false)
  assert.equal(verifyIpn({ settleCurrency: 'USD&status=pending', verifySign: sig }, token), false)
})

test('a name re-split across fields is refused', () => {
  // Signed: amount=25.00 and currency=USD; sent: one field named "amount=25.00&currency".
  const sig = reference([['amount', '25.00'], ['currency', 'USD']], token)
  assert.equal(verifyIpn(`amount%3D25.00%26currency=USD&verifySign=${sig}`, token), false)
  assert.equal(verifyIpn({ 'amount=25.00&currency': 'USD', verifySign: sig }, token), false)
})

test('invalid UTF-8 is refused, not replaced', () => {
  // %FF and %FE both used to decode to U+FFFD, signed alike.
  const sig = reference([['note', '\uFFFD']], token)
  assert.equal(verifyIpn(`note=%FF&verifySign=${sig}`, token), false)
  assert.equal(verifyIpn(Buffer.from(`note=%FE&verifySign=${sig}`), token), false)
  assert.equal(verifyIpn(Buffer.concat([Buffer.from('note='), Buffer.from([0xff]), Buffer.from(`&verifySign=${sig}`)]), token), false)
  // U+FFFD itself, properly encoded, is a genuine value.
  assert.equal(verifyIpn(`note=%EF%BF%BD&verifySign=${sig}`, token), true)
})

test('bad percent-encoding is refused', () => {
  const sig = reference([['note', '%G1']], token)
  assert.equal(verifyIpn(`note=%G1&verifySign=${sig}`, token), false)
})

test('a missing verifySign is refused', () => {
  assert.equal(verifyIpn(new URLSearchParams(genuine).toString(), token), false)
  assert.equal(verifyIpn(genuine, token), false)
})

test('a repeated verifySign is refused', () => {
  const sig = reference(Object.entries(genuine), token)
  assert.equal(verifyIpn(`${signedBody(genuine, token)}&verifySign=${sig}`, token), false)
  assert.equal(verifyIpn({ ...genuine, verifySign: [sig, sig] }, token), false)
})
