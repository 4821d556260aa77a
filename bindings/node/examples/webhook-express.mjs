// README "Webhooks (IPN)": an Express receiver. With POCKYT_API_TOKEN set it
// serves /pockyt/ipn on PORT (default 8080); without, it pays itself through
// the embedded sandbox and exits once the payout settled.
import { once } from 'node:events'
import express from 'express'
import { payoutWebhook } from 'pockyt-payouts/express'

const app = express()
// Any global body parser works: the webhook reads the raw body when it can.
app.use(express.urlencoded({ extended: true }))

let settled
const done = new Promise((resolve) => (settled = resolve))

// Runs once per transactionNo + status; throw (or reject) to have the API resend.
async function handler(event) {
  console.log(`payout ${event.invoiceId} is ${event.status}`)
  if (event.status !== 'pending') settled()
}

const apiToken = process.env.POCKYT_API_TOKEN
if (apiToken) {
  app.post('/pockyt/ipn', payoutWebhook({ apiToken, handler }))
  app.listen(Number(process.env.PORT ?? 8080), () => console.log('listening for IPNs on /pockyt/ipn'))
} else {
  const { startSandbox } = await import('pockyt-payouts/testing')
  const sandbox = await startSandbox({ settleDelayMs: 100 })
  app.post('/pockyt/ipn', payoutWebhook({ apiToken: sandbox.apiToken, handler }))
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')

  const client = sandbox.client()
  const payee = await client.registerPayee({ profileType: 'INDIVIDUAL', dateOfBirth: '1990-05-17' })
  const account = await client.addBankAccount({
    customerNo: payee.customerNo,
    bankAccountId: '7861053298',
    branchId: '101089292',
    bankAccountPurpose: 'CHECKING',
  })
  await client.pay({
    customerNo: payee.customerNo,
    accountToken: account.accountToken,
    amount: '12.00',
    currency: 'USD',
    invoiceId: `express-${Date.now()}`,
    ipnUrl: `http://127.0.0.1:${server.address().port}/pockyt/ipn`,
  })
  await done
  server.close()
  await sandbox.stop()
}
