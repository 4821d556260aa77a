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
//! Each JavaScript environment (the main thread, every worker) has its
//! own queue and wake-up, kept as its napi instance data.

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

/// The finished calls of one JavaScript environment (the main thread, or
/// a worker), kept as the environment's instance data.
pub struct Calls {
    /// Finished calls (call id and answer as JSON text, or the error) not
    /// yet taken, and whether JavaScript has been woken for them.
    finished: Mutex<(Vec<Finished>, bool)>,
    wakeup: Mutex<Option<Wakeup>>,
}

impl Calls {
    /// The calls of `env`; fails unless the wrapper registered its
    /// wake-up there (so a call can never finish unheard).
    pub fn of(env: &Env) -> Result<Arc<Calls>> {
        env.get_instance_data::<Arc<Calls>>()?
            .map(|calls| Arc::clone(calls))
            .ok_or_else(|| {
                napi::Error::new(
                    Status::GenericFailure,
                    "no onCallsFinished registered (load the package through index.js)",
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
            if let Some(wakeup) = lock(&self.wakeup).as_ref() {
                wakeup.call((), ThreadsafeFunctionCallMode::NonBlocking);
            }
        }
    }
}

/// Registers the function that JavaScript wants called when calls have
/// finished (it then calls [`take_finished`]). Called once per
/// environment, by the wrapper.
#[napi(ts_args_type = "onFinished: () => void")]
pub fn on_calls_finished(env: Env, on_finished: Function<(), ()>) -> Result<()> {
    let wakeup: Wakeup = on_finished
        .build_threadsafe_function::<()>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    match env.get_instance_data::<Arc<Calls>>()? {
        Some(calls) => *lock(&calls.wakeup) = Some(wakeup),
        None => env.set_instance_data(
            Arc::new(Calls {
                finished: Mutex::new((Vec::new(), false)),
                wakeup: Mutex::new(Some(wakeup)),
            }),
            (),
            |_| {},
        )?,
    }
    Ok(())
}

/// Keeps Node's event loop running while calls are pending (`true`), or
/// lets it end (`false`). Called by the wrapper when its first call starts
/// and when its last one settles.
///
/// `refer`/`unref` are Node-API's `napi_ref_threadsafe_function` and
/// `napi_unref_threadsafe_function`, which decide whether the function
/// keeps the event loop alive; napi-rs deprecates them in favour of
/// `clone`, which counts threads using the function, a different thing.
#[napi]
#[allow(deprecated)]
pub fn hold_event_loop(env: Env, hold: bool) -> Result<()> {
    let calls = Calls::of(&env)?;
    if let Some(wakeup) = lock(&calls.wakeup).as_mut() {
        if hold {
            wakeup.refer(&env)?;
        } else {
            wakeup.unref(&env)?;
        }
    }
    Ok(())
}

/// Every finished call not taken yet, flat: `[id, answer, error, ...]`,
/// with `answer` the JSON text of a success (and `error` undefined) or
/// `error` the `PockytNativeError` of a failure (and `answer` undefined).
#[napi(ts_return_type = "Array<number | string | Error | undefined>")]
pub fn take_finished(env: &Env) -> Result<Array<'_>> {
    let calls = Calls::of(env)?;
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
