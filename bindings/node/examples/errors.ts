// README "Errors": every failure is a PockytError with a stable `code`;
// subclasses say what happened.
import {
  Client,
  PockytError,
  InvalidRequestError,
  InsufficientBalanceError,
  ApiError,
  PayoutOutcomeUnknownError,
  PockytTimeoutError,
  type PayParams,
  type Payout,
} from 'pockyt-payouts'

export async function payOnce(client: Client, params: PayParams): Promise<Payout | undefined> {
  try {
    return await client.pay(params)
  } catch (error) {
    if (error instanceof InvalidRequestError) {
      // Nothing was sent: fix the input. error.field names it.
      console.error(`bad ${error.field}: ${error.message}`)
    } else if (error instanceof InsufficientBalanceError) {
      console.error(`top up first (ret_code ${error.retCode})`)
    } else if (error instanceof PayoutOutcomeUnknownError) {
      // Never pay again under a new invoiceId: reconcile this one later.
      console.error(`reconcile ${error.invoiceId} later; last failure: ${error.cause.code}`)
    } else if (error instanceof PockytTimeoutError) {
      console.error(`${error.operation} timed out after ${error.timeoutMs} ms`)
    } else if (error instanceof ApiError) {
      console.error(`refused: ${error.retCode} ${error.retMsg}`)
    } else if (error instanceof PockytError) {
      console.error(`${error.code}: ${error.message}`)
    } else {
      throw error
    }
    return undefined
  }
}
