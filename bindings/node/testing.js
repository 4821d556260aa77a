'use strict'

/**
 * pockyt-payouts/testing: the Rust sandbox (pockyt-sandbox), a local
 * stateful emulator of the Payouts v3 API, served inside this process.
 */

const native = require('./native.js')
const { Client } = require('./index.js')
const { fromNative, checkTokenOption } = require('./errors.js')

function unwrap(read) {
  try {
    return read()
  } catch (error) {
    throw fromNative(error)
  }
}

/**
 * Starts a sandbox on 127.0.0.1 and a free port (unless `host` / `port`
 * say otherwise) and resolves once it is listening.
 * @param {import('./testing').SandboxOptions} [options]
 * @returns {Promise<import('./testing').Sandbox>}
 */
async function startSandbox(options) {
  checkTokenOption(options)
  let sandbox
  try {
    sandbox = await native.startSandbox(options)
  } catch (error) {
    throw fromNative(error)
  }
  const { baseUrl, merchantNo, storeNo, apiToken } = sandbox
  return {
    baseUrl,
    merchantNo,
    storeNo,
    apiToken,
    client(overrides) {
      return new Client({ merchantNo, storeNo, apiToken, ...overrides, baseUrl })
    },
    stop() {
      return sandbox.stop()
    },
    payouts() {
      return unwrap(() => sandbox.payouts())
    },
    balance(currency) {
      return unwrap(() => sandbox.balance(currency))
    },
    ipnLog() {
      return unwrap(() => sandbox.ipnLog())
    },
    resendIpn(invoiceId) {
      return unwrap(() => sandbox.resendIpn(invoiceId))
    },
    reset() {
      unwrap(() => sandbox.reset())
    },
    state() {
      return unwrap(() => sandbox.state())
    },
  }
}

module.exports = { startSandbox }
