//! Open enumerations, used by the generated code in place of closed ones.
//!
//! The API's answers are not bound to the values its documentation lists
//! (the API page writes the same account status as `ACTIVATED` and as
//! `activated`), and progenitor's enums are closed: one unknown value would
//! fail a whole answer. Each enumeration here has the documented values plus
//! `Unknown(String)`, which keeps the value as received. Values are matched
//! without regard to ASCII case and written back in their documented
//! spelling. Requests must use a known value; the `pockyt-payouts` client
//! refuses `Unknown` before anything is sent.
//!
//! ```
//! use pockyt_payouts_core::enums::{AccountStatus, PayoutStatus};
//! assert_eq!("ACTIVATED".parse::<AccountStatus>().unwrap(), AccountStatus::Activated);
//! let s: PayoutStatus = serde_json::from_str("\"on_hold\"").unwrap();
//! assert_eq!(s, PayoutStatus::Unknown("on_hold".into()));
//! assert_eq!(serde_json::to_string(&s).unwrap(), "\"on_hold\"");
//! ```

use std::fmt;

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the SDK does not know, kept as received.
            Unknown(String),
        }

        impl $name {
            /// The documented values, in their wire spelling.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// Reads a wire value; documented values match without regard
            /// to ASCII case, anything else becomes `Unknown`.
            pub fn from_wire(value: &str) -> Self {
                $( if value.eq_ignore_ascii_case($wire) { return Self::$variant; } )+
                Self::Unknown(value.to_owned())
            }

            /// The wire spelling of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is one of the documented values.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(value))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::from_wire(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::from_wire(&value)
            }
        }

        impl From<&$name> for $name {
            fn from(value: &$name) -> Self {
                value.clone()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from_wire(&value))
            }
        }
    };
}

open_enum! {
    /// The `ret_code` of every answer: `000100` is success, the rest errors.
    RetCode {
        /// `000000`: system error.
        SystemError = "000000",
        /// `000020`: a mandatory parameter is missing.
        ParameterNull = "000020",
        /// `000021`: no related information (unknown customerNo, accountToken, invoiceId).
        NoRelatedInformation = "000021",
        /// `000022`: parameters do not match (for example an account that is not the payee's).
        ParametersDoNotMatch = "000022",
        /// `000023`: a parameter's value is wrong.
        ParameterValueError = "000023",
        /// `000030`: no rights / access denied (bad signature, wrong merchant or store).
        AccessDenied = "000030",
        /// `000040`: the account balance is not sufficient.
        InsufficientBalance = "000040",
        /// `000080`: the supplier's system failed.
        SupplierSystemError = "000080",
        /// `000100`: success.
        Success = "000100",
    }
}

impl RetCode {
    /// Whether this code means success.
    pub fn is_success(&self) -> bool {
        matches!(self, RetCode::Success)
    }

    /// The API page's description of this code.
    pub fn description(&self) -> &'static str {
        match self {
            RetCode::SystemError => "system error",
            RetCode::ParameterNull => "parameter null",
            RetCode::NoRelatedInformation => "no related information",
            RetCode::ParametersDoNotMatch => "parameters do not match",
            RetCode::ParameterValueError => "parameter value error",
            RetCode::AccessDenied => "no rights / access denied",
            RetCode::InsufficientBalance => "account balance is not sufficient",
            RetCode::SupplierSystemError => "supplier system's error",
            RetCode::Success => "success",
            RetCode::Unknown(_) => "unknown result code",
        }
    }
}

open_enum! {
    /// Kind of payee.
    ProfileType {
        /// A person.
        Individual = "INDIVIDUAL",
        /// A business.
        Business = "BUSINESS",
    }
}

open_enum! {
    /// Kind of government identification.
    GovernmentIdType {
        /// National identity card.
        IdCard = "ID_CARD",
        /// US Social Security number.
        Ssn = "SSN",
        /// Passport.
        Passport = "PASSPORT",
        /// Driver's license.
        DriverLicense = "DRIVER_LICENSE",
        /// Business registration certificate.
        BusinessRegistrationCert = "BUSINESS_REGISTRATION_CERT",
    }
}

open_enum! {
    /// Kind of payout account.
    AccountType {
        /// A bank account (the kind `add_bank_account` creates).
        BankAccount = "BANK_ACCOUNT",
        /// A card.
        Card = "CARD",
        /// A PayPal account.
        Paypal = "PAYPAL",
        /// A prepaid card.
        PrepaidCard = "PREPAID_CARD",
        /// An Alipay account.
        Alipay = "ALIPAY",
    }
}

open_enum! {
    /// Kind of bank account.
    BankAccountPurpose {
        /// Checking account.
        Checking = "CHECKING",
        /// Savings account.
        Savings = "SAVINGS",
    }
}

open_enum! {
    /// How a payout is sent.
    ProcessingChannel {
        /// Standard ACH.
        StandardAch = "STANDARD_ACH",
        /// Same-day ACH.
        SameDayAch = "SAME_DAY_ACH",
        /// Real-time payment.
        RealTimePay = "REAL_TIME_PAY",
    }
}

open_enum! {
    /// Status of a payout.
    PayoutStatus {
        /// Received; will be processed.
        Pending = "pending",
        /// Funds have been credited to the recipient's account.
        Success = "success",
        /// Failed; funds were not deducted from the sender's account.
        Failed = "failed",
        /// Cancelled.
        Returned = "returned",
    }
}

impl PayoutStatus {
    /// Whether the payout can no longer change (success, failed or returned).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            PayoutStatus::Success | PayoutStatus::Failed | PayoutStatus::Returned
        )
    }
}

open_enum! {
    /// Status of a payee.
    PayeeStatus {
        /// Active.
        Activated = "Activated",
        /// Under review.
        Pending = "Pending",
        /// Refused.
        Declined = "Declined",
        /// No longer active.
        Deactivated = "Deactivated",
    }
}

open_enum! {
    /// Status of a payout account.
    AccountStatus {
        /// Active.
        Activated = "activated",
        /// Under review.
        Pending = "pending",
        /// Not usable.
        Invalid = "invalid",
    }
}
