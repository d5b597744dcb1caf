//! The service catalog: Backstage-compatible entities.
//!
//! - [`reference`]: entity references `[kind:][namespace/]name`, compared case-insensitively.
//! - [`rules`]: Backstage's format rules for names, namespaces, kinds, tags, labels…
//! - [`kinds`]: what each built-in kind's `spec` holds, and the relations its fields create.
//! - [`entity`]: a validated [`Entity`], built from a parsed document by [`Entity::from_value`].
//! - [`relations`]: the relation pairs an entity produces, in both directions.
//! - [`graph`]: an entity's neighbourhood, laid out left to right for drawing.
//! - [`document`]: multi-document YAML files split into located documents.
//! - [`output`]: entities as Backstage's API returns them, `fields` projections.
//! - [`problem`]: errors that name the file, the document, the entity and the field.
//! - [`substitution`]: `$text`, `$json` and `$yaml` placeholders.
//! - [`place`]: where catalog text lives (a file or a URL), and relative targets.
//! - [`remote`]: reading URLs on the allowed hosts only.
//! - [`reader`]: reading a location, following `Location` targets.
//! - [`columns`]: the identifying fields kept as indexed columns.
//! - [`search`]: the flattened key/value rows behind filters and facets.
//! - [`text`]: ranked full-text search (FTS5, PostgreSQL text search).
//! - [`query`]: filters, ordering, full-text, pages and facets with Backstage's semantics.
//! - [`store`]: the SQL.
//! - [`service`]: the [`Catalog`] service: ingestion and reads.
//! - [`locations`]: registered locations and the policy for where they may point.
//! - [`watch`]: reads a file location again as soon as one of its files changes, and
//!   URL locations every minute.

pub mod columns;
pub mod document;
pub mod entity;
mod error;
pub mod graph;
pub mod kinds;
pub mod locations;
pub mod output;
pub mod place;
pub mod problem;
pub mod query;
pub mod reader;
pub mod reference;
pub mod relations;
pub mod remote;
pub mod rules;
pub mod search;
mod service;
mod store;
pub mod substitution;
pub mod text;
pub mod watch;

pub use entity::Entity;
pub use error::CatalogError;
pub use problem::{FieldProblem, Problem};
pub use reference::EntityRef;
pub use relations::Relation;
pub use service::{Catalog, Facet, IngestSummary, Page, StoredEntity, MANAGED_BY_LOCATION};
