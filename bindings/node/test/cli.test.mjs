// The package's `pockyt-payouts` command (package.json "bin"): the Rust
// CLI built into the addon, run as npm installs it, against the sandbox.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createServer } from 'node:net'
import { startSandbox } from 'pockyt-payouts/testing'

const run = promisify(execFile)
const packageDir = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const bin = fileURLToPath(new URL(`../${pkg.bin['pockyt-payouts']}`, import.meta.url))
let sandbox

before(async () => {
  sandbox = await startSandbox({ balances: { USD: '1234.50' } })
})

after(async () => {
  await sandbox.stop()
})

function env() {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('POCKYT_')))
  return {
    ...clean,
    POCKYT_MERCHANT_NO: sandbox.merchantNo,
    POCKYT_STORE_NO: sandbox.storeNo,
    POCKYT_API_TOKEN: sandbox.apiToken,
    POCKYT_BASE_URL: sandbox.baseUrl,
  }
}

test('package.json names the bin, ships it, and it is executable', () => {
  assert.equal(pkg.bin['pockyt-payouts'], 'bin/pockyt-payouts.js')
  assert.ok(pkg.files.includes('bin/pockyt-payouts.js'))
  assert.ok(statSync(bin).mode & 0o111, 'executable')
  assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/)
})

test('pockyt-payouts balance --currency USD --json', { timeout: 60_000 }, async () => {
  const { stdout } = await run(process.execPath, [bin, 'balance', '--currency', 'USD', '--json'], {
    cwd: packageDir,
    env: env(),
    timeout: 50_000,
  })
  const balance = JSON.parse(stdout)
  assert.equal(balance.currency, 'USD')
  assert.equal(balance.amount, '1234.50')
})

test('a usage error exits 2; an unconfigured call exits 3 naming the code', { timeout: 60_000 }, async () => {
  await assert.rejects(run(process.execPath, [bin, 'no-such-command'], { env: env(), timeout: 50_000 }), (e) => e.code === 2)
  const unconfigured = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('POCKYT_')))
  await assert.rejects(
    run(process.execPath, [bin, 'balance', '--currency', 'USD'], { env: unconfigured, timeout: 50_000 }),
    (e) => e.code === 3 && /INVALID_CONFIG/.test(e.stderr),
  )
})

// Node's own SIGINT/SIGTERM handler raises the signal again; under the
// CLI's Rust listener that was an endless loop (a spinning process that
// never stopped). The sandbox must stop on either signal, as it does
// from the Rust binary.
for (const signal of ['SIGINT', 'SIGTERM']) {
  test(`pockyt-payouts sandbox stops on ${signal}`, { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [bin, 'sandbox', '--json', '--quiet'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    await new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk
        if (stdout.includes('\n')) resolve()
      })
      child.on('exit', (code) => reject(new Error(`the sandbox exited (${code}) before printing its address`)))
    })
    assert.match(JSON.parse(stdout).baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
    const exited = new Promise((resolve) => child.on('exit', (code, killedBy) => resolve({ code, killedBy })))
    child.kill(signal)
    const outcome = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000).unref()),
    ])
    if (outcome === 'still running') child.kill('SIGKILL')
    assert.deepEqual(outcome, { code: 0, killedBy: null })
  })
}

// Node's handler for SIGINT/SIGTERM is replaced by the default one while
// the command runs: a call stuck on a silent server ends at once on
// SIGTERM (as the Rust binary's does), not when its timeout runs out.
test('SIGTERM ends a call the command does not handle it in', { timeout: 60_000 }, async () => {
  const held = []
  const silent = createServer((socket) => held.push(socket))
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const connected = new Promise((resolve) => silent.once('connection', resolve))
  const child = spawn(process.execPath, [bin, '--timeout', '300', 'balance', '--currency', 'USD'], {
    env: { ...env(), POCKYT_BASE_URL: `http://127.0.0.1:${silent.address().port}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  try {
    await connected
    const exited = new Promise((resolve) => child.on('exit', (code, killedBy) => resolve({ code, killedBy })))
    child.kill('SIGTERM')
    const outcome = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000).unref()),
    ])
    assert.deepEqual(outcome, { code: null, killedBy: 'SIGTERM' })
  } finally {
    child.kill('SIGKILL')
    for (const socket of held) socket.destroy()
    silent.close()
  }
})
