//! Golden paths at the edge: Backstage's scaffolder API under `/api/scaffolder/v2`.
//!
//! - [`routes`]: parameter schemas, actions, tasks and their events, dry runs.

pub mod routes;

use crate::access::Routes;

pub fn routes() -> Routes {
    routes::routes()
}
