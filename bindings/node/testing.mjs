// ESM entry point of pockyt-payouts/testing (the same objects as require).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const testing = require('./testing.js')

export const { startSandbox } = testing

export default testing
