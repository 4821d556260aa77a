//! Handing finished calls back to JavaScript in batches.
//!
//! napi's promise-returning async functions make one threadsafe function
//! per call (created, woken and torn down on the JavaScript thread), so
//! every answer wakes the event loop on its own. Here the calls of the
//! whole addon share one threadsafe function: a finished call is pushed
//! onto a queue, and only the first one after JavaScript last looked wakes
//! it. The wrapper (`calls.js`) then takes every finished call at once
//! ([`take_finished`]) and settles their promises.
//!
//! The threadsafe function is weak (it does not keep Node running by
//! itself); the wrapper holds it while any call is pending
//! ([`hold_event_loop`]), so a script exits once its last call settles.
//! Each loaded copy of `calls.js` in each JavaScript environment (the main
//! thread, every worker) registers its own queue and wake-up, kept in the
//! environment's napi instance data.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use pockyt_payouts::Error as SdkError;

use crate::error_object;

/// The wake-up of the JavaScript side: calls its `onFinished` with no
/// arguments.
type Wakeup = ThreadsafeFunction<(), (), (), Status, false, true>;

/// A finished call: its id, and its answer as JSON text or its error.
type Finished = (u32, std::result::Result<String, SdkError>);

/// The registrations of one JavaScript environment (the main thread, or a
/// worker), kept as the environment's instance data. Each copy of
/// `calls.js` that is loaded (a test runner may load the package more than
/// once) registers itself and gets its own queue and wake-up, so that its
/// calls are settled by its own promises.
#[derive(Default)]
struct Registrations {
    by_id: Mutex<HashMap<u32, Arc<Calls>>>,
    next: Mutex<u32>,
}

/// The calls of one registration.
pub struct Calls {
    /// Finished calls not yet taken, and whether JavaScript has been woken
    /// for them.
    finished: Mutex<(Vec<Finished>, bool)>,
    wakeup: Mutex<Wakeup>,
}

impl Calls {
    /// The calls of `registration` in `env`; fails unless the wrapper
    /// registered it (so a call can never finish unheard).
    pub fn of(env: &Env, registration: u32) -> Result<Arc<Calls>> {
        env.get_instance_data::<Registrations>()?
            .and_then(|registrations| lock(&registrations.by_id).get(&registration).cloned())
            .ok_or_else(|| {
                napi::Error::new(
                    Status::InvalidArg,
                    "unknown calls registration (load the package through index.js)",
                )
            })
    }

    /// Hands a finished call to JavaScript (any thread).
    pub fn finish(&self, id: u32, answer: std::result::Result<String, SdkError>) {
        let wake = {
            let mut state = lock(&self.finished);
            state.0.push((id, answer));
            !std::mem::replace(&mut state.1, true)
        };
        if wake {
            lock(&self.wakeup).call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// Registers the function that JavaScript wants called when calls have
/// finished (it then calls [`take_finished`]), and answers the
/// registration's number, which `NativeClient.start` and the other
/// functions here take.
#[napi(ts_args_type = "onFinished: () => void")]
pub fn on_calls_finished(env: Env, on_finished: Function<(), ()>) -> Result<u32> {
    let wakeup: Wakeup = on_finished
        .build_threadsafe_function::<()>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    if env.get_instance_data::<Registrations>()?.is_none() {
        env.set_instance_data(Registrations::default(), (), |_| {})?;
    }
    let registrations = env
        .get_instance_data::<Registrations>()?
        .ok_or_else(|| napi::Error::from_reason("the calls registry could not be kept"))?;
    let id = {
        let mut next = lock(&registrations.next);
        let id = *next;
        *next = next.wrapping_add(1);
        id
    };
    lock(&registrations.by_id).insert(
        id,
        Arc::new(Calls {
            finished: Mutex::new((Vec::new(), false)),
            wakeup: Mutex::new(wakeup),
        }),
    );
    Ok(id)
}

/// Keeps Node's event loop running while calls of `registration` are
/// pending (`true`), or lets it end (`false`). Called by the wrapper when
/// its first call starts and when its last one settles.
///
/// `refer`/`unref` are Node-API's `napi_ref_threadsafe_function` and
/// `napi_unref_threadsafe_function`, which decide whether the function
/// keeps the event loop alive; napi-rs deprecates them in favour of
/// `clone`, which counts threads using the function, a different thing.
#[napi]
#[allow(deprecated)]
pub fn hold_event_loop(env: Env, registration: u32, hold: bool) -> Result<()> {
    let calls = Calls::of(&env, registration)?;
    let mut wakeup = lock(&calls.wakeup);
    if hold {
        wakeup.refer(&env)
    } else {
        wakeup.unref(&env)
    }
}

/// Every finished call of `registration` not taken yet, flat:
/// `[id, answer, error, ...]`, with `answer` the JSON text of a success
/// (and `error` undefined) or `error` the `PockytNativeError` of a failure
/// (and `answer` undefined).
#[napi(ts_return_type = "Array<number | string | Error | undefined>")]
pub fn take_finished(env: &Env, registration: u32) -> Result<Array<'_>> {
    let calls = Calls::of(env, registration)?;
    let finished = {
        let mut state = lock(&calls.finished);
        state.1 = false;
        std::mem::take(&mut state.0)
    };
    let mut out = env.create_array(u32::try_from(finished.len() * 3).unwrap_or(u32::MAX))?;
    for (n, (id, answer)) in finished.into_iter().enumerate() {
        let at = u32::try_from(n * 3).unwrap_or(u32::MAX);
        out.set(at, id)?;
        match answer {
            Ok(text) => out.set(at + 1, text)?,
            Err(error) => out.set(at + 2, error_object(env, &error)?)?,
        }
    }
    Ok(out)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
