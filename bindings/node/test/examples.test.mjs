// The README's JavaScript quickstarts run against the in-process sandbox.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startSandbox } from 'pockyt-payouts/testing'

const run = promisify(execFile)
let sandbox

before(async () => {
  sandbox = await startSandbox()
})

after(async () => {
  await sandbox.stop()
})

function env() {
  return {
    ...process.env,
    POCKYT_MERCHANT_NO: sandbox.merchantNo,
    POCKYT_STORE_NO: sandbox.storeNo,
    POCKYT_API_TOKEN: sandbox.apiToken,
    POCKYT_BASE_URL: sandbox.baseUrl,
  }
}

const example = (name) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url))

test('examples/quickstart.cjs pays a payee', async () => {
  const { stdout } = await run(process.execPath, [example('quickstart.cjs')], { env: env() })
  assert.match(stdout, /^payout \d+ is pending$/m)
  assert.equal(sandbox.payouts().length, 1)
})

test('examples/quickstart.mjs reads the balance and handles an unknown invoiceId', async () => {
  const { stdout } = await run(process.execPath, [example('quickstart.mjs')], { env: env() })
  assert.match(stdout, /^available: \d+\.\d{2} USD$/m)
  assert.match(stdout, /ret_code 000021/)
})

for (const name of ['webhook-express.mjs', 'webhook-fastify.mjs']) {
  test(`examples/${name} pays itself through the embedded sandbox and handles each IPN once`, { timeout: 60_000 }, async () => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('POCKYT_')))
    const { stdout } = await run(process.execPath, [example(name)], { env: clean, timeout: 50_000 })
    const lines = stdout.trim().split('\n')
    assert.equal(lines.length, 2, stdout)
    assert.match(lines[0], /^payout \S+ is pending$/)
    assert.match(lines[1], /^payout \S+ is success$/)
  })
}
