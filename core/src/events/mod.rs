//! The event log and its live bus.
//!
//! Every state change appends an [`Event`] (monotonic id, topic, type, JSON payload) in
//! the same transaction as the change; after the commit the [`EventFeed`] publishes it
//! on the [`EventBus`], in log order (on PostgreSQL, whichever process committed it).
//! Live clients follow the bus; a client that reconnects, or that fell behind the bus,
//! replays what it missed from the log ([`Events::replay`], [`Events::read_since`]).
//! [`Topic`] says which topics exist and who may follow each.

mod bus;
mod error;
mod feed;
mod model;
mod service;
mod store;
mod topics;

pub use bus::EventBus;
pub use error::EventError;
pub use feed::EventFeed;
pub use model::{Event, NewEvent};
pub use service::{Events, LogHead, Replay};
pub use topics::{Topic, TopicRefused};

/// The most events one [`Events::read_since`] call returns.
pub const MAX_READ: u32 = 1000;
