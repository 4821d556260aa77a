// README "Webhooks (IPN)": a Fastify receiver. With POCKYT_API_TOKEN set it
// serves /pockyt/ipn on PORT (default 8080); without, it pays itself through
// the embedded sandbox and exits once the payout settled.
import Fastify from 'fastify'
import formbody from '@fastify/formbody'
import { payoutWebhook } from 'pockyt-payouts/fastify'

const app = Fastify()
// A global form parser does not get in the way: the plugin reads the raw body.
await app.register(formbody)

let settled
const done = new Promise((resolve) => (settled = resolve))

// Runs once per transactionNo + status; throw (or reject) to have the API resend.
async function handler(event) {
  console.log(`payout ${event.invoiceId} is ${event.status}`)
  if (event.status !== 'pending') settled()
}

const apiToken = process.env.POCKYT_API_TOKEN
if (apiToken) {
  await app.register(payoutWebhook, { path: '/pockyt/ipn', apiToken, handler })
  await app.listen({ port: Number(process.env.PORT ?? 8080) })
  console.log('listening for IPNs on /pockyt/ipn')
} else {
  const { startSandbox } = await import('pockyt-payouts/testing')
  const sandbox = await startSandbox({ settleDelayMs: 100 })
  await app.register(payoutWebhook, { path: '/pockyt/ipn', apiToken: sandbox.apiToken, handler })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })

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
    invoiceId: `fastify-${Date.now()}`,
    ipnUrl: `${address}/pockyt/ipn`,
  })
  await done
  await app.close()
  await sandbox.stop()
}
