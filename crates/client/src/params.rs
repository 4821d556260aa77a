//! What each operation's parameters require, stated as data rather than
//! read back from another library's error text.
//!
//! [`RequiredFields`] names, per params type, the fields that must be
//! present and every field there is (wire spelling). The JSON door checks
//! the object it is given against both (a missing field before
//! deserializing, an unknown one after); a typed builder that does not
//! convert is probed with the required list (every required field filled
//! with a placeholder but one, in turn) to name the field that is missing.
//!
//! The tables are rendered from `spec/payouts.yaml` by `cargo xtask
//! codegen` (the client's `generated.rs`), through `required_fields!`.

use std::fmt::Display;

use crate::error::Error;

/// The fields a params type cannot do without, and all of its fields, in
/// wire (camelCase) spelling and in the spec's order of the parameters.
///
/// ```
/// use pockyt_payouts::{RequiredFields, types::BalanceParams};
/// assert_eq!(BalanceParams::REQUIRED, ["currency"]);
/// ```
pub trait RequiredFields {
    /// The required fields' wire names.
    const REQUIRED: &'static [&'static str];
    /// Every field's wire name, required or not: the names the JSON door
    /// accepts.
    ///
    /// ```
    /// use pockyt_payouts::{RequiredFields, types::BalanceParams};
    /// assert_eq!(BalanceParams::FIELDS, ["currency"]);
    /// ```
    const FIELDS: &'static [&'static str];
}

/// What a typed method accepts for its parameters: the params type itself
/// or its builder (`PayParams::builder()...`). A builder missing a required
/// field is refused with `INVALID_REQUEST` naming that field.
pub trait IntoParams<T> {
    /// The parameters, or the refusal naming the field at fault.
    fn into_params(self) -> Result<T, Error>;
}

impl<T: RequiredFields> IntoParams<T> for T {
    fn into_params(self) -> Result<T, Error> {
        Ok(self)
    }
}

/// A builder that can have one required field filled with a placeholder,
/// so that the field a failed conversion lacked can be found by probing.
pub(crate) trait Probe: Clone + TryInto<Self::Params> {
    type Params: RequiredFields;
    /// This builder with the required field `name` (wire spelling) set to
    /// some valid placeholder.
    fn with_placeholder(self, name: &str) -> Self;
}

/// Converts a builder, naming a missing required field by probing: the
/// first field that, left as the caller left it while every other required
/// field is filled, still keeps the builder from converting.
pub(crate) fn from_builder<B>(builder: B) -> Result<B::Params, Error>
where
    B: Probe,
    B::Error: Display,
{
    let error = match builder.clone().try_into() {
        Ok(params) => return Ok(params),
        Err(error) => error,
    };
    let filled_except = |skip: Option<&str>| {
        B::Params::REQUIRED
            .iter()
            .filter(|name| Some(**name) != skip)
            .fold(builder.clone(), |b, name| b.with_placeholder(name))
    };
    // With every required field filled, a failure is about some other
    // field's value: pass the builder's own words along.
    if filled_except(None).try_into().is_ok() {
        for name in B::Params::REQUIRED {
            if filled_except(Some(name)).try_into().is_err() {
                return Err(Error::invalid_request(name, "is required"));
            }
        }
    }
    Err(Error::invalid_request("params", error.to_string()))
}

/// One table per params type: every field's wire name, then the required
/// fields (wire name, the builder setter, a placeholder the setter
/// accepts). Generated code calls it as `crate::params::required_fields!`.
macro_rules! required_fields {
    ($($ty:ident [$($field:literal),* $(,)?] { $($wire:literal => $setter:ident($placeholder:expr)),* $(,)? })+) => {$(
        impl $crate::params::RequiredFields for $ty {
            const REQUIRED: &'static [&'static str] = &[$($wire),*];
            const FIELDS: &'static [&'static str] = &[$($field),*];
        }

        impl $crate::params::Probe for pockyt_payouts_core::types::builder::$ty {
            type Params = $ty;
            fn with_placeholder(self, name: &str) -> Self {
                match name {
                    $($wire => self.$setter($placeholder),)*
                    _ => { let _ = name; self }
                }
            }
        }

        impl $crate::params::IntoParams<$ty> for pockyt_payouts_core::types::builder::$ty {
            fn into_params(self) -> Result<$ty, $crate::Error> {
                $crate::params::from_builder(self)
            }
        }
    )+};
}

pub(crate) use required_fields;

// The tables themselves are generated from the spec (`generated.rs`).
