// README "Verifying IPNs": a webhook receiver that verifies the raw body
// exactly as received, answers `success`, and deduplicates.
import { createServer } from 'node:http'
import { verifyIpn } from 'pockyt-payouts'

const apiToken = process.env.POCKYT_API_TOKEN ?? ''
const seen = new Set<string>()

const server = createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    const raw = Buffer.concat(chunks)
    if (!verifyIpn(raw, apiToken)) {
      response.writeHead(400).end('bad signature')
      return
    }
    const ipn = new URLSearchParams(raw.toString('utf8'))
    const key = `${ipn.get('transactionNo')}:${ipn.get('status')}`
    if (!seen.has(key)) {
      seen.add(key)
      console.log(`payout ${ipn.get('reference')} is ${ipn.get('status')}`)
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end('success')
  })
})

server.listen(8080, '127.0.0.1')
