// ESM entry point of pockyt-payouts/webhooks (the same objects as require).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const webhooks = require('./webhooks.js')

export const {
  constructEvent,
  eventFromFields,
  dedupKey,
  replyFor,
  tooLargeReply,
  MemoryEventStore,
  Webhook,
  WebhookError,
  SUCCESS_BODY,
  CONTENT_TYPE,
  MAX_BODY_BYTES,
} = webhooks

export default webhooks
