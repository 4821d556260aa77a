// ESM entry point of pockyt-payouts/express (the same objects as require).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const express = require('./express.js')

export const { payoutWebhook } = express

export default express
