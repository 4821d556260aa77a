// ESM entry point of pockyt-payouts/fastify (the same objects as require).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const fastify = require('./fastify.js')

export const { payoutWebhook } = fastify

export default fastify.payoutWebhook
