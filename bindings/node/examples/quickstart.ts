// README "Quickstart (TypeScript)": register a payee, attach a bank
// account, pay it, and look the payout up. Configured from POCKYT_*.
import { Client, type Payout } from 'pockyt-payouts'

async function main(): Promise<void> {
  const client = Client.fromEnv()

  const payee = await client.registerPayee({
    profileType: 'INDIVIDUAL',
    dateOfBirth: '1990-05-17',
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
  })
  const customerNo = payee.customerNo

  const account = await client.addBankAccount({
    customerNo,
    bankAccountId: '7861053298',
    branchId: '101089292',
    bankAccountPurpose: 'CHECKING',
  })

  const payout: Payout = await client.pay({
    customerNo,
    accountToken: account.accountToken,
    amount: '25.00',
    currency: 'USD',
    invoiceId: `inv-${Date.now()}`,
  })
  console.log(`payout ${payout.transactionNo} is ${payout.status}`)

  const again = await client.inquirePayout({ invoiceId: payout.invoiceId! }, { timeoutMs: 5_000 })
  console.log(`payout ${again.invoiceId} is now ${again.status}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
