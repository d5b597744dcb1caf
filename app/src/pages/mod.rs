//! One module per page.

pub mod admin;
pub mod approvals;
pub mod catalog;
pub mod create;
pub mod environments;
pub mod home;
pub mod not_found;
pub mod notifications;
pub mod status;
