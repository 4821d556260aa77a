// README "Testing with startSandbox": the Rust sandbox in this process.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { InsufficientBalanceError } from 'pockyt-payouts'
import { startSandbox } from 'pockyt-payouts/testing'

test('a payout settles in the sandbox', async () => {
  const sandbox = await startSandbox({ settleDelayMs: 50, balances: { USD: '100.00' } })
  try {
    const client = sandbox.client({ maxRetries: 0 })
    const payee = await client.registerPayee({ profileType: 'INDIVIDUAL', dateOfBirth: '1990-05-17' })
    const account = await client.addBankAccount({
      customerNo: payee.customerNo,
      bankAccountId: '7861053298',
      branchId: '101089292',
      bankAccountPurpose: 'CHECKING',
    })
    const params = { customerNo: payee.customerNo, accountToken: account.accountToken, currency: 'USD' }
    await client.pay({ ...params, amount: '40.00', invoiceId: 'inv-1' })
    await assert.rejects(client.pay({ ...params, amount: '80.00', invoiceId: 'inv-2' }), InsufficientBalanceError)
    assert.equal(sandbox.balance('USD'), '60.00')
    assert.deepEqual(
      sandbox.payouts().map((p) => p.invoiceId),
      ['inv-1'],
    )
  } finally {
    await sandbox.stop()
  }
})
