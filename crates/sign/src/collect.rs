//! A `serde::Serializer` that collects a request's fields for signing,
//! without building JSON: every name and value is appended to one buffer,
//! and each field is remembered as where its name and value lie in it.
//!
//! What it takes: a struct or a map (at the top), of which each value is a
//! string, a unit enum variant (its name), a newtype struct of one, or
//! `None` (the field is not sent, so not signed). A field named like one of
//! the envelope's ([`ENVELOPE_FIELDS`]) is dropped: the signer sets those.
//! Anything else is refused ([`SignError::NotAString`], or
//! [`SignError::NotAnObject`] for the top).

use std::fmt;

use serde::ser::{self, Impossible, Serialize};

use crate::{SignError, ENVELOPE_FIELDS};

/// The collected fields: their text, and where each name and value is.
#[derive(Default)]
pub(crate) struct Collected {
    text: String,
    /// (start of the name, end of the name = start of the value, end of
    /// the value) in `text`.
    fields: Vec<(usize, usize, usize)>,
}

impl Collected {
    /// Collects the fields of `params`.
    pub(crate) fn of<T: Serialize + ?Sized>(params: &T) -> Result<Collected, SignError> {
        let mut collected = Collected {
            text: String::with_capacity(384),
            fields: Vec::with_capacity(16),
        };
        params
            .serialize(Top(&mut collected))
            .map_err(|Failure(e)| e)?;
        Ok(collected)
    }

    /// How many fields were collected.
    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }

    /// The fields, as (name, value).
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.fields.iter().map(|&(name, value, end)| {
            (
                self.text.get(name..value).unwrap_or_default(),
                self.text.get(value..end).unwrap_or_default(),
            )
        })
    }

    /// Starts a field named `name`: appends the name, returns its start.
    fn start(&mut self, name: &str) -> usize {
        let start = self.text.len();
        self.text.push_str(name);
        start
    }

    /// Serializes the value of the field whose name starts at `start`, and
    /// keeps the field (or forgets it when its value is `None` or its name
    /// is an envelope field's).
    fn value<T: Serialize + ?Sized>(&mut self, start: usize, value: &T) -> Result<(), Failure> {
        let name_end = self.text.len();
        let name = self.text.get(start..name_end).unwrap_or_default();
        if ENVELOPE_FIELDS.contains(&name) {
            self.text.truncate(start);
            return Ok(());
        }
        match value.serialize(Value {
            text: &mut self.text,
            name: start,
        }) {
            Ok(true) => {
                self.fields.push((start, name_end, self.text.len()));
                Ok(())
            }
            Ok(false) => {
                self.text.truncate(start);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// Why collecting failed.
#[derive(Debug)]
pub(crate) struct Failure(SignError);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Failure {}

impl ser::Error for Failure {
    fn custom<M: fmt::Display>(message: M) -> Self {
        Failure(SignError::Unserializable {
            message: message.to_string(),
        })
    }
}

fn not_an_object<T>() -> Result<T, Failure> {
    Err(Failure(SignError::NotAnObject))
}

/// Refuses every kind of value but those listed, with `$refuse`.
macro_rules! refuse {
    ($refuse:expr; $($method:ident($($arg:ty),*)),* $(,)?) => {$(
        fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            $refuse(self)
        }
    )*};
}

/// The whole params: a struct or a map.
struct Top<'c>(&'c mut Collected);

impl<'c> ser::Serializer for Top<'c> {
    type Ok = ();
    type Error = Failure;
    type SerializeSeq = Impossible<(), Failure>;
    type SerializeTuple = Impossible<(), Failure>;
    type SerializeTupleStruct = Impossible<(), Failure>;
    type SerializeTupleVariant = Impossible<(), Failure>;
    type SerializeMap = Fields<'c>;
    type SerializeStruct = Fields<'c>;
    type SerializeStructVariant = Impossible<(), Failure>;

    refuse!(|_| not_an_object();
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_i128(i128), serialize_u8(u8), serialize_u16(u16),
        serialize_u32(u32), serialize_u64(u64), serialize_u128(u128), serialize_f32(f32),
        serialize_f64(f64), serialize_char(char), serialize_str(&str), serialize_bytes(&[u8]),
        serialize_none(), serialize_unit(), serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Failure> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Failure> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Failure> {
        not_an_object()
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Failure> {
        not_an_object()
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Failure> {
        not_an_object()
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Failure> {
        not_an_object()
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Failure> {
        not_an_object()
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Fields<'c>, Failure> {
        Ok(Fields {
            collected: self.0,
            key: None,
        })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'c>, Failure> {
        Ok(Fields {
            collected: self.0,
            key: None,
        })
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Failure> {
        not_an_object()
    }
}

/// The fields of the params.
struct Fields<'c> {
    collected: &'c mut Collected,
    /// Where the pending map key starts in the text.
    key: Option<usize>,
}

impl ser::SerializeStruct for Fields<'_> {
    type Ok = ();
    type Error = Failure;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Failure> {
        let start = self.collected.start(name);
        self.collected.value(start, value)
    }

    fn end(self) -> Result<(), Failure> {
        Ok(())
    }
}

impl ser::SerializeMap for Fields<'_> {
    type Ok = ();
    type Error = Failure;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Failure> {
        let start = self.collected.text.len();
        key.serialize(Key(&mut self.collected.text))?;
        self.key = Some(start);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Failure> {
        match self.key.take() {
            Some(start) => self.collected.value(start, value),
            None => Err(ser::Error::custom("a map value without its key")),
        }
    }

    fn end(self) -> Result<(), Failure> {
        Ok(())
    }
}

/// A map key: a string.
struct Key<'t>(&'t mut String);

impl ser::Serializer for Key<'_> {
    type Ok = ();
    type Error = Failure;
    type SerializeSeq = Impossible<(), Failure>;
    type SerializeTuple = Impossible<(), Failure>;
    type SerializeTupleStruct = Impossible<(), Failure>;
    type SerializeTupleVariant = Impossible<(), Failure>;
    type SerializeMap = Impossible<(), Failure>;
    type SerializeStruct = Impossible<(), Failure>;
    type SerializeStructVariant = Impossible<(), Failure>;

    fn serialize_str(self, name: &str) -> Result<(), Failure> {
        self.0.push_str(name);
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Failure> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Failure> {
        value.serialize(self)
    }

    refuse!(|_| not_a_name();
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_i128(i128), serialize_u8(u8), serialize_u16(u16),
        serialize_u32(u32), serialize_u64(u64), serialize_u128(u128), serialize_f32(f32),
        serialize_f64(f64), serialize_char(char), serialize_bytes(&[u8]),
        serialize_none(), serialize_unit(), serialize_unit_struct(&'static str),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Failure> {
        not_a_name()
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Failure> {
        not_a_name()
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Failure> {
        not_a_name()
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Failure> {
        not_a_name()
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Failure> {
        not_a_name()
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Failure> {
        not_a_name()
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Failure> {
        not_a_name()
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Failure> {
        not_a_name()
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Failure> {
        not_a_name()
    }
}

/// A key that is not a string: the params are not an object of named
/// fields.
fn not_a_name<T>() -> Result<T, Failure> {
    not_an_object()
}

/// A field's value: a string, or `None`. `Ok(true)` when a value was
/// appended, `Ok(false)` when the field is not sent.
struct Value<'t> {
    text: &'t mut String,
    /// Where the field's name starts in the text (it ends where the value
    /// starts): for the error naming it.
    name: usize,
}

impl Value<'_> {
    fn refuse<T>(self) -> Result<T, Failure> {
        let field = self.text.get(self.name..).unwrap_or_default().to_owned();
        Err(Failure(SignError::NotAString { field }))
    }
}

impl ser::Serializer for Value<'_> {
    type Ok = bool;
    type Error = Failure;
    type SerializeSeq = Impossible<bool, Failure>;
    type SerializeTuple = Impossible<bool, Failure>;
    type SerializeTupleStruct = Impossible<bool, Failure>;
    type SerializeTupleVariant = Impossible<bool, Failure>;
    type SerializeMap = Impossible<bool, Failure>;
    type SerializeStruct = Impossible<bool, Failure>;
    type SerializeStructVariant = Impossible<bool, Failure>;

    fn serialize_str(self, value: &str) -> Result<bool, Failure> {
        self.text.push_str(value);
        Ok(true)
    }

    fn serialize_none(self) -> Result<bool, Failure> {
        Ok(false)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<bool, Failure> {
        value.serialize(self)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<bool, Failure> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<bool, Failure> {
        value.serialize(self)
    }

    refuse!(Value::refuse;
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_i128(i128), serialize_u8(u8), serialize_u16(u16),
        serialize_u32(u32), serialize_u64(u64), serialize_u128(u128), serialize_f32(f32),
        serialize_f64(f64), serialize_char(char), serialize_bytes(&[u8]),
        serialize_unit(), serialize_unit_struct(&'static str),
    );

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<bool, Failure> {
        self.refuse()
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Failure> {
        self.refuse()
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Failure> {
        self.refuse()
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Failure> {
        self.refuse()
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Failure> {
        self.refuse()
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Failure> {
        self.refuse()
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Failure> {
        self.refuse()
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Failure> {
        self.refuse()
    }
}
