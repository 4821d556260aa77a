// The Node driver of `cargo xtask bench --compare` and `--memory`.
//
//   node driver.mjs run node <op> <calls> <concurrency>
//   node [--expose-gc] driver.mjs memory node <in-flight>
//
// Loads the package from bindings/node (its loader takes the addon from
// NAPI_RS_NATIVE_LIBRARY_PATH when set: the bench's release build) and
// reads the same environment as the other drivers: POCKYT_MERCHANT_NO,
// POCKYT_STORE_NO, POCKYT_API_TOKEN, POCKYT_BASE_URL, BENCH_CUSTOMER_NO,
// BENCH_ACCOUNT_TOKEN, BENCH_INVOICE_ID, BENCH_ACCOUNTS_CUSTOMER_NO,
// BENCH_PREFIX.
//
// `run`: one Client, `concurrency` async workers pulling from one counter;
// warm-up (min(200, calls / 10) calls, not counted), then the timed calls;
// one JSON line. `memory`: `in-flight` pays started at once (Promise.all),
// twice, RSS after each. Any failed call makes the exit status 1.
import { readdirSync, readFileSync, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'

const require = createRequire(import.meta.url)
const { Client } = require('../../bindings/node/index.js')
// The loader falls back to the addon next to it when the override fails to
// load: make sure the bench measures the build it asked for.
const addon = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
if (addon && !(realpathSync(addon) in require.cache)) {
  console.error(`driver.mjs: the addon at ${addon} was not loaded`)
  process.exit(2)
}

const PAY_AMOUNT = '1.00'
const CURRENCY = 'USD'
const DATE_OF_BIRTH = '1990-05-17'
const EMAIL = 'bench@example.com'
const BANK_ACCOUNT_ID = '123456789'
const BRANCH_ID = '011000015' // a valid ABA checksum

function env(name) {
  const value = process.env[name]
  if (value === undefined) {
    console.error(`driver.mjs: ${name} is not set`)
    process.exit(2)
  }
  return value
}

/** How long a memory run waits before reading RSS, for the connections
 * past the client's idle pool to close. */
const SETTLE_MS = 2000

/** A `kB` line of /proc/self/status (VmHWM: peak RSS, VmRSS: RSS now). */
function statusKib(field) {
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`))
    return line ? Number.parseInt(line.split(/\s+/)[1], 10) : 0
  } catch {
    return 0
  }
}

/** How many files the process has open (mostly pooled connections). */
function openFds() {
  try {
    return readdirSync('/proc/self/fd').length
  } catch {
    return 0
  }
}

const ctx = {
  customerNo: env('BENCH_CUSTOMER_NO'),
  accountToken: env('BENCH_ACCOUNT_TOKEN'),
  invoiceId: env('BENCH_INVOICE_ID'),
  accountsCustomerNo: env('BENCH_ACCOUNTS_CUSTOMER_NO'),
  prefix: env('BENCH_PREFIX'),
}

/** The method and parameters of one call of `op` (snake_case, as the SDK names it). */
function callOf(client, op) {
  switch (op) {
    case 'balance':
      return () => client.balance({ currency: CURRENCY })
    case 'pay':
      return (invoiceId) =>
        client.pay({
          customerNo: ctx.customerNo,
          accountToken: ctx.accountToken,
          amount: PAY_AMOUNT,
          currency: CURRENCY,
          invoiceId,
        })
    case 'inquire_payout':
      return () => client.inquirePayout({ invoiceId: ctx.invoiceId })
    case 'retrieve_payee':
      return () => client.retrievePayee({ customerNo: ctx.customerNo })
    case 'list_payout_accounts':
      return () => client.listPayoutAccounts({ customerNo: ctx.customerNo })
    case 'register_payee':
      return () => client.registerPayee({ profileType: 'INDIVIDUAL', dateOfBirth: DATE_OF_BIRTH })
    case 'update_payee':
      return () => client.updatePayee({ customerNo: ctx.customerNo, email: EMAIL })
    case 'add_bank_account':
      return () =>
        client.addBankAccount({
          customerNo: ctx.accountsCustomerNo,
          bankAccountId: BANK_ACCOUNT_ID,
          branchId: BRANCH_ID,
          bankAccountPurpose: 'CHECKING',
        })
    default:
      console.error(`driver.mjs: unknown operation ${op}`)
      process.exit(2)
  }
}

function errorText(error) {
  return error && error.code ? `${error.name}(${error.code}): ${error.message}` : String(error)
}

const tally = { errors: 0, firstError: null }
function failed(error) {
  tally.errors += 1
  if (tally.firstError === null) tally.firstError = errorText(error)
}

async function batch(call, calls, concurrency, tag) {
  let next = 0
  async function worker() {
    for (;;) {
      const n = next++
      if (n >= calls) return
      try {
        await call(`${tag}${n}`)
      } catch (error) {
        failed(error)
      }
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, calls)) }, worker))
  return (performance.now() - started) / 1000
}

async function run(op, calls, concurrency) {
  const call = callOf(Client.fromEnv(), op)
  await batch(call, Math.min(200, Math.floor(calls / 10)), concurrency, `${ctx.prefix}-w`)
  const seconds = await batch(call, calls, concurrency, `${ctx.prefix}-`)
  console.log(
    JSON.stringify({
      client: 'node',
      op,
      calls,
      concurrency,
      seconds,
      calls_per_sec: calls / seconds,
      errors: tally.errors,
      first_error: tally.firstError,
      peak_rss_kib: statusKib('VmHWM'),
    }),
  )
  return tally.errors === 0
}

async function memory(inFlight) {
  const pay = callOf(Client.fromEnv(), 'pay')
  const runs = []
  for (const round of [1, 2]) {
    const started = performance.now()
    let outcomes = await Promise.allSettled(
      Array.from({ length: inFlight }, (_, n) => pay(`${ctx.prefix}-m${round}-${n}`)),
    )
    const seconds = (performance.now() - started) / 1000
    const failures = outcomes.filter((o) => o.status === 'rejected')
    outcomes = null
    // Let the connections past the client's idle pool close first.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    if (typeof globalThis.gc === 'function') globalThis.gc()
    const heap = process.memoryUsage()
    runs.push({
      seconds,
      errors: failures.length,
      first_error: failures.length ? errorText(failures[0].reason) : null,
      rss_after_kib: statusKib('VmRSS'),
      open_fds: openFds(),
      // The JavaScript side's share, to tell it from the native side's.
      js_heap_used_kib: Math.round(heap.heapUsed / 1024),
      js_heap_total_kib: Math.round(heap.heapTotal / 1024),
    })
  }
  console.log(JSON.stringify({ client: 'node', in_flight: inFlight, runs, peak_rss_kib: statusKib('VmHWM') }))
  return runs.every((r) => r.errors === 0)
}

const [mode, client, ...rest] = process.argv.slice(2)
let ok
if (mode === 'run' && client === 'node' && rest.length === 3) {
  ok = await run(rest[0], Number(rest[1]), Number(rest[2]))
} else if (mode === 'memory' && client === 'node' && rest.length === 1) {
  ok = await memory(Number(rest[0]))
} else {
  console.error('usage: driver.mjs run node <op> <calls> <concurrency> | memory node <in-flight>')
  process.exit(2)
}
process.exitCode = ok ? 0 : 1
