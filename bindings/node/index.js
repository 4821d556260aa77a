'use strict'

/**
 * pockyt-payouts: the Pockyt (Yuansfer) Payouts v3 API for Node.js.
 *
 * A thin wrapper over the native (Rust) addon: one method per operation,
 * and the addon's errors turned into Error subclasses (see errors.js).
 * Validation, signing, retries and error mapping all happen in Rust.
 */

const { inspect } = require('node:util')
const native = require('./native.js')
const errors = require('./errors.js')

const { fromNative, requireStringToken, checkTokenOption } = errors

/** Marks the one constructor argument that carries a ready native client. */
const NATIVE = Symbol('pockyt-payouts.native')

/**
 * A client of the Payouts v3 API. One connection pool; safe to share
 * across any number of concurrent calls. Never shows the API token.
 */
class Client {
  #native

  /**
   * @param {import('./index').ClientOptions} options
   */
  constructor(options) {
    if (options !== null && typeof options === 'object' && options[NATIVE] !== undefined) {
      this.#native = options[NATIVE]
      return
    }
    checkTokenOption(options)
    try {
      this.#native = new native.NativeClient(options)
    } catch (error) {
      throw fromNative(error)
    }
  }

  /** A client configured from POCKYT_MERCHANT_NO, POCKYT_STORE_NO, POCKYT_API_TOKEN, POCKYT_ENV, POCKYT_BASE_URL. */
  static fromEnv() {
    let client
    try {
      client = native.NativeClient.fromEnv()
    } catch (error) {
      throw fromNative(error)
    }
    return new Client({ [NATIVE]: client })
  }

  /** The base URL requests go to. */
  get baseUrl() {
    return this.#native.baseUrl
  }

  /** The merchant number. */
  get merchantNo() {
    return this.#native.merchantNo
  }

  /** The store number. */
  get storeNo() {
    return this.#native.storeNo
  }

  /** The total time allowed for one attempt of a call, in milliseconds. */
  get timeoutMs() {
    return this.#native.timeoutMs
  }

  async #call(operation, params, options) {
    // The per-call options go to Rust as given, which checks them.
    const { timeoutMs, connectTimeoutMs } = options ?? {}
    try {
      return await this.#native.call(operation, params, timeoutMs, connectTimeoutMs)
    } catch (error) {
      throw fromNative(error)
    }
  }

  /** Registers a payee; resolves to the payee, with its customerNo. */
  registerPayee(params, options) {
    return this.#call('registerPayee', params, options)
  }

  /** Retrieves a payee by customerNo. */
  retrievePayee(params, options) {
    return this.#call('retrievePayee', params, options)
  }

  /** Updates a payee; fields not given are unchanged. */
  updatePayee(params, options) {
    return this.#call('updatePayee', params, options)
  }

  /** Adds a bank account to a payee; resolves to it, with the accountToken to pay. */
  addBankAccount(params, options) {
    return this.#call('addBankAccount', params, options)
  }

  /** Lists a payee's payout accounts. */
  listPayoutAccounts(params, options) {
    return this.#call('listPayoutAccounts', params, options)
  }

  /** Pays a payee. Never pays twice for one invoiceId (see "Retries and safety"). */
  pay(params, options) {
    return this.#call('pay', params, options)
  }

  /** Looks a payout up by invoiceId. */
  inquirePayout(params, options) {
    return this.#call('inquirePayout', params, options)
  }

  /** Reads the merchant's payout balance in one currency. */
  balance(params, options) {
    return this.#call('balance', params, options)
  }

  /** What JSON.stringify shows: never the API token. */
  toJSON() {
    return {
      baseUrl: this.baseUrl,
      merchantNo: this.merchantNo,
      storeNo: this.storeNo,
      timeoutMs: this.timeoutMs,
    }
  }

  [inspect.custom](depth, options, inspectValue) {
    const show = typeof inspectValue === 'function' ? inspectValue : inspect
    return `Client ${show(this.toJSON(), options)}`
  }
}

/**
 * verifySign over `params` (an object of string values; a verifySign among
 * them is left out) with the API token. An apiToken that is not a string
 * throws InvalidRequestError (field `apiToken`), which never shows it.
 * @param {Record<string, string>} params
 * @param {string} apiToken
 * @returns {string}
 */
function sign(params, apiToken) {
  requireStringToken(apiToken)
  try {
    return native.sign(params, apiToken)
  } catch (error) {
    throw fromNative(error)
  }
}

/**
 * Whether a received IPN carries a valid verifySign: the raw URL-encoded
 * body (string or Buffer/Uint8Array, exactly as received), a
 * URLSearchParams, or the decoded fields as an object. An apiToken that
 * is not a string throws InvalidRequestError (field `apiToken`), which
 * never shows it; an empty or whitespace-only apiToken throws
 * ConfigurationError (code INVALID_CONFIG, field `apiToken`). False for an
 * IPN the signing rule cannot read unambiguously (a name with = or &, a
 * value with &, invalid UTF-8, bad percent-encoding): pass the raw body,
 * which a URLSearchParams or a body parser has already decoded lossily.
 * @returns {boolean}
 */
function verifyIpn(ipn, apiToken) {
  requireStringToken(apiToken)
  try {
    if (typeof ipn === 'string' || ipn instanceof Uint8Array) {
      return native.verifyIpnBody(ipn, apiToken)
    }
    if (ipn instanceof URLSearchParams) {
      return native.verifyIpnBody(ipn.toString(), apiToken)
    }
    return native.verifyIpnFields(ipn, apiToken)
  } catch (error) {
    throw fromNative(error)
  }
}

module.exports = {
  Client,
  sign,
  verifyIpn,
  PockytError: errors.PockytError,
  InvalidRequestError: errors.InvalidRequestError,
  ConfigurationError: errors.ConfigurationError,
  ApiError: errors.ApiError,
  ApiSystemError: errors.ApiSystemError,
  ParameterNullError: errors.ParameterNullError,
  NoRelatedInformationError: errors.NoRelatedInformationError,
  ParametersMismatchError: errors.ParametersMismatchError,
  ParameterValueError: errors.ParameterValueError,
  AccessDeniedError: errors.AccessDeniedError,
  InsufficientBalanceError: errors.InsufficientBalanceError,
  SupplierSystemError: errors.SupplierSystemError,
  NetworkError: errors.NetworkError,
  PockytTimeoutError: errors.PockytTimeoutError,
  HttpError: errors.HttpError,
  DecodeError: errors.DecodeError,
  PayoutOutcomeUnknownError: errors.PayoutOutcomeUnknownError,
}
