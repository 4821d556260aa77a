//! Typed results built straight from an answer's JSON.
//!
//! Each result class of `pockyt_payouts._models` is a frozen dataclass
//! whose generated tables say where an answered field goes: `_ATTRIBUTES`
//! (wire name -> attribute) and `_NESTED` (attribute -> result class of the
//! objects it holds). [`build`] reads those tables and the dataclass's
//! fields once per class (a [`Shape`], kept on the class) and fills a new
//! instance's `__dict__` from the JSON value directly: no dict of wire
//! names in between, no Python frame per result, no `object.__setattr__`
//! per field. It is the only place an answer becomes a result.
//!
//! - A field the tables do not name goes to `extra`, its name and the names
//!   inside it in snake_case (the SDK's one naming rule).
//! - An attribute the answer left out takes its dataclass default (a list
//!   attribute a new list).
//! - A result missing a required attribute is made by calling the class,
//!   which raises the dataclass's own `TypeError` naming it.
//! - A nested attribute's objects become its result class; anything else
//!   it holds (a string where an object was documented) is kept as it is.

use std::borrow::Cow;
use std::collections::HashMap;

use pockyt_payouts::naming::snake_case;
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyType};
use serde_json::Value;

use crate::convert::{json_to_py, json_to_py_named};

/// The attribute of every result that holds the fields its tables do not
/// name.
const EXTRA: &str = "extra";

/// The class attribute that keeps a result class's [`Shape`].
const SHAPE_ATTRIBUTE: &str = "_pockyt_payouts_shape";

/// `object.__new__`, looked up once.
static OBJECT_NEW: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Where an answered field goes.
struct Slot {
    attribute: Py<PyString>,
    /// The result class of the objects the attribute holds.
    nested: Option<Py<PyType>>,
}

/// What [`build`] needs to know of one result class.
#[pyclass(module = "pockyt_payouts._native", frozen)]
pub struct Shape {
    /// By wire name.
    slots: HashMap<String, Slot>,
    /// Attributes with a plain default, and the default.
    defaults: Vec<(Py<PyString>, Py<PyAny>)>,
    /// Attributes whose default is made per result (lists), and its maker.
    factories: Vec<(Py<PyString>, Py<PyAny>)>,
    /// How many attributes a complete result has (`extra` included).
    attribute_count: usize,
}

/// The result of class `class` for the JSON object `value`. Raises
/// `TypeError` when `value` is not an object, or (the dataclass's own)
/// when a required attribute is missing.
pub fn build<'py>(class: &Bound<'py, PyType>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    let py = class.py();
    let Value::Object(fields) = value else {
        return Err(PyTypeError::new_err(format!(
            "an answer for {} must be a JSON object",
            class.name()?
        )));
    };
    let shape = shape_of(class)?;
    let shape = shape.get();
    let new = OBJECT_NEW.get_or_try_init(py, || {
        PyResult::Ok(
            py.import("builtins")?
                .getattr("object")?
                .getattr("__new__")?
                .unbind(),
        )
    })?;
    let result = new.bind(py).call1((class,))?;
    let attributes = result
        .getattr(intern!(py, "__dict__"))?
        .cast_into::<PyDict>()?;
    for (name, default) in &shape.defaults {
        attributes.set_item(name.bind(py), default.bind(py))?;
    }
    for (name, factory) in &shape.factories {
        attributes.set_item(name.bind(py), factory.bind(py).call0()?)?;
    }
    let extra = PyDict::new(py);
    for (wire, item) in fields {
        match shape.slots.get(wire) {
            Some(slot) => {
                let value = match &slot.nested {
                    Some(nested) => nested_value(nested.bind(py), item)?,
                    None => json_to_py(py, item)?,
                };
                attributes.set_item(slot.attribute.bind(py), value)?;
            }
            None => extra.set_item(snake_case(wire), snake_keys(py, item)?)?,
        }
    }
    attributes.set_item(intern!(py, EXTRA), extra)?;
    if attributes.len() != shape.attribute_count {
        // A required attribute is missing: the dataclass says which.
        return class.call((), Some(&attributes));
    }
    Ok(result)
}

/// A nested attribute's value: its objects as `class`.
fn nested_value<'py>(class: &Bound<'py, PyType>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    let py = class.py();
    match value {
        Value::Object(_) => build(class, value),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(match item {
                    Value::Object(_) => build(class, item)?,
                    _ => json_to_py(py, item)?,
                })?;
            }
            Ok(list.into_any())
        }
        _ => json_to_py(py, value),
    }
}

/// A value of `extra`: the JSON as Python objects, every object's names in
/// snake_case.
fn snake_keys<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    json_to_py_named(py, value, &snake)
}

/// A name in snake_case.
fn snake(name: &str) -> Cow<'_, str> {
    Cow::Owned(snake_case(name))
}

/// The shape of `class`, read and kept on the class the first time. Looked
/// up in the class's own namespace, so that a subclass, which inherits the
/// attribute, gets a shape of its own.
fn shape_of<'py>(class: &Bound<'py, PyType>) -> PyResult<Bound<'py, Shape>> {
    let own = class.getattr(intern!(class.py(), "__dict__"))?;
    if let Ok(found) = own.get_item(SHAPE_ATTRIBUTE) {
        if let Ok(shape) = found.cast_into::<Shape>() {
            return Ok(shape);
        }
    }
    let shape = Bound::new(class.py(), read_shape(class)?)?;
    class.setattr(SHAPE_ATTRIBUTE, &shape)?;
    Ok(shape)
}

/// Reads a result class's tables and dataclass fields.
fn read_shape(class: &Bound<'_, PyType>) -> PyResult<Shape> {
    let py = class.py();
    let dataclasses = py.import("dataclasses")?;
    let missing = dataclasses.getattr("MISSING")?;
    let mut defaults = Vec::new();
    let mut factories = Vec::new();
    let mut attribute_count = 0;
    for field in dataclasses.call_method1("fields", (class,))?.try_iter()? {
        let field = field?;
        attribute_count += 1;
        let name = field.getattr("name")?.cast_into::<PyString>()?;
        if name.to_cow()? == EXTRA {
            continue;
        }
        let default = field.getattr("default")?;
        let factory = field.getattr("default_factory")?;
        if !default.is(&missing) {
            defaults.push((name.unbind(), default.unbind()));
        } else if !factory.is(&missing) {
            factories.push((name.unbind(), factory.unbind()));
        }
    }
    let nested = class.getattr("_NESTED")?;
    let mut slots = HashMap::new();
    for item in class
        .getattr("_ATTRIBUTES")?
        .call_method0("items")?
        .try_iter()?
    {
        let (wire, attribute): (String, Bound<'_, PyString>) = item?.extract()?;
        let nested = match nested.get_item(&attribute) {
            Ok(found) => Some(found.cast_into::<PyType>()?.unbind()),
            Err(_) => None,
        };
        slots.insert(
            wire,
            Slot {
                attribute: attribute.unbind(),
                nested,
            },
        );
    }
    Ok(Shape {
        slots,
        defaults,
        factories,
        attribute_count,
    })
}
