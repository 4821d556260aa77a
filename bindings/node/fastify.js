'use strict'

/**
 * pockyt-payouts/fastify: a Fastify plugin for the API's IPNs (webhooks).
 * Its route reads the raw body (its own content-type parser, encapsulated:
 * a globally registered @fastify/formbody does not decode it), verifies
 * it, runs your handler at most once per transactionNo + status, and
 * answers what the Rust core says: plain text `success` once handled (or
 * for a duplicate), non-2xx otherwise so the API resends.
 */

const { ConfigurationError } = require('./errors.js')
const { Webhook, MAX_BODY_BYTES } = require('./webhooks.js')

/**
 * `fastify.register(payoutWebhook, { path: '/pockyt/ipn', apiToken, handler })`.
 * `handler(event, request)` may be async; throwing makes the API resend.
 * A body over MAX_BODY_BYTES is answered 413 by Fastify.
 * @param {import('fastify').FastifyInstance} fastify
 * @param {import('./fastify').PayoutWebhookPluginOptions} options
 */
async function payoutWebhook(fastify, options) {
  const webhook = new Webhook(options)
  const { handler, onError, path = '/' } = options
  if (typeof handler !== 'function') {
    throw new ConfigurationError('invalid configuration: handler must be a function', { field: 'handler' })
  }
  if (onError !== undefined && typeof onError !== 'function') {
    throw new ConfigurationError('invalid configuration: onError must be a function', { field: 'onError' })
  }
  // A plugin is its own encapsulation context: these parsers replace the
  // inherited ones (formbody's included) for this route only.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (request, body, done) => {
    done(null, body)
  })
  fastify.post(path, async (request, reply) => {
    const result = await webhook.handle(request.body, handler, request)
    if (result.error !== undefined && result.outcome !== 'refused') {
      if (onError !== undefined) {
        onError(result.error, result.event)
      } else {
        request.log.error({ err: result.error, outcome: result.outcome }, 'pockyt-payouts: IPN not handled (the API will resend)')
      }
    }
    return reply.code(result.reply.status).type(result.reply.contentType).send(result.reply.body)
  })
}

module.exports = { payoutWebhook }
module.exports.default = payoutWebhook
