// ESM entry point: the same objects as `require('pockyt-payouts')`, so
// classes and `instanceof` checks are shared between both module systems.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const pockyt = require('./index.js')

export const {
  Client,
  sign,
  verifyIpn,
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
} = pockyt

export default pockyt
