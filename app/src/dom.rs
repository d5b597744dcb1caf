//! What the pages written as HTML text do in the browser: event handlers behind one
//! type, and reading their controls by id.
//!
//! The renderer is generic over what it is given: every distinct closure passed as an
//! event handler gets its own copy of the code that attaches it in the browser bundle.
//! A boxed handler is one type, whose code is shared.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys::{Element, HtmlInputElement};

/// An event handler.
pub type Handler<E> = Box<dyn FnMut(E)>;

pub fn handler<E>(f: impl FnMut(E) + 'static) -> Handler<E> {
    Box::new(f)
}

/// The page's element with this id.
pub fn element(id: &str) -> Option<Element> {
    document().get_element_by_id(id)
}

/// The `value` of an input, select or textarea.
pub fn value_of(element: &Element) -> String {
    element.unchecked_ref::<HtmlInputElement>().value()
}
