// ESM entry point of pockyt-payouts/batch (the same objects as require).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const batch = require('./batch.js')

export const { Batch, BatchReport, BatchError, ROW_STATES, defaultJournalPath } = batch

export default batch
