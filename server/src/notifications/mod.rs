//! Notifications at the edge: `/api/v1/notifications`, a person's inbox.
//!
//! - [`routes`]: read the inbox, mark notifications read.

pub mod routes;
pub mod schema;

use crate::access::Routes;

pub fn routes() -> Routes {
    routes::routes()
}
