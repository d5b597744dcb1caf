//! Event handlers behind one type.
//!
//! The renderer is generic over what it is given: every distinct closure passed as an
//! event handler gets its own copy of the code that attaches it in the browser bundle.
//! A boxed handler is one type, whose code is shared.

/// An event handler.
pub type Handler<E> = Box<dyn FnMut(E)>;

pub fn handler<E>(f: impl FnMut(E) + 'static) -> Handler<E> {
    Box::new(f)
}
