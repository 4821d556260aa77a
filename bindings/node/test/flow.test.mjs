// The whole flow against the in-process sandbox: register, add a bank
// account, list, pay, inquire, and the payout's IPN received by a local
// server and verified.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { verifyIpn, NoRelatedInformationError } from 'pockyt-payouts'
import { startSandbox } from 'pockyt-payouts/testing'
import { startIpnReceiver, invoiceId } from './helpers.mjs'

let sandbox
let client
let receiver

before(async () => {
  sandbox = await startSandbox({ settleDelayMs: 20, ipnRetryDelaysMs: [0, 50, 100, 200] })
  client = sandbox.client()
  receiver = await startIpnReceiver()
})

after(async () => {
  await sandbox.stop()
  await receiver.close()
})

/** Inquires until the payout leaves `pending` (bounded by a count, not a clock). */
async function settled(invoice) {
  for (let i = 0; i < 1000; i += 1) {
    const payout = await client.inquirePayout({ invoiceId: invoice })
    if (payout.status !== 'pending') {
      return payout
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`payout ${invoice} stayed pending`)
}

// A bound so that a missing IPN fails the test instead of hanging it.
test('register, add a bank account, list, pay, inquire, and verify the IPN', { timeout: 60_000 }, async () => {
  const payee = await client.registerPayee({
    profileType: 'INDIVIDUAL',
    dateOfBirth: '1990-05-17',
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    countryCode: 'US',
  })
  assert.equal(typeof payee.customerNo, 'string')
  assert.equal(payee.firstName, 'Ada')

  const retrieved = await client.retrievePayee({ customerNo: payee.customerNo })
  assert.equal(retrieved.customerNo, payee.customerNo)
  assert.equal(retrieved.lastName, 'Lovelace')

  const updated = await client.updatePayee({ customerNo: payee.customerNo, city: 'London' })
  assert.equal(updated.ret_code, '000100')
  assert.equal((await client.retrievePayee({ customerNo: payee.customerNo })).city, 'London')

  const account = await client.addBankAccount({
    customerNo: payee.customerNo,
    bankAccountId: '7861053298',
    branchId: '101089292',
    bankAccountPurpose: 'CHECKING',
    accountTag: 'main',
  })
  assert.equal(typeof account.accountToken, 'string')

  const listed = await client.listPayoutAccounts({ customerNo: payee.customerNo })
  assert.equal(listed.ret_code, '000100')
  assert.deepEqual(
    listed.accounts.map((a) => a.accountToken),
    [account.accountToken],
  )
  assert.equal(listed.accounts[0].cardNumber, '****3298')
  assert.equal(listed.user.customerNo, payee.customerNo)

  const before = await client.balance({ currency: 'USD' })
  const invoice = invoiceId()
  const payout = await client.pay({
    customerNo: payee.customerNo,
    accountToken: account.accountToken,
    amount: '25.50',
    currency: 'USD',
    invoiceId: invoice,
    ipnUrl: receiver.url,
    note: 'thanks',
  })
  assert.equal(payout.status, 'pending')
  assert.equal(payout.invoiceId, invoice)
  assert.equal(payout.amount, '25.50')
  assert.equal(typeof payout.transactionNo, 'string')

  const final = await settled(invoice)
  assert.equal(final.status, 'success')
  assert.equal(final.transactionNo, payout.transactionNo)

  const after = await client.balance({ currency: 'USD' })
  assert.equal(Math.round((Number(before.amount) - Number(after.amount)) * 100), 2550)
  assert.equal(sandbox.balance('USD'), after.amount)
  assert.deepEqual(
    sandbox.payouts().filter((p) => p.invoiceId === invoice).map((p) => [p.status, p.amount]),
    [['success', '25.50']],
  )

  // The IPN, as the receiver got it: verified as the raw string, as a
  // Buffer and as decoded fields; refused once tampered with.
  let ipn
  do {
    ipn = await receiver.next()
  } while (new URLSearchParams(ipn.raw.toString('utf8')).get('status') !== 'success')
  assert.match(ipn.contentType, /application\/x-www-form-urlencoded/)
  const raw = ipn.raw.toString('utf8')
  const fields = Object.fromEntries(new URLSearchParams(raw))
  assert.equal(fields.reference ?? fields.invoiceId, invoice)
  assert.equal(verifyIpn(raw, sandbox.apiToken), true)
  assert.equal(verifyIpn(ipn.raw, sandbox.apiToken), true)
  assert.equal(verifyIpn(fields, sandbox.apiToken), true)
  assert.equal(verifyIpn(new URLSearchParams(raw), sandbox.apiToken), true)
  assert.equal(verifyIpn({ ...fields, amount: '9999.00' }, sandbox.apiToken), false)
  assert.equal(verifyIpn(raw, 'another-token'), false)

  const log = sandbox.ipnLog().filter((d) => d.fields.some(([k, v]) => k === 'status' && v === 'success'))
  assert.ok(log.some((d) => d.answeredSuccess && d.httpStatus === 200 && d.url === receiver.url))
})

test('the invoiceId prefix chooses the final status: failed and returned', async () => {
  const payee = await client.registerPayee({ profileType: 'BUSINESS', dateOfBirth: '1980-01-31' })
  const account = await client.addBankAccount({
    customerNo: payee.customerNo,
    bankAccountId: '12345678',
    branchId: '021000021',
    bankAccountPurpose: 'SAVINGS',
  })
  for (const outcome of ['failed', 'returned']) {
    const invoice = invoiceId(outcome)
    await client.pay({
      customerNo: payee.customerNo,
      accountToken: account.accountToken,
      amount: '1',
      currency: 'USD',
      invoiceId: invoice,
    })
    assert.equal((await settled(invoice)).status, outcome)
  }
})

test('paying again with the same invoiceId answers the same payout', async () => {
  const payee = await client.registerPayee({ profileType: 'INDIVIDUAL', dateOfBirth: '1970-07-07' })
  const account = await client.addBankAccount({
    customerNo: payee.customerNo,
    bankAccountId: '99887766',
    branchId: '101089292',
    bankAccountPurpose: 'CHECKING',
  })
  const params = {
    customerNo: payee.customerNo,
    accountToken: account.accountToken,
    amount: '3.00',
    currency: 'USD',
    invoiceId: invoiceId('pending'),
  }
  const first = await client.pay(params)
  const second = await client.pay(params)
  assert.equal(second.transactionNo, first.transactionNo)
  assert.equal(sandbox.payouts().filter((p) => p.invoiceId === params.invoiceId).length, 1)
})

test('inquiring an unknown invoiceId rejects with NoRelatedInformationError', async () => {
  await assert.rejects(client.inquirePayout({ invoiceId: 'never-paid' }), (error) => {
    assert.ok(error instanceof NoRelatedInformationError)
    assert.equal(error.code, '000021')
    assert.equal(error.operation, 'inquirePayout')
    return true
  })
})
