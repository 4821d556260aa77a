// Shared helpers of the node --test suite: small HTTP servers on
// 127.0.0.1:0 and the sandbox's admin endpoints.
import http from 'node:http'

/** Listens on 127.0.0.1 and a free port; resolves to the base URL. */
function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve(`http://127.0.0.1:${port}`)
    })
  })
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = []
    request.on('data', (chunk) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', reject)
  })
}

/**
 * A server answering every request with `answer(request, body)`
 * ({ status, body }), recording each request it received.
 */
export async function startScriptedServer(answer) {
  const requests = []
  const server = http.createServer(async (request, response) => {
    const body = await readBody(request)
    requests.push({ method: request.method, url: request.url, body: body.toString('utf8') })
    const reply = answer(request, body)
    response.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' })
    response.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body))
  })
  const baseUrl = await listen(server)
  return {
    baseUrl,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

/**
 * An IPN (webhook) receiver: records each raw body and answers `success`.
 * `next()` resolves with the next IPN received (already received ones first).
 */
export async function startIpnReceiver() {
  const received = []
  const waiting = []
  const server = http.createServer(async (request, response) => {
    const raw = await readBody(request)
    const ipn = { raw, contentType: request.headers['content-type'], path: request.url }
    const waiter = waiting.shift()
    if (waiter) {
      waiter(ipn)
    } else {
      received.push(ipn)
    }
    response.writeHead(200, { 'content-type': 'text/plain' })
    response.end('success')
  })
  const baseUrl = await listen(server)
  return {
    url: `${baseUrl}/ipn`,
    next() {
      const ipn = received.shift()
      return ipn ? Promise.resolve(ipn) : new Promise((resolve) => waiting.push(resolve))
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

/** POST to one of the sandbox's admin endpoints (`/_sandbox/...`). */
export async function admin(sandbox, path, body, method = 'POST') {
  const response = await fetch(`${sandbox.baseUrl}/_sandbox/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) {
    throw new Error(`admin ${path} answered ${response.status}: ${text}`)
  }
  return text === '' ? null : JSON.parse(text)
}

/** Registers a payee with one bank account; resolves to { customerNo, accountToken }. */
export async function payeeWithAccount(client, name = 'Ada') {
  const payee = await client.registerPayee({
    profileType: 'INDIVIDUAL',
    dateOfBirth: '1990-05-17',
    firstName: name,
    lastName: 'Lovelace',
    email: 'ada@example.com',
  })
  const account = await client.addBankAccount({
    customerNo: payee.customerNo,
    bankAccountId: '7861053298',
    branchId: '101089292',
    bankAccountPurpose: 'CHECKING',
  })
  return { customerNo: payee.customerNo, accountToken: account.accountToken }
}

let counter = 0
/** A fresh invoiceId (the prefix chooses the sandbox's final status). */
export function invoiceId(prefix = 'inv') {
  counter += 1
  return `${prefix}-${process.pid}-${Date.now()}-${counter}`
}
