// Types of the npm package `pockyt-payouts` (hand-written; the native
// part's generated types are in native.d.ts).
//
// Inputs use the wire's camelCase names and string values. Answers are
// plain objects that keep fields this version does not know, and
// enumerations in answers may carry values not listed here.

/** A string enumeration that stays open to values this version does not know. */
export type Open<T extends string> = T | (string & {})

export type ProfileType = 'INDIVIDUAL' | 'BUSINESS'
export type GovernmentIdType = 'ID_CARD' | 'SSN' | 'PASSPORT' | 'DRIVER_LICENSE' | 'BUSINESS_REGISTRATION_CERT'
export type AccountType = 'BANK_ACCOUNT' | 'CARD' | 'PAYPAL' | 'PREPAID_CARD' | 'ALIPAY'
export type BankAccountPurpose = 'CHECKING' | 'SAVINGS'
export type ProcessingChannel = 'STANDARD_ACH' | 'SAME_DAY_ACH' | 'REAL_TIME_PAY'
export type PayoutStatus = 'pending' | 'success' | 'failed' | 'returned'
export type PayeeStatus = 'Activated' | 'Pending' | 'Declined' | 'Deactivated'
export type AccountStatus = 'activated' | 'pending' | 'invalid'

/** Options of `new Client(options)`. */
export interface ClientOptions {
  /** The merchant number assigned by Pockyt. */
  merchantNo: string
  /** The store number assigned by Pockyt. */
  storeNo: string
  /**
   * The API token. Never shown by inspect, JSON.stringify or an error
   * message; one that is not a string throws ConfigurationError (field
   * `apiToken`) without showing it.
   */
  apiToken: string
  /** The provider's environment (default 'sandbox'); ignored when baseUrl is set. */
  environment?: 'sandbox' | 'production'
  /** An explicit base URL (a local sandbox, a proxy). */
  baseUrl?: string
  /** Total time for one attempt of a call, in milliseconds (default 30000). */
  timeoutMs?: number
  /** Time to establish a connection, in milliseconds (default 10000). */
  connectTimeoutMs?: number
  /** How many times a failed call may be sent again where that is safe (0 to 10, default 2). */
  maxRetries?: number
}

/**
 * The optional second argument of every call: overrides of the client's
 * timeouts for this call only. A value that is not a positive number is
 * refused before anything is sent: `timeoutMs` with InvalidRequestError,
 * `connectTimeoutMs` with ConfigurationError (`field` names it).
 */
export interface CallOptions {
  /** Total time for one attempt of this call, in milliseconds. */
  timeoutMs?: number
  /**
   * Time to establish a connection for this call, in milliseconds. Each
   * distinct value gets its own connection pool, built on first use and
   * reused after.
   */
  connectTimeoutMs?: number
}

/** Optional profile fields of registerPayee and updatePayee. */
export interface PayeeProfile {
  firstName?: string
  lastName?: string
  email?: string
  phone?: string
  street?: string
  street2?: string
  city?: string
  state?: string
  zip?: string
  /** Country of residence, free text or ISO 3166 alpha-3 (e.g. 'USA'). */
  country?: string
  /** ISO 3166-1 alpha-2 country code, two uppercase letters. */
  countryCode?: string
  /** The merchant's own reference for this payee. */
  customerCode?: string
  governmentId?: string
  governmentIdType?: GovernmentIdType
  /** Preferred language, e.g. 'en'. */
  lang?: string
}

export interface RegisterPayeeParams extends PayeeProfile {
  profileType: ProfileType
  /** YYYY-MM-DD, a real date in the past. */
  dateOfBirth: string
  /** Payor number, for merchant-of-record accounts. */
  payorNo?: string
}

export interface UpdatePayeeParams extends PayeeProfile {
  customerNo: string
  profileType?: ProfileType
  dateOfBirth?: string
}

export interface RetrievePayeeParams {
  customerNo: string
}

export interface AddBankAccountParams {
  customerNo: string
  /** The bank account number, 4 to 17 digits. */
  bankAccountId: string
  /** The 9-digit ABA routing number. */
  branchId: string
  bankAccountPurpose: BankAccountPurpose
  /** Always BANK_ACCOUNT (sent when not given). */
  accountType?: 'BANK_ACCOUNT'
  /** ISO 3166-1 alpha-2 (default 'US'). */
  accountCountry?: string
  /** ISO 4217 (default 'USD'). */
  accountCurrency?: string
  accountTag?: string
  clientIp?: string
  ipnUrl?: string
  payorNo?: string
}

export interface ListPayoutAccountsParams {
  customerNo: string
}

export interface PayParams {
  customerNo: string
  accountToken: string
  /** A positive decimal with at most two fraction digits, e.g. '500' or '12.50'. */
  amount: string
  /** ISO 4217, e.g. 'USD'. */
  currency: string
  /** Your unique id of this payout (1 to 64 characters): the key for inquiry and safe retries. */
  invoiceId: string
  description?: string
  note?: string
  subject?: string
  /** Where the payout's status notifications (IPN) are POSTed. */
  ipnUrl?: string
  processingChannel?: ProcessingChannel
}

export interface InquirePayoutParams {
  invoiceId: string
}

export interface BalanceParams {
  /** ISO 4217, e.g. 'USD'. */
  currency: string
}

/** Fields this version does not know are kept, with their values as received. */
export interface Extensible {
  [field: string]: unknown
}

/** A payee, as registerPayee and retrievePayee answer it. */
export interface Customer extends Extensible {
  /** The payee's number; always present (the core refuses an answer without it). */
  customerNo: string
  customerCode?: string
  profileType?: Open<ProfileType>
  payeeStatus?: Open<PayeeStatus>
  firstName?: string
  lastName?: string
  email?: string
  phone?: string
  dateOfBirth?: string
  street?: string
  street2?: string
  city?: string
  state?: string
  zip?: string
  country?: string
  countryCode?: string
  lang?: string
  createdTime?: string
  updatedTime?: string
}

/** The answer of updatePayee. */
export interface UpdatePayeeResult extends Extensible {
  ret_code: string
  ret_msg?: string
}

/** A payout account, as addBankAccount answers it. */
export interface BankAccount extends Extensible {
  /** The token to pay this account with; always present (the core refuses an answer without it). */
  accountToken: string
  accountTag?: string
  accountStatus?: Open<AccountStatus>
  accountType?: Open<AccountType>
  country?: string
  currency?: string
  customerNo?: string
  firstName?: string
  lastName?: string
  email?: string
  timestamp?: string
}

/** A payout account, as listPayoutAccounts lists it. */
export interface PayoutAccount extends Extensible {
  accountToken?: string
  accountTag?: string
  accountType?: Open<AccountType>
  status?: Open<AccountStatus>
  /** Masked but for the last four digits. */
  cardNumber?: string
  country?: string
  currency?: string
  createdAt?: string
}

/** The payee, as summarised by listPayoutAccounts. */
export interface PayeeSummary extends Extensible {
  customerNo?: string
  customerCode?: string
  firstName?: string
  lastName?: string
  email?: string
}

/** The answer of listPayoutAccounts. `accounts` is absent when there are none. */
export interface PayoutAccountList extends Extensible {
  ret_code: string
  ret_msg?: string
  accounts?: PayoutAccount[]
  user?: PayeeSummary
}

/** A payout, as pay and inquirePayout answer it. */
export interface Payout extends Extensible {
  transactionNo?: string
  invoiceId?: string
  status?: Open<PayoutStatus>
  amount?: string
  currency?: string
  accountToken?: string
  customerNo?: string
  createdTime?: string
}

/** The merchant's payout balance in one currency. */
export interface Balance extends Extensible {
  currency?: string
  amount?: string
}

/**
 * A client of the Payouts v3 API. Every call is validated (nothing is sent
 * when input breaks a rule), signed, and retried only where that is safe.
 * One connection pool; share one client across concurrent calls.
 */
export declare class Client {
  constructor(options: ClientOptions)
  /** From POCKYT_MERCHANT_NO, POCKYT_STORE_NO, POCKYT_API_TOKEN, POCKYT_ENV, POCKYT_BASE_URL. */
  static fromEnv(): Client
  readonly baseUrl: string
  readonly merchantNo: string
  readonly storeNo: string
  /** Total time for one attempt of a call, in milliseconds. */
  readonly timeoutMs: number
  registerPayee(params: RegisterPayeeParams, options?: CallOptions): Promise<Customer>
  retrievePayee(params: RetrievePayeeParams, options?: CallOptions): Promise<Customer>
  updatePayee(params: UpdatePayeeParams, options?: CallOptions): Promise<UpdatePayeeResult>
  addBankAccount(params: AddBankAccountParams, options?: CallOptions): Promise<BankAccount>
  listPayoutAccounts(params: ListPayoutAccountsParams, options?: CallOptions): Promise<PayoutAccountList>
  /** Never pays twice for one invoiceId; see "Retries and safety" in the README. */
  pay(params: PayParams, options?: CallOptions): Promise<Payout>
  inquirePayout(params: InquirePayoutParams, options?: CallOptions): Promise<Payout>
  balance(params: BalanceParams, options?: CallOptions): Promise<Balance>
  /** What JSON.stringify shows: never the API token. */
  toJSON(): { baseUrl: string; merchantNo: string; storeNo: string; timeoutMs: number }
}

/**
 * verifySign over `params` (a verifySign among them is left out) with the
 * API token. An apiToken that is not a string throws InvalidRequestError
 * (field `apiToken`), which never shows it.
 */
export declare function sign(params: Record<string, string>, apiToken: string): string

/**
 * Whether a received IPN (webhook) carries a valid verifySign: pass the raw
 * URL-encoded body exactly as received (string or Buffer), a
 * URLSearchParams, or the decoded fields. Compares in constant time. An
 * apiToken that is not a string throws InvalidRequestError (field
 * `apiToken`), which never shows it; an empty or whitespace-only apiToken
 * throws ConfigurationError (code `INVALID_CONFIG`, field `apiToken`).
 * False for an IPN the signing rule cannot read unambiguously (a name with
 * `=` or `&`, a value with `&`, invalid UTF-8, bad percent-encoding).
 */
export declare function verifyIpn(
  ipn: string | Uint8Array | URLSearchParams | Record<string, string | string[]>,
  apiToken: string,
): boolean

export type ApiRetCode = '000000' | '000020' | '000021' | '000022' | '000023' | '000030' | '000040' | '000080'
export type ErrorCode =
  | ApiRetCode
  | 'INVALID_REQUEST'
  | 'INVALID_CONFIG'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'HTTP_ERROR'
  | 'DECODE_ERROR'
  | 'PAYOUT_OUTCOME_UNKNOWN'

/** Base class of every error of this package. */
export declare class PockytError extends Error {
  /** The stable code: the API's ret_code, or one of the fixed codes. */
  readonly code: Open<ErrorCode>
  /** Whether the failed request may have reached the server. */
  readonly mayHaveBeenReceived: boolean
}

/** INVALID_REQUEST: the input broke a rule; nothing was sent. */
export declare class InvalidRequestError extends PockytError {
  readonly code: 'INVALID_REQUEST'
  /** The field at fault (camelCase). */
  readonly field: string
}

/** INVALID_CONFIG: the client's configuration (or a call's connectTimeoutMs) is incomplete or wrong. */
export declare class ConfigurationError extends PockytError {
  readonly code: 'INVALID_CONFIG'
  /** The option (or POCKYT_* environment variable) at fault. */
  readonly field: string
}

/** The API answered an error ret_code (code === retCode). */
export declare class ApiError extends PockytError {
  readonly retCode: Open<ApiRetCode>
  /** The API's message (may be empty). */
  readonly retMsg: string
  /** The refused operation, e.g. 'pay'. */
  readonly operation: string
}
/** 000000: system error. */
export declare class ApiSystemError extends ApiError {}
/** 000020: a mandatory parameter is missing. */
export declare class ParameterNullError extends ApiError {}
/** 000021: no related information (unknown customerNo, accountToken, invoiceId). */
export declare class NoRelatedInformationError extends ApiError {}
/** 000022: parameters do not match. */
export declare class ParametersMismatchError extends ApiError {}
/** 000023: a parameter's value is wrong. */
export declare class ParameterValueError extends ApiError {}
/** 000030: no rights / access denied (bad signature, wrong merchant or store). */
export declare class AccessDeniedError extends ApiError {}
/** 000040: the account balance is not sufficient. */
export declare class InsufficientBalanceError extends ApiError {}
/** 000080: the supplier's system failed. */
export declare class SupplierSystemError extends ApiError {}

/** NETWORK_ERROR: the connection failed. */
export declare class NetworkError extends PockytError {
  readonly code: 'NETWORK_ERROR'
}

/** TIMEOUT: no complete answer in time; the request may have been received. */
export declare class PockytTimeoutError extends PockytError {
  readonly code: 'TIMEOUT'
  readonly operation: string
  readonly timeoutMs: number
}

/** HTTP_ERROR: the server answered a non-2xx status. */
export declare class HttpError extends PockytError {
  readonly code: 'HTTP_ERROR'
  readonly status: number
  /** The start of the body (never contains the API token). */
  readonly body: string
}

/** DECODE_ERROR: the answer was not the JSON this API sends. */
export declare class DecodeError extends PockytError {
  readonly code: 'DECODE_ERROR'
  readonly status: number
  readonly body: string
}

/**
 * PAYOUT_OUTCOME_UNKNOWN: a payout request may have reached the server and
 * whether it created a payout could not be established. Do not pay again:
 * reconcile later with inquirePayout({ invoiceId }). `cause` is the last
 * failure seen.
 */
export declare class PayoutOutcomeUnknownError extends PockytError {
  readonly code: 'PAYOUT_OUTCOME_UNKNOWN'
  readonly invoiceId: string
  readonly cause: PockytError
}
