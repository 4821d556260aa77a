'use strict'

/**
 * The Error classes of pockyt-payouts. The native addon throws (or rejects
 * with) an Error named `PockytNativeError` whose properties carry the Rust
 * SDK's error; `fromNative` picks the class for its `code`. That mapping is
 * the only logic here (every rule lives in Rust), but for one guard: an API
 * token that is not a string is refused before it reaches the addon
 * (`requireStringToken`, `checkTokenOption`), because napi's conversion
 * errors print the value they could not convert, which would be the token.
 */

/** Base class of every error of this package; `code` is stable. */
class PockytError extends Error {
  /**
   * @param {string} message
   * @param {object} [details] properties of the native error
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = new.target.name
    /** The stable code: the API's ret_code, or INVALID_REQUEST, TIMEOUT, ... */
    this.code = details.code ?? 'UNKNOWN'
    /** Whether the failed request may have reached the server. */
    this.mayHaveBeenReceived = details.mayHaveBeenReceived ?? false
  }
}

/** The input broke a rule; nothing was sent. `field` names the field. */
class InvalidRequestError extends PockytError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'INVALID_REQUEST' })
    /** The field at fault (camelCase wire name). */
    this.field = details.field
  }
}

/** The client's configuration (or a call's connectTimeoutMs) is incomplete or wrong. */
class ConfigurationError extends PockytError {
  constructor(message, details = {}) {
    super(message, { ...details, code: 'INVALID_CONFIG' })
    /** The option (or POCKYT_* environment variable) at fault. */
    this.field = details.field
  }
}

/** The API answered an error ret_code. */
class ApiError extends PockytError {
  constructor(message, details = {}) {
    super(message, details)
    /** The API's ret_code, e.g. "000040". */
    this.retCode = details.retCode ?? details.code
    /** The API's message (may be empty). */
    this.retMsg = details.retMsg ?? ''
    /** The operation that was refused, e.g. "pay". */
    this.operation = details.operation
  }
}

/** 000000: system error. */
class ApiSystemError extends ApiError {}
/** 000020: a mandatory parameter is missing. */
class ParameterNullError extends ApiError {}
/** 000021: no related information (unknown customerNo, accountToken, invoiceId). */
class NoRelatedInformationError extends ApiError {}
/** 000022: parameters do not match (e.g. an account that is not the payee's). */
class ParametersMismatchError extends ApiError {}
/** 000023: a parameter's value is wrong. */
class ParameterValueError extends ApiError {}
/** 000030: no rights / access denied (bad signature, wrong merchant or store). */
class AccessDeniedError extends ApiError {}
/** 000040: the account balance is not sufficient. */
class InsufficientBalanceError extends ApiError {}
/** 000080: the supplier's system failed. */
class SupplierSystemError extends ApiError {}

/** The connection failed. */
class NetworkError extends PockytError {}

/** No complete answer within the timeout; the request may have been received. */
class PockytTimeoutError extends PockytError {
  constructor(message, details = {}) {
    super(message, details)
    /** The operation that timed out. */
    this.operation = details.operation
    /** The timeout that expired, in milliseconds. */
    this.timeoutMs = details.timeoutMs
  }
}

/** The server answered a non-2xx HTTP status. */
class HttpError extends PockytError {
  constructor(message, details = {}) {
    super(message, details)
    /** The HTTP status. */
    this.status = details.status
    /** The start of the body (never contains the API token). */
    this.body = details.body ?? ''
  }
}

/** The answer was not the JSON this API sends. */
class DecodeError extends PockytError {
  constructor(message, details = {}) {
    super(message, details)
    /** The HTTP status of the answer. */
    this.status = details.status
    /** The start of the body (never contains the API token). */
    this.body = details.body ?? ''
  }
}

/**
 * A payout request may have reached the server and whether it created a
 * payout could not be established. Do not pay again: reconcile later with
 * `inquirePayout({ invoiceId })`. `cause` is the last failure seen.
 */
class PayoutOutcomeUnknownError extends PockytError {
  constructor(message, details = {}) {
    super(message, details)
    /** The payout's invoiceId, the key to reconcile with. */
    this.invoiceId = details.invoiceId
  }
}

const API_CLASSES = {
  '000000': ApiSystemError,
  '000020': ParameterNullError,
  '000021': NoRelatedInformationError,
  '000022': ParametersMismatchError,
  '000023': ParameterValueError,
  '000030': AccessDeniedError,
  '000040': InsufficientBalanceError,
  '000080': SupplierSystemError,
}

const CLASSES = {
  INVALID_REQUEST: InvalidRequestError,
  INVALID_CONFIG: ConfigurationError,
  NETWORK_ERROR: NetworkError,
  TIMEOUT: PockytTimeoutError,
  HTTP_ERROR: HttpError,
  DECODE_ERROR: DecodeError,
  PAYOUT_OUTCOME_UNKNOWN: PayoutOutcomeUnknownError,
}

/** The class for an error code (an unknown ret_code gets ApiError). */
function classFor(code) {
  return API_CLASSES[code] ?? CLASSES[code] ?? ApiError
}

/**
 * The Error subclass for an error thrown by the native addon; anything else
 * is returned as it is.
 */
function fromNative(error) {
  if (!(error instanceof Error) || error.name !== 'PockytNativeError') {
    return error
  }
  const details = { ...error }
  if (error.cause !== undefined) {
    details.cause = fromNative(error.cause)
  }
  const Class = classFor(error.code)
  const converted = new Class(error.message, details)
  Error.captureStackTrace(converted, fromNative)
  return converted
}

/**
 * Throws InvalidRequestError (field `apiToken`) unless `apiToken`, an
 * argument of sign / verifyIpn, is a string. The error never carries the
 * value.
 */
function requireStringToken(apiToken) {
  if (typeof apiToken !== 'string') {
    const error = new InvalidRequestError('apiToken must be a string', { field: 'apiToken' })
    Error.captureStackTrace(error, requireStringToken)
    throw error
  }
}

/**
 * Throws ConfigurationError (field `apiToken`) when an options object (of
 * `new Client` or `startSandbox`) holds an apiToken that is not a string;
 * the error never carries the value. A missing one (undefined or null), or
 * options that are not an object, are left to the addon, which knows
 * whether the token is required and reports bad options itself.
 */
function checkTokenOption(options) {
  if (options === null || typeof options !== 'object') {
    return
  }
  const { apiToken } = options
  if (apiToken !== undefined && apiToken !== null && typeof apiToken !== 'string') {
    const error = new ConfigurationError('invalid configuration: apiToken must be a string', { field: 'apiToken' })
    Error.captureStackTrace(error, checkTokenOption)
    throw error
  }
}

module.exports = {
  PockytError,
  InvalidRequestError,
  ConfigurationError,
  ApiError,
  ApiSystemError,
  ParameterNullError,
  NoRelatedInformationError,
  ParametersMismatchError,
  ParameterValueError,
  AccessDeniedError,
  InsufficientBalanceError,
  SupplierSystemError,
  NetworkError,
  PockytTimeoutError,
  HttpError,
  DecodeError,
  PayoutOutcomeUnknownError,
  classFor,
  fromNative,
  requireStringToken,
  checkTokenOption,
}
