'use strict'

/**
 * pockyt-payouts/express: an Express (or plain node:http) handler for the
 * API's IPNs (webhooks) that gets the raw body right whatever body parser
 * runs before it, verifies it, runs your handler at most once per
 * transactionNo + status, and answers what the Rust core says: plain text
 * `success` once handled (or for a duplicate), non-2xx otherwise so the
 * API resends.
 */

const { ConfigurationError } = require('./errors.js')
const { Webhook, MAX_BODY_BYTES, tooLargeReply } = require('./webhooks.js')

/** Writes a reply `{ status, body, contentType }` with node:http's API. */
function send(res, reply) {
  res.statusCode = reply.status
  res.setHeader('content-type', reply.contentType)
  res.end(reply.body)
}

/**
 * Reads a stream no parser consumed, at most MAX_BODY_BYTES; resolves to
 * the bytes, or to null when the body is larger.
 */
function readRaw(req) {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    return Promise.resolve(null)
  }
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    const onData = (chunk) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData)
        req.pause()
        resolve(null)
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks)))
    req.once('error', reject)
  })
}

/**
 * Where the IPN is in this request: `{ raw }` (the bytes as received),
 * `{ fields }` (decoded by a body parser that consumed the stream), or
 * `{ tooLarge: true }`.
 * - express.raw() / express.text() left a Buffer / string: that is the raw body.
 * - express.urlencoded() (extended or not) parsed it (body-parser sets
 *   `req._body`): the raw bytes are gone, verify the decoded fields.
 * - No parser read the stream (none ran, or express.json() skipped a form
 *   body): read it here.
 */
async function ipnSource(req) {
  const { body } = req
  if (typeof body === 'string' || body instanceof Uint8Array) {
    return { raw: body }
  }
  const parsed = req._body === true
  const unread = !parsed && !req.readableEnded && req.readable !== false
  if (unread) {
    const raw = await readRaw(req)
    return raw === null ? { tooLarge: true } : { raw }
  }
  if (body !== null && typeof body === 'object') {
    return { fields: body }
  }
  // constructEvent explains an undefined body.
  return { raw: body }
}

/**
 * An Express handler (also a plain `node:http` request listener) for
 * IPNs: `app.post('/pockyt/ipn', payoutWebhook({ apiToken, handler }))`.
 * `handler(event, req)` may be async; throwing makes the API resend.
 * Throws WebhookError (IPN_EMPTY_TOKEN) now for an empty token.
 * @param {import('./express').PayoutWebhookOptions} options
 */
function payoutWebhook(options) {
  const webhook = new Webhook(options)
  const { handler, onError } = options
  if (typeof handler !== 'function') {
    throw new ConfigurationError('invalid configuration: handler must be a function', { field: 'handler' })
  }
  if (onError !== undefined && typeof onError !== 'function') {
    throw new ConfigurationError('invalid configuration: onError must be a function', { field: 'onError' })
  }
  return async function pockytPayoutWebhook(req, res, next) {
    let result
    try {
      const source = await ipnSource(req)
      if (source.tooLarge) {
        res.setHeader('connection', 'close')
        send(res, tooLargeReply())
        return
      }
      result =
        'fields' in source
          ? await webhook.handleFields(source.fields, handler, req)
          : await webhook.handle(source.raw, handler, req)
    } catch (error) {
      // The body could not be read: Express's error handler answers (a
      // plain node:http server drops the connection); either way the API
      // resends.
      if (typeof next === 'function') {
        next(error)
      } else {
        res.destroy(error)
      }
      return
    }
    if (result.error !== undefined && result.outcome !== 'refused') {
      report(onError, result)
    }
    send(res, result.reply)
  }
}

/** Tells `onError` (or stderr) that a handler or the store failed. */
function report(onError, result) {
  if (onError !== undefined) {
    onError(result.error, result.event)
    return
  }
  console.error(`pockyt-payouts: IPN ${result.outcome} (the API will resend):`, result.error)
}

module.exports = { payoutWebhook }
