// README "Quickstart (TypeScript)": the same payout flow as
// quickstart.cjs, typed. With no POCKYT_* variables it starts the embedded
// sandbox (no credentials needed); with POCKYT_MERCHANT_NO, POCKYT_STORE_NO,
// POCKYT_API_TOKEN (and POCKYT_ENV or POCKYT_BASE_URL) set, it runs against
// that server.
import { createServer } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { Client, PockytError, type PayoutEvent } from 'pockyt-payouts'
import { startSandbox, type Sandbox } from 'pockyt-payouts/testing'
import { Webhook, MAX_BODY_BYTES, tooLargeReply } from 'pockyt-payouts/webhooks'

async function main(): Promise<void> {
  // 1. A server: the one the POCKYT_* variables name, or an embedded sandbox.
  let client: Client
  let apiToken: string
  let sandbox: Sandbox | undefined
  if (process.env.POCKYT_MERCHANT_NO) {
    client = Client.fromEnv()
    apiToken = process.env.POCKYT_API_TOKEN ?? ''
    console.log(`▶ using the API at ${client.baseUrl} (from POCKYT_* variables)`)
  } else {
    sandbox = await startSandbox({ settleDelayMs: 1500 })
    client = sandbox.client()
    apiToken = sandbox.apiToken
    console.log(`▶ started an embedded sandbox at ${sandbox.baseUrl} (no credentials needed)`)
  }

  // 2. A webhook receiver: verifies each IPN's raw body before trusting it,
  //    hands each transactionNo + status on once, and answers `success`.
  const webhook = new Webhook({ apiToken })
  const received: PayoutEvent[] = []
  let wake = (): void => {}
  const receiver = createServer(async (request, response) => {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        const reply = tooLargeReply()
        response.writeHead(reply.status, { 'content-type': reply.contentType }).end(reply.body)
        return
      }
      chunks.push(chunk)
    }
    const { outcome, reply, error } = await webhook.handle(Buffer.concat(chunks), (event) => {
      received.push(event)
      wake()
    })
    if (outcome === 'refused') console.error(`   (refused a webhook: ${error instanceof Error ? error.message : error})`)
    response.writeHead(reply.status, { 'content-type': reply.contentType }).end(reply.body)
  })
  receiver.listen(0, '127.0.0.1')
  await once(receiver, 'listening')
  const localIpnUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/pockyt`
  const ipnUrl = process.env.POCKYT_IPN_URL || localIpnUrl
  console.log(`▶ webhook receiver listening at ${localIpnUrl}`)

  // The next verified webhook, or undefined once `deadline` (ms) has passed.
  async function nextWebhook(deadline: number): Promise<PayoutEvent | undefined> {
    while (received.length === 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now())
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    return received.shift()
  }

  try {
    // 3. Register a payee.
    const payee = await client.registerPayee({
      profileType: 'INDIVIDUAL',
      dateOfBirth: '1990-05-17',
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.com',
      countryCode: 'US',
      customerCode: `quickstart-${Date.now()}`,
    })
    const customerNo = payee.customerNo
    console.log(`1. registered payee       customerNo=${customerNo}`)

    // 4. Add a bank account (the routing number is checked before sending).
    const account = await client.addBankAccount({
      customerNo,
      bankAccountId: '7861053298',
      branchId: '101089292',
      bankAccountPurpose: 'CHECKING',
      accountTag: 'main-checking',
    })
    console.log(`2. added bank account     accountToken=${account.accountToken} status=${account.accountStatus ?? ''}`)

    // 5. List the payee's payout accounts.
    const listed = await client.listPayoutAccounts({ customerNo })
    for (const a of listed.accounts) {
      console.log(`3. payout account         ${a.accountToken ?? '?'} ${a.cardNumber ?? ''} ${a.status ?? ''}`)
    }

    // 6. Pay. The invoiceId is the key that makes retries safe.
    const invoiceId = `quickstart-${Date.now()}`
    const payout = await client.pay({
      customerNo,
      accountToken: account.accountToken,
      amount: '25.00',
      currency: 'USD',
      invoiceId,
      ipnUrl,
      note: 'Thanks for your referrals',
    })
    console.log(
      `4. paid                   invoiceId=${invoiceId} transactionNo=${payout.transactionNo} amount=${payout.amount} status=${payout.status}`,
    )

    // 7. Look the payout up by invoiceId.
    const found = await client.inquirePayout({ invoiceId })
    console.log(`5. inquiry                status=${found.status}`)

    // 8. Wait for the webhook that reports the final status; it was verified on arrival.
    const deadline = Date.now() + 30_000
    for (;;) {
      const event = await nextWebhook(deadline)
      if (event === undefined) {
        throw new Error('no final webhook within 30 s (the server must be able to reach the ipnUrl)')
      }
      console.log(
        `6. webhook received       signature verified; invoiceId=${event.invoiceId} status=${event.status} transactionNo=${event.transactionNo}`,
      )
      if (event.invoiceId === invoiceId && event.status !== 'pending') break
    }

    // 9. The API agrees, and the balance shows the payout.
    const settled = await client.inquirePayout({ invoiceId })
    const balance = await client.balance({ currency: 'USD' })
    console.log(`7. settled                status=${settled.status}; balance ${balance.amount} ${balance.currency ?? 'USD'}`)
  } finally {
    receiver.close()
    receiver.closeAllConnections()
    await sandbox?.stop()
  }
  console.log('✔ payout flow complete')
}

main().catch((error: unknown) => {
  console.error(`\nfailed: ${error instanceof PockytError ? `${error.code}: ${error.message}` : error}`)
  process.exitCode = 1
})
