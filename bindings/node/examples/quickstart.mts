// README "Quickstart (ESM)": the same package through `import`.
import { Client } from 'pockyt-payouts'

const client = new Client({
  merchantNo: process.env.POCKYT_MERCHANT_NO ?? '202333',
  storeNo: process.env.POCKYT_STORE_NO ?? '301854',
  apiToken: process.env.POCKYT_API_TOKEN ?? '',
  environment: 'sandbox',
  timeoutMs: 20_000,
  maxRetries: 2,
})

const balance = await client.balance({ currency: 'USD' })
console.log(`available: ${balance.amount} ${balance.currency}`)
