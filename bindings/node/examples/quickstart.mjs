// README "Quickstart (ES modules)": look a payout up and read the balance.
import { Client, NoRelatedInformationError } from 'pockyt-payouts'

const client = Client.fromEnv()

const balance = await client.balance({ currency: 'USD' })
console.log(`available: ${balance.amount} ${balance.currency}`)

try {
  await client.inquirePayout({ invoiceId: 'inv-that-was-never-paid' })
} catch (error) {
  if (!(error instanceof NoRelatedInformationError)) throw error
  console.log(`no payout has that invoiceId (ret_code ${error.retCode})`)
}
