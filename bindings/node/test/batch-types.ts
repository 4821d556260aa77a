// Type checks of pockyt-payouts/batch (tsc --noEmit, see tsconfig.json):
// the batch's surface as a TypeScript user sees it.
import { Client, PockytError } from 'pockyt-payouts'
import { Batch, BatchError, BatchReport, ROW_STATES, defaultJournalPath } from 'pockyt-payouts/batch'
import type { BatchOptions, BatchProgress, RowError, RowState, Shortfall } from 'pockyt-payouts/batch'

export async function batchTypes(client: Client): Promise<void> {
  const seen: BatchProgress[] = []
  const options: BatchOptions = {
    journal: new URL('file:///tmp/may.journal'),
    concurrency: 8,
    rate: 20,
    dryRun: false,
    skipInvalid: true,
    skipFundsCheck: false,
    format: 'csv',
    statusRounds: 3,
    statusBackoffMs: 500,
    onProgress: (progress) => {
      seen.push(progress)
      const phase: 'checking' | 'paying' | 'following' = progress.phase
      void phase
    },
  }
  const batch = new Batch(client, options)
  const journal: string | null = batch.journal
  const report: BatchReport = await batch.run('may.csv')
  const ok: boolean = report.isSuccess() && report.success
  const paid: number = report.paid + report.count('success') + report.states.pending
  const usd: string | undefined = report.totals['USD']?.pending?.amount
  const invalid: RowError[] = report.invalidRows
  const state: RowState = ROW_STATES[0] ?? 'planned'
  await batch.status()
  await batch.report('may.csv')
  await batch.writeReport('report.json', { file: 'may.csv', format: 'json' })
  const changed: boolean = await batch.applyEvent({ transactionNo: '1', status: 'success', invoiceId: 'may-001' })
  const path: string = defaultJournalPath('may.csv')
  try {
    await batch.run(new URL('file:///tmp/may.csv'))
  } catch (error) {
    if (error instanceof BatchError) {
      const base: PockytError = error
      const rows: RowError[] = error.rows
      const short: Shortfall[] = error.shortfalls
      const count: number | undefined = error.count
      void [base, rows, short, count, error.code, error.field, error.line, error.path, error.rule, error.journal]
    }
  }
  void [journal, ok, paid, usd, invalid, state, changed, path]
}
