// sign() and verifyIpn(): checked against an independent implementation
// of the signing rule, over every input shape verifyIpn accepts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { sign, verifyIpn, InvalidRequestError } from 'pockyt-payouts'

const md5 = (text) => createHash('md5').update(text, 'utf8').digest('hex')

/** The API page's rule: sorted name=value pairs, '&', md5(token), md5 of it all. */
function reference(params, token) {
  const pairs = Object.entries(params)
    .filter(([name]) => name !== 'verifySign')
    .sort(([a], [b]) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
  return md5(`${pairs.join('&')}&${md5(token)}`)
}

const token = 'ipn-test-token'
const fields = {
  merchantNo: '202333',
  storeNo: '301854',
  transactionNo: '305588797074336092',
  reference: 'inv-0001',
  status: 'success',
  amount: '500.00',
  currency: 'USD',
  settleCurrency: 'USD',
  customerNo: '2000305228303182610217',
  time: '20240101120000',
  // No '&' in a value: IPN verification refuses it (ipn-hardening.test.mjs).
  note: 'café + crème = 100%',
  empty: '',
}

test('sign matches the signing rule', () => {
  assert.equal(sign(fields, token), reference(fields, token))
  assert.equal(sign({ ...fields, verifySign: 'ignored' }, token), reference(fields, token))
  assert.equal(
    sign({ amount: '1.00', currency: 'USD', merchantNo: '200043' }, '5cbfb079f15b150122261c8537086d77a'),
    reference({ amount: '1.00', currency: 'USD', merchantNo: '200043' }, '5cbfb079f15b150122261c8537086d77a'),
  )
  assert.notEqual(sign(fields, token), sign(fields, 'other-token'))
})

test('sign refuses non-string values, naming the field', () => {
  assert.throws(
    () => sign({ amount: 5 }, token),
    (error) => error instanceof InvalidRequestError && error.field === 'amount',
  )
})

const signed = { ...fields, verifySign: reference(fields, token) }
const body = new URLSearchParams(signed).toString()

test('verifyIpn accepts a valid IPN as an object, string, Buffer, Uint8Array or URLSearchParams', () => {
  assert.equal(verifyIpn(signed, token), true)
  assert.equal(verifyIpn(body, token), true)
  assert.equal(verifyIpn(Buffer.from(body), token), true)
  assert.equal(verifyIpn(new Uint8Array(Buffer.from(body)), token), true)
  assert.equal(verifyIpn(new URLSearchParams(body), token), true)
})

test('verifyIpn verifies the raw body as received (percent-encoding and + for spaces)', () => {
  const encoded = Object.entries(signed)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&')
  assert.notEqual(encoded, body)
  assert.equal(verifyIpn(encoded, token), true)
})

test('verifyIpn refuses a tampered, unsigned, doubly signed or wrongly keyed IPN', () => {
  assert.equal(verifyIpn({ ...signed, amount: '5000.00' }, token), false)
  assert.equal(verifyIpn({ ...signed, extra: 'added' }, token), false)
  assert.equal(verifyIpn(body.replace('status=success', 'status=failed'), token), false)
  const tamperedBuffer = Buffer.from(body)
  tamperedBuffer[tamperedBuffer.indexOf('500.00')] = '9'.charCodeAt(0)
  assert.equal(verifyIpn(tamperedBuffer, token), false)
  const { verifySign, ...unsigned } = signed
  assert.equal(verifyIpn(unsigned, token), false)
  assert.equal(verifyIpn({ ...signed, verifySign: [verifySign, verifySign] }, token), false)
  assert.equal(verifyIpn(`${body}&verifySign=${verifySign}`, token), false)
  assert.equal(verifyIpn({ ...signed, verifySign: verifySign.slice(1) }, token), false)
  assert.equal(verifyIpn(signed, 'other-token'), false)
  assert.equal(verifyIpn('', token), false)
})
