//! Approvals at the edge: the API pipelines and people use under `/api/v1/approvals`.
//!
//! - [`routes`]: request, read (with a long-poll), list, decide, cancel.

pub mod routes;

use crate::access::Routes;

pub fn routes() -> Routes {
    routes::routes()
}
