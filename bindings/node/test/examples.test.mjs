// The quickstarts (CommonJS, ES modules, and TypeScript compiled with tsc)
// run the whole payout flow: on the embedded sandbox with no POCKYT_*
// variables, as a newcomer runs them, and against the server the POCKYT_*
// variables name.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startSandbox } from 'pockyt-payouts/testing'

const run = promisify(execFile)
const packageDir = fileURLToPath(new URL('..', import.meta.url))
let sandbox

before(async () => {
  sandbox = await startSandbox({ settleDelayMs: 200 })
})

after(async () => {
  await sandbox.stop()
})

/** The environment without any POCKYT_* variable. */
function withoutPockyt() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('POCKYT_')))
}

/** The environment pointing at the test's sandbox, as a real server would be named. */
function env() {
  return {
    ...withoutPockyt(),
    POCKYT_MERCHANT_NO: sandbox.merchantNo,
    POCKYT_STORE_NO: sandbox.storeNo,
    POCKYT_API_TOKEN: sandbox.apiToken,
    POCKYT_BASE_URL: sandbox.baseUrl,
  }
}

const example = (name) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url))

/** What every quickstart prints when the flow went through. */
function assertCompleted(stdout) {
  const lines = stdout.trim().split('\n')
  assert.equal(lines.at(-1), '✔ payout flow complete', stdout)
  assert.match(stdout, /^1\. registered payee +customerNo=\d+$/m)
  assert.match(stdout, /^4\. paid +invoiceId=quickstart-\d+ transactionNo=\d+ amount=25\.00 status=pending$/m)
  assert.match(stdout, /^6\. webhook received +signature verified; .*status=success /m)
  assert.match(stdout, /^7\. settled +status=success; balance \d+\.\d{2} USD$/m)
}

for (const name of ['quickstart.cjs', 'quickstart.mjs']) {
  test(`examples/${name} runs the payout flow on the embedded sandbox with no POCKYT_* variables`, { timeout: 60_000 }, async () => {
    const { stdout } = await run(process.execPath, [example(name)], { env: withoutPockyt(), timeout: 50_000 })
    assert.match(stdout, /^▶ started an embedded sandbox at http:\/\/127\.0\.0\.1:\d+ \(no credentials needed\)$/m)
    assertCompleted(stdout)
  })

  test(`examples/${name} runs against the server the POCKYT_* variables name`, { timeout: 60_000 }, async () => {
    const before = sandbox.payouts().length
    const { stdout } = await run(process.execPath, [example(name)], { env: env(), timeout: 50_000 })
    assert.match(stdout, new RegExp(`^▶ using the API at ${sandbox.baseUrl.replace(/[.]/g, '\\.')} `, 'm'))
    assert.doesNotMatch(stdout, /embedded sandbox/)
    assertCompleted(stdout)
    assert.equal(sandbox.payouts().length, before + 1)
  })
}

test('examples/quickstart.ts and quickstart.mts, compiled as the README says, run with no POCKYT_* variables', { timeout: 180_000 }, async () => {
  mkdirSync(join(packageDir, 'dist'), { recursive: true })
  const out = mkdtempSync(join(packageDir, 'dist', 'quickstart-test-'))
  try {
    const tsc = join(packageDir, 'node_modules', 'typescript', 'bin', 'tsc')
    await run(
      process.execPath,
      [tsc, '--module', 'nodenext', '--target', 'es2022', '--types', 'node', '--rootDir', 'examples', '--outDir', out,
        'examples/quickstart.ts', 'examples/quickstart.mts'],
      { cwd: packageDir, timeout: 120_000 },
    )
    for (const compiled of ['quickstart.js', 'quickstart.mjs']) {
      const { stdout } = await run(process.execPath, [join(out, compiled)], { env: withoutPockyt(), timeout: 50_000 })
      assertCompleted(stdout)
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
})

for (const name of ['webhook-express.mjs', 'webhook-fastify.mjs']) {
  test(`examples/${name} pays itself through the embedded sandbox and handles each IPN once`, { timeout: 60_000 }, async () => {
    const { stdout } = await run(process.execPath, [example(name)], { env: withoutPockyt(), timeout: 50_000 })
    const lines = stdout.trim().split('\n')
    assert.equal(lines.length, 2, stdout)
    assert.match(lines[0], /^payout \S+ is pending$/)
    assert.match(lines[1], /^payout \S+ is success$/)
  })
}
