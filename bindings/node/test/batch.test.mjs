// Batch payouts from Node (pockyt-payouts/batch) against the in-process
// sandbox: every row paid once, progress reported, refused files naming
// row and field, dry runs moving no money, reruns resuming without paying
// again, reports written; and the README's example.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigurationError, PockytError } from 'pockyt-payouts'
import { Batch, BatchError, BatchReport, ROW_STATES, defaultJournalPath } from 'pockyt-payouts/batch'
import { startSandbox } from 'pockyt-payouts/testing'

const AMOUNTS = ['10.00', '20.50', '0.99', '100.00', '5.01']
const TOTAL_CENTS = 13650
const HEADER_SNAKE = 'customer_no,account_token,amount,currency,invoice_id'
const HEADER_WIRE = 'customerNo,accountToken,amount,currency,invoiceId'

let sandbox
let client
let dir

before(async () => {
  sandbox = await startSandbox({ settleDelayMs: 50, balances: { USD: '1000000.00', EUR: '50.00' } })
  client = sandbox.client()
  dir = mkdtempSync(join(tmpdir(), 'pockyt-batch-test-'))
})

after(async () => {
  await sandbox.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function payeeAndAccount() {
  const payee = await client.registerPayee({ profileType: 'INDIVIDUAL', dateOfBirth: '1990-05-17', firstName: 'Ada' })
  const account = await client.addBankAccount({
    customerNo: payee.customerNo,
    bankAccountId: '7861053298',
    branchId: '101089292',
    bankAccountPurpose: 'CHECKING',
  })
  return [payee.customerNo, account.accountToken]
}

function csvFile(name, header, rows) {
  const path = join(dir, name)
  writeFileSync(path, [header, ...rows.map((row) => row.join(','))].join('\n') + '\n')
  return path
}

function rowsFor([customerNo, accountToken], prefix) {
  return AMOUNTS.map((amount, n) => [customerNo, accountToken, amount, 'USD', `${prefix}-${n + 1}`])
}

const cents = (amount) => Math.round(Number(amount) * 100)

function paidInvoices(prefix) {
  return sandbox.payouts().map((p) => p.invoiceId).filter((id) => id.startsWith(`${prefix}-`))
}

function assertAllPaid(report, prefix) {
  assert.ok(report instanceof BatchReport)
  assert.equal(report.isSuccess(), true)
  assert.equal(report.rows, AMOUNTS.length)
  assert.equal(report.paid, AMOUNTS.length)
  assert.equal(report.count('pending') + report.count('success'), AMOUNTS.length)
  assert.equal(report.invalid, 0)
  assert.deepEqual(report.invalidRows, [])
  assert.deepEqual(Object.keys(report.states).sort(), [...ROW_STATES].sort())
  const totals = Object.values(report.totals.USD)
  assert.equal(totals.reduce((sum, t) => sum + cents(t.amount), 0), TOTAL_CENTS)
  assert.equal(totals.reduce((sum, t) => sum + t.rows, 0), AMOUNTS.length)
  const invoices = paidInvoices(prefix)
  assert.deepEqual(invoices.sort(), AMOUNTS.map((_, n) => `${prefix}-${n + 1}`).sort(), 'each row paid once')
}

test('a CSV file with snake_case columns: every row paid once, progress reported', async () => {
  const file = csvFile('snake.csv', HEADER_SNAKE, rowsFor(await payeeAndAccount(), 'snake'))
  const before = cents(sandbox.balance('USD'))
  const seen = []
  const batch = new Batch(client, { onProgress: (progress) => seen.push(progress) })
  assert.equal(batch.journal, null)
  const report = await batch.run(file)

  assertAllPaid(report, 'snake')
  assert.equal(report.batch.rows, AMOUNTS.length)
  assert.equal(report.source, file)
  assert.equal(defaultJournalPath(file), `${file}.journal`)
  assert.ok(existsSync(`${file}.journal`))
  const paying = seen.filter((p) => p.phase === 'paying')
  assert.ok(paying.length > 0)
  assert.deepEqual(paying.at(-1), { phase: 'paying', total: AMOUNTS.length, done: AMOUNTS.length, paid: AMOUNTS.length, problems: 0 })
  assert.ok(seen.every((p) => p.phase !== 'end'))
  // The ledger: the money left the balance once.
  assert.equal(cents(sandbox.balance('USD')), before - TOTAL_CENTS)
})

test('a CSV file with wire names, a named journal (as a file: URL), limited concurrency and rate', async () => {
  const file = csvFile('wire.csv', HEADER_WIRE, rowsFor(await payeeAndAccount(), 'wire'))
  const journal = join(dir, 'wire.journal')
  const batch = new Batch(client, { journal: pathToFileURL(journal), concurrency: 2, rate: 1000 })
  assert.equal(batch.journal, journal)
  assertAllPaid(await batch.run(pathToFileURL(file)), 'wire')
  assert.ok(existsSync(journal))
  assert.ok(!existsSync(`${file}.journal`))
})

test('a JSON Lines file', async () => {
  const [customerNo, accountToken] = await payeeAndAccount()
  const file = join(dir, 'rows.jsonl')
  const lines = AMOUNTS.map((amount, n) =>
    JSON.stringify({ customerNo, account_token: accountToken, amount, currency: 'USD', invoiceId: `jsonl-${n + 1}` }),
  )
  writeFileSync(file, lines.join('\n') + '\n')
  assertAllPaid(await new Batch(client).run(file), 'jsonl')
})

test('invalid rows refuse the whole file, naming row and field; skipInvalid runs the rest', async () => {
  const [customerNo, accountToken] = await payeeAndAccount()
  const file = csvFile('bad.csv', HEADER_SNAKE, [
    [customerNo, accountToken, '10.00', 'USD', 'bad-1'],
    [customerNo, accountToken, '"1,000"', 'USD', 'bad-2'],
    [customerNo, accountToken, '5.00', 'USD', 'bad-1'],
  ])
  const error = await new Batch(client).run(file).then(
    () => assert.fail('the file was accepted'),
    (e) => e,
  )
  assert.ok(error instanceof BatchError)
  assert.ok(error instanceof PockytError)
  assert.equal(error.code, 'BATCH_INVALID_ROWS')
  assert.equal(error.count, 2)
  assert.deepEqual(
    error.rows.map((r) => [r.row, r.field, r.code, r.invoiceId]),
    [
      [3, 'amount', 'INVALID_REQUEST', 'bad-2'],
      [4, 'invoiceId', 'DUPLICATE_INVOICE_ID', 'bad-1'],
    ],
  )
  assert.match(error.message, /row 3: amount/)
  assert.deepEqual(paidInvoices('bad'), [])

  const report = await new Batch(client, { skipInvalid: true }).run(file)
  assert.equal(report.paid, 1)
  assert.equal(report.invalid, 2)
  assert.equal(report.isSuccess(), false)
  assert.deepEqual(report.invalidRows.map((r) => [r.row, r.field]), [[3, 'amount'], [4, 'invoiceId']])
  assert.deepEqual(paidInvoices('bad'), ['bad-1'])
})

test('a file that is not a batch: BATCH_INPUT', async () => {
  const file = csvFile('odd.csv', 'customer_no,amount,colour', [['1', '2', '3']])
  await assert.rejects(new Batch(client).run(file), (e) => e instanceof BatchError && e.code === 'BATCH_INPUT' && e.field === 'colour' && e.line === 1)
  await assert.rejects(new Batch(client).run(join(dir, 'missing.csv')), { code: 'BATCH_INPUT' })
})

test('a dry run moves no money', async () => {
  const file = csvFile('dry.csv', HEADER_SNAKE, rowsFor(await payeeAndAccount(), 'dry'))
  const before = sandbox.balance('USD')
  const report = await new Batch(client, { dryRun: true }).run(file)
  assert.equal(report.dryRun, true)
  assert.equal(report.isSuccess(), true)
  assert.equal(report.paid, 0)
  assert.equal(report.count('planned'), AMOUNTS.length)
  assert.deepEqual(paidInvoices('dry'), [])
  assert.equal(sandbox.balance('USD'), before)
  // Then for real.
  assertAllPaid(await new Batch(client).run(file), 'dry')
})

test('running the same file again pays nothing new', async () => {
  const file = csvFile('again.csv', HEADER_SNAKE, rowsFor(await payeeAndAccount(), 'again'))
  const first = await new Batch(client).run(file)
  const balance = sandbox.balance('USD')
  const payouts = sandbox.payouts().length
  const second = await new Batch(client).run(file)
  assertAllPaid(second, 'again')
  assert.equal(sandbox.payouts().length, payouts)
  assert.equal(sandbox.balance('USD'), balance)
  assert.deepEqual(second.batch, first.batch)
})

test('insufficient funds refuse to start', async () => {
  const [customerNo, accountToken] = await payeeAndAccount()
  const file = csvFile('eur.csv', HEADER_SNAKE, [[customerNo, accountToken, '75.00', 'EUR', 'eur-1']])
  const error = await new Batch(client).run(file).catch((e) => e)
  assert.ok(error instanceof BatchError)
  assert.equal(error.code, 'BATCH_INSUFFICIENT_FUNDS')
  assert.deepEqual(error.shortfalls, [{ currency: 'EUR', needed: '75.00', available: '50.00' }])
  assert.deepEqual(paidInvoices('eur'), [])
})

test('status follows up, report reads the journal, applyEvent records an IPN', async () => {
  const pair = await payeeAndAccount()
  const file = csvFile('follow.csv', HEADER_SNAKE, [...rowsFor(pair, 'follow'), [...pair, '1.00', 'USD', 'failed-follow']])
  const journal = join(dir, 'follow.journal')
  const seen = []
  const batch = new Batch(client, { journal, statusRounds: 50, statusBackoffMs: 50, onProgress: (p) => seen.push(p) })
  const ran = await batch.run(file)
  assert.equal(ran.paid, AMOUNTS.length + 1)
  const followed = await batch.status(file)
  assert.equal(followed.count('success'), AMOUNTS.length)
  assert.equal(followed.count('failed'), 1)
  assert.equal(followed.isSuccess(), false)
  assert.ok(seen.some((p) => p.phase === 'following'))
  assert.deepEqual(await batch.report(), followed)
  assert.deepEqual(await batch.status(), followed)

  const { transactionNo } = await client.inquirePayout({ invoiceId: 'follow-1' })
  const returned = { transactionNo, status: 'returned', invoiceId: 'follow-1' }
  assert.equal(await batch.applyEvent(returned), true)
  assert.equal(await batch.applyEvent(returned), false)
  assert.equal(await batch.applyEvent({ transactionNo, status: 'pending', invoiceId: 'follow-1' }), false)
  assert.equal(await batch.applyEvent({ transactionNo: '1', status: 'success', invoiceId: 'elsewhere' }), false)
  assert.equal((await batch.report(file)).count('returned'), 1)
  await assert.rejects(batch.applyEvent({ status: 'success' }), (e) => e.code === 'INVALID_REQUEST' && e.field === 'event')
})

test('writeReport writes CSV and JSON', async () => {
  const pair = await payeeAndAccount()
  const file = csvFile('report.csv', HEADER_SNAKE, [...rowsFor(pair, 'report'), [...pair, 'abc', 'USD', 'report-bad']])
  const batch = new Batch(client, { skipInvalid: true })
  await batch.run(file)

  const csvOut = join(dir, 'out.csv')
  await batch.writeReport(csvOut, { file })
  const [header, ...lines] = readFileSync(csvOut, 'utf8').trim().split('\n')
  assert.equal(header, 'row,invoiceId,customerNo,accountToken,amount,currency,state,transactionNo,errorCode,errorMessage')
  assert.equal(lines.length, AMOUNTS.length + 1)
  assert.ok(lines.some((line) => line.startsWith('7,report-bad,') && line.includes(',invalid,')))

  const jsonOut = join(dir, 'out.json')
  await batch.writeReport(jsonOut, { file, format: 'json' })
  const document = JSON.parse(readFileSync(jsonOut, 'utf8'))
  assert.equal(document.summary.rows, AMOUNTS.length)
  assert.equal(document.rows.length, AMOUNTS.length + 1)

  await assert.rejects(batch.writeReport(join(dir, 'x.xml'), { file, format: 'xml' }), (e) => e instanceof ConfigurationError && e.field === 'format')
  // No batch: no file left behind.
  const nowhere = join(dir, 'nowhere.csv')
  await assert.rejects(new Batch(client, { journal: join(dir, 'empty.journal') }).writeReport(nowhere), { code: 'BATCH_NOT_FOUND' })
  assert.ok(!existsSync(nowhere))
})

test('an exception in onProgress stops the batch and is what run rejects with; a rerun finishes', async () => {
  const file = csvFile('stop.csv', HEADER_SNAKE, rowsFor(await payeeAndAccount(), 'stop'))
  const boom = new Error('stop here')
  const batch = new Batch(client, {
    concurrency: 1,
    onProgress: () => {
      throw boom
    },
  })
  await assert.rejects(batch.run(file), (e) => e === boom)
  // Stopped cleanly: nothing left in flight, the rest still to pay.
  const stopped = await new Batch(client).report(file)
  assert.equal(stopped.count('sending'), 0)
  assert.equal(stopped.paid + stopped.count('planned'), AMOUNTS.length)
  const report = await new Batch(client).run(file)
  assert.equal(report.paid, AMOUNTS.length)
  const invoices = paidInvoices('stop')
  assert.equal(new Set(invoices).size, invoices.length)
})

test('options are checked: types when made, ranges when run; a journal is needed without a file', async () => {
  const file = csvFile('empty.csv', HEADER_SNAKE, [])
  assert.throws(() => new Batch(client, { concurrency: 'eight' }), (e) => e instanceof ConfigurationError && e.field === 'concurrency')
  assert.throws(() => new Batch(client, { colour: 'red' }), (e) => e instanceof ConfigurationError && e.field === 'colour')
  assert.throws(() => new Batch(client, { format: 'xml' }), (e) => e instanceof ConfigurationError && e.field === 'format')
  assert.throws(() => new Batch(client, { onProgress: 'yes' }), (e) => e instanceof ConfigurationError && e.field === 'onProgress')
  assert.throws(() => new Batch({ request() {} }), TypeError)
  await assert.rejects(new Batch(client, { concurrency: 0 }).run(file), (e) => e instanceof ConfigurationError && e.field === 'concurrency')
  await assert.rejects(new Batch(client, { rate: -1 }).run(file), (e) => e instanceof ConfigurationError && e.field === 'rate')
  await assert.rejects(new Batch(client).report(), (e) => e instanceof ConfigurationError && e.field === 'journal')
  // No journal there: not found, and none made.
  await assert.rejects(new Batch(client, { journal: join(dir, 'none.journal') }).report(), (e) => e instanceof BatchError && e.code === 'BATCH_NOT_FOUND')
  assert.ok(!existsSync(join(dir, 'none.journal')))
})

test('require and import give the same batch classes', async () => {
  const require = createRequire(import.meta.url)
  const required = require('pockyt-payouts/batch')
  assert.equal(required.Batch, Batch)
  assert.equal(required.BatchError, BatchError)
  assert.deepEqual(Object.keys(required).sort(), ['Batch', 'BatchError', 'BatchReport', 'ROW_STATES', 'defaultJournalPath'])
})

test("the README's batch example runs", { timeout: 60_000 }, async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('## Batch payouts'))
  const [, code] = section.match(/```js\n([\s\S]*?)```/)
  // Run as a module of this package (so `pockyt-payouts` resolves to it),
  // against the test's sandbox, in a scratch directory.
  const script = join(new URL('..', import.meta.url).pathname, `readme-batch-${process.pid}.mjs`)
  const workdir = mkdtempSync(join(dir, 'readme-'))
  writeFileSync(script, code)
  try {
    const { execFile } = await import('node:child_process')
    const { promisify } = await import('node:util')
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      cwd: workdir,
      timeout: 50_000,
      env: {
        ...process.env,
        POCKYT_MERCHANT_NO: sandbox.merchantNo,
        POCKYT_STORE_NO: sandbox.storeNo,
        POCKYT_API_TOKEN: sandbox.apiToken,
        POCKYT_BASE_URL: sandbox.baseUrl,
      },
    })
    assert.match(stdout, /^paying: 3\/3 done, 0 problems$/m)
    assert.match(stdout, /^3 true 60\.00$/m)
    assert.match(stdout, /^BATCH_INVALID_ROWS 2 amount /m)
    assert.ok(existsSync(join(workdir, 'may-report.csv')))
  } finally {
    rmSync(script, { force: true })
  }
})
