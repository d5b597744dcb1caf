//! Approvals at the edge: the API pipelines and people use under `/api/v1/approvals`.
//!
//! - [`routes`]: request, read (with a long-poll), list, decide, cancel.

pub mod routes;
pub mod schema;

use crate::access::Routes;

pub fn routes() -> Routes {
    routes::routes()
}
