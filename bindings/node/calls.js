'use strict'

/**
 * Calls in flight and their promises (see the addon's `calls` module).
 *
 * A call is started with an id; the addon pushes finished calls onto one
 * queue and wakes this module once per batch, which settles every finished
 * call's promise: an answer (JSON text) is parsed, an error turned into
 * its Error subclass. While any call is pending the addon's wake-up keeps
 * Node's event loop running; once none is, a script can end.
 */

const native = require('./native.js')
const { fromNative } = require('./errors.js')

/**
 * The path `nativeClientOf` asks a client for (no path of the API can hold
 * a NUL), and the native client `startCall` was given for it.
 */
const NATIVE_CLIENT_PATH = '/\u0000pockyt-payouts:native-client'
let capturing = false
let captured

/** Promise settlers of the calls in flight, by id. */
const pending = new Map()
let nextId = 0

function settleFinished() {
  const finished = native.takeFinished(registration)
  for (let i = 0; i < finished.length; i += 3) {
    const call = pending.get(finished[i])
    if (call === undefined) continue
    pending.delete(finished[i])
    if (finished[i + 2] === undefined) {
      let answer
      try {
        answer = JSON.parse(finished[i + 1])
      } catch (error) {
        call.reject(error)
        continue
      }
      call.resolve(answer)
    } else {
      call.reject(fromNative(finished[i + 2]))
    }
  }
  if (pending.size === 0) native.holdEventLoop(registration, false)
}

/** This copy's own queue of finished calls in the addon. */
const registration = native.onCallsFinished(settleFinished)

/** How deep `crossesAsJson` looks before it gives up (and the value goes as itself). */
const MAX_JSON_DEPTH = 64

/**
 * Whether `params` may cross as JSON text: strings, booleans, finite
 * numbers, null, and arrays and objects of them (an `undefined` property
 * is left out and an `undefined` element becomes null, as JSON does).
 * A value JSON would change or drop (one with `toJSON`, such as a Date or
 * a decimal object; a function or a symbol; a NaN or an infinity; a
 * BigInt) makes it `false`: such parameters go to the addon as values,
 * whose conversion refuses them (naming the field for a field of the
 * params) instead of crossing changed or dropped. The same values the
 * replacer this check replaced let through; a plain `JSON.stringify` is
 * faster than one with a replacer function.
 * @param {unknown} value
 * @param {number} depth
 * @returns {boolean}
 */
function crossesAsJson(value, depth) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object': {
      if (value === null) return true
      if (depth >= MAX_JSON_DEPTH || typeof value.toJSON === 'function') return false
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!crossesAsJson(value[i], depth + 1)) return false
        }
        return true
      }
      for (const key of Object.keys(value)) {
        if (!crossesAsJson(value[key], depth + 1)) return false
      }
      return true
    }
    default:
      return false
  }
}

/**
 * Starts `operation` on a native client and answers a promise of its
 * result (rejected with the error's Error subclass).
 * @param {import('./native').NativeClient} client
 * @param {string} operation
 * @param {unknown} params
 * @param {unknown} options
 * @returns {Promise<any>}
 */
function startCall(client, operation, params, options) {
  if (capturing && operation === NATIVE_CLIENT_PATH) {
    captured = client
    return Promise.resolve(undefined)
  }
  return new Promise((resolve, reject) => {
    const id = nextId
    nextId = nextId === 0xffffffff ? 0 : nextId + 1
    try {
      // JSON text is the fast way across; a value JSON cannot hold as it
      // is goes as itself, for the addon to refuse as it always has.
      let json
      try {
        // A getter or proxy may still throw (or a boxed BigInt):
        // the value then goes as itself.
        json = crossesAsJson(params, 0) ? JSON.stringify(params) : undefined
      } catch {
        json = undefined
      }
      if (json === undefined) {
        client.start(operation, undefined, params, options, registration, id)
      } else {
        client.start(operation, json, undefined, options, registration, id)
      }
    } catch (error) {
      reject(fromNative(error))
      return
    }
    if (pending.size === 0) native.holdEventLoop(registration, true)
    pending.set(id, { resolve, reject })
  })
}

/**
 * The native client behind a `Client` of this copy of the package (for the
 * package's own modules: `batch.js` hands it to the Rust batch engine), or
 * undefined for anything else. The generated `Client` keeps its native
 * client private and gives it to `startCall` only, so it is taken there:
 * the client is asked for a raw request to a marker path, which
 * `startCall` answers at once, starting no call.
 * @param {unknown} client
 * @returns {import('./native').NativeClient | undefined}
 */
function nativeClientOf(client) {
  if (client === null || typeof client !== 'object' || typeof client.request !== 'function') {
    return undefined
  }
  capturing = true
  captured = undefined
  try {
    client.request(NATIVE_CLIENT_PATH)
  } catch {
    // Not a client of this package.
  } finally {
    capturing = false
  }
  const found = captured
  captured = undefined
  return found instanceof native.NativeClient ? found : undefined
}

module.exports = { startCall, nativeClientOf }
