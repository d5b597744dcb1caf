//! The service catalog: Backstage-compatible entities.
//!
//! - [`reference`]: entity references `[kind:][namespace/]name`, compared case-insensitively.
//! - [`rules`]: Backstage's format rules for names, namespaces, kinds, tags, labels…
//! - [`kinds`]: what each built-in kind's `spec` holds, and the relations its fields create.
//! - [`entity`]: a validated [`Entity`], built from a parsed document by [`Entity::from_value`].
//! - [`relations`]: the relation pairs an entity produces, in both directions.
//! - [`document`]: multi-document YAML files split into located documents.
//! - [`problem`]: errors that name the file, the document, the entity and the field.

pub mod document;
pub mod entity;
pub mod kinds;
pub mod problem;
pub mod reference;
pub mod relations;
pub mod rules;

pub use entity::Entity;
pub use problem::{FieldProblem, Problem};
pub use reference::EntityRef;
pub use relations::Relation;
