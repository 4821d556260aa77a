// The provider's environments: 'provider-sandbox' (the provider's hosted
// test server, not the local emulator) and 'production'; 'sandbox', the old
// name, still accepted with a DeprecationWarning — as an option and as
// POCKYT_ENV. The Rust core decides; the wrapper only reports.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Client, ConfigurationError } from 'pockyt-payouts'

const run = promisify(execFile)
const PROVIDER_SANDBOX_URL = 'https://mapi.yuansfer.yunkeguan.com'
const good = { merchantNo: '202333', storeNo: '301854', apiToken: 'a-long-api-token' }

/** The warnings `fn` makes this process emit (they are emitted on a later tick). */
async function warningsOf(fn) {
  const seen = []
  const listener = (warning) => seen.push(warning)
  process.on('warning', listener)
  try {
    fn()
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', listener)
  }
  return seen
}

test("'provider-sandbox' is the provider's hosted test server, and the default", async () => {
  const warnings = await warningsOf(() => {
    assert.equal(new Client({ ...good, environment: 'provider-sandbox' }).baseUrl, PROVIDER_SANDBOX_URL)
    assert.equal(new Client(good).baseUrl, PROVIDER_SANDBOX_URL)
    assert.equal(new Client({ ...good, environment: 'production' }).baseUrl, 'https://mapi.yuansfer.com')
  })
  assert.deepEqual(warnings, [])
})

test("'sandbox' is a deprecated alias: same server, one DeprecationWarning per process", async () => {
  const warnings = await warningsOf(() => {
    assert.equal(new Client({ ...good, environment: 'sandbox' }).baseUrl, PROVIDER_SANDBOX_URL)
    assert.equal(new Client({ ...good, environment: 'SANDBOX' }).baseUrl, PROVIDER_SANDBOX_URL)
  })
  assert.equal(warnings.length, 1, warnings.map(String).join('\n'))
  const [warning] = warnings
  assert.equal(warning.name, 'DeprecationWarning')
  assert.equal(warning.code, 'DEPRECATED_ENVIRONMENT_NAME')
  assert.match(warning.message, /^environment "sandbox" is deprecated: use "provider-sandbox"/)
  // An explicit baseUrl still wins, and the alias is still accepted.
  const local = new Client({ ...good, environment: 'sandbox', baseUrl: 'http://127.0.0.1:9' })
  assert.equal(local.baseUrl, 'http://127.0.0.1:9')
})

test('an unknown environment is refused, naming the new spellings', () => {
  assert.throws(
    () => new Client({ ...good, environment: 'local' }),
    (error) =>
      error instanceof ConfigurationError &&
      error.field === 'environment' &&
      /"provider-sandbox" or "production"/.test(error.message),
  )
})

/** Runs `Client.fromEnv()` in a new process with POCKYT_ENV set to `value`. */
async function fromEnvIn(value) {
  const script = "const { Client } = require('pockyt-payouts'); console.log(Client.fromEnv().baseUrl)"
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('POCKYT_')))
  return run(process.execPath, ['-e', script], {
    cwd: new URL('..', import.meta.url),
    env: { ...env, ...goodEnv(), POCKYT_ENV: value },
  })
}

function goodEnv() {
  return { POCKYT_MERCHANT_NO: good.merchantNo, POCKYT_STORE_NO: good.storeNo, POCKYT_API_TOKEN: good.apiToken }
}

test('POCKYT_ENV=provider-sandbox is the new spelling; POCKYT_ENV=sandbox still works, with a DeprecationWarning', async () => {
  const current = await fromEnvIn('provider-sandbox')
  assert.equal(current.stdout.trim(), PROVIDER_SANDBOX_URL)
  assert.doesNotMatch(current.stderr, /DeprecationWarning/)

  const old = await fromEnvIn('sandbox')
  assert.equal(old.stdout.trim(), PROVIDER_SANDBOX_URL)
  assert.match(old.stderr, /\[DEPRECATED_ENVIRONMENT_NAME\] DeprecationWarning: POCKYT_ENV "sandbox" is deprecated: use "provider-sandbox"/)

  await assert.rejects(fromEnvIn('staging'), (error) => /POCKYT_ENV/.test(error.stderr) && /"provider-sandbox"/.test(error.stderr))
})
