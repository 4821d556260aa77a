// README "Quickstart (CommonJS)". Configured from POCKYT_MERCHANT_NO,
// POCKYT_STORE_NO, POCKYT_API_TOKEN (and POCKYT_ENV or POCKYT_BASE_URL).
const { Client, PockytError } = require('pockyt-payouts')

async function main() {
  const client = Client.fromEnv()

  const payee = await client.registerPayee({
    profileType: 'INDIVIDUAL',
    dateOfBirth: '1990-05-17',
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
  })
  const account = await client.addBankAccount({
    customerNo: payee.customerNo,
    bankAccountId: '7861053298',
    branchId: '101089292',
    bankAccountPurpose: 'CHECKING',
  })
  const payout = await client.pay({
    customerNo: payee.customerNo,
    accountToken: account.accountToken,
    amount: '25.00',
    currency: 'USD',
    invoiceId: `inv-${Date.now()}`,
  })
  console.log(`payout ${payout.transactionNo} is ${payout.status}`)
}

main().catch((error) => {
  if (error instanceof PockytError) {
    console.error(`${error.code}: ${error.message}`)
  } else {
    console.error(error)
  }
  process.exitCode = 1
})
