//! The event log and its live bus.
//!
//! Every state change appends an [`Event`] (monotonic id, topic, type, JSON payload) in
//! the same transaction as the change; after the commit the event is published on the
//! [`EventBus`]. Live clients follow the bus; a client that reconnects, or that fell
//! behind the bus, replays what it missed from the log with [`Events::read_since`].

mod bus;
mod error;
mod model;
mod service;
mod store;

pub use bus::EventBus;
pub use error::EventError;
pub use model::{Event, NewEvent};
pub use service::{Events, LogHead};

/// The most events one [`Events::read_since`] call returns.
pub const MAX_READ: u32 = 1000;
