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
  return new Promise((resolve, reject) => {
    const id = nextId
    nextId = nextId === 0xffffffff ? 0 : nextId + 1
    try {
      client.start(operation, params, options, registration, id)
    } catch (error) {
      reject(fromNative(error))
      return
    }
    if (pending.size === 0) native.holdEventLoop(registration, true)
    pending.set(id, { resolve, reject })
  })
}

module.exports = { startCall }
