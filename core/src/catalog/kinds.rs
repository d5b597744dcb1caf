//! The built-in kinds: the `spec` fields each one has, and the relations they create.
//!
//! One table drives both validation and relation building, so a field cannot be checked
//! one way and turned into relations another.

/// The `apiVersion`s Backstage accepts for its built-in kinds.
pub const BUILTIN_API_VERSIONS: &[&str] = &["backstage.io/v1alpha1", "backstage.io/v1beta1"];

/// What a spec field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A non-empty string.
    Text,
    /// A list of non-empty strings.
    TextList,
    /// An entity reference; `default_kind` is used when the reference names no kind.
    Ref { default_kind: Option<&'static str> },
    /// A list of entity references.
    RefList { default_kind: Option<&'static str> },
    /// A mapping (a user's or group's profile).
    Object,
}

/// A relation and its inverse: the field's entity gets `forward` to the target, the
/// target gets `reverse` back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelationPair {
    pub forward: &'static str,
    pub reverse: &'static str,
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
    pub relation: Option<RelationPair>,
}

#[derive(Debug)]
pub struct KindSpec {
    pub kind: &'static str,
    pub fields: &'static [Field],
}

impl RelationPair {
    const fn new(forward: &'static str, reverse: &'static str) -> Self {
        Self { forward, reverse }
    }

    /// The same pair seen from the other end.
    pub const fn reversed(self) -> Self {
        Self::new(self.reverse, self.forward)
    }
}

pub const OWNED_BY: RelationPair = RelationPair::new("ownedBy", "ownerOf");
pub const PART_OF: RelationPair = RelationPair::new("partOf", "hasPart");
pub const DEPENDS_ON: RelationPair = RelationPair::new("dependsOn", "dependencyOf");
pub const DEPENDENCY_OF: RelationPair = DEPENDS_ON.reversed();
pub const PROVIDES_API: RelationPair = RelationPair::new("providesApi", "apiProvidedBy");
pub const CONSUMES_API: RelationPair = RelationPair::new("consumesApi", "apiConsumedBy");
pub const CHILD_OF: RelationPair = RelationPair::new("childOf", "parentOf");
pub const PARENT_OF: RelationPair = CHILD_OF.reversed();
pub const HAS_MEMBER: RelationPair = RelationPair::new("hasMember", "memberOf");
pub const MEMBER_OF: RelationPair = HAS_MEMBER.reversed();

const fn text(name: &'static str, required: bool) -> Field {
    Field {
        name,
        shape: Shape::Text,
        required,
        relation: None,
    }
}

const fn reference(
    name: &'static str,
    default_kind: Option<&'static str>,
    required: bool,
    relation: RelationPair,
) -> Field {
    Field {
        name,
        shape: Shape::Ref { default_kind },
        required,
        relation: Some(relation),
    }
}

const fn references(
    name: &'static str,
    default_kind: Option<&'static str>,
    required: bool,
    relation: RelationPair,
) -> Field {
    Field {
        name,
        shape: Shape::RefList { default_kind },
        required,
        relation: Some(relation),
    }
}

const OWNER: Field = reference("owner", Some("Group"), true, OWNED_BY);
const SYSTEM: Field = reference("system", Some("System"), false, PART_OF);
// Dependencies may point at any kind, so a reference must name its kind.
const DEPENDS: Field = references("dependsOn", None, false, DEPENDS_ON);
const DEPENDENCY: Field = references("dependencyOf", None, false, DEPENDENCY_OF);

pub static KINDS: &[KindSpec] = &[
    KindSpec {
        kind: "Component",
        fields: &[
            text("type", true),
            text("lifecycle", true),
            OWNER,
            SYSTEM,
            reference("subcomponentOf", Some("Component"), false, PART_OF),
            references("providesApis", Some("API"), false, PROVIDES_API),
            references("consumesApis", Some("API"), false, CONSUMES_API),
            DEPENDS,
            DEPENDENCY,
        ],
    },
    KindSpec {
        kind: "API",
        // `definition` is required unless the API lists `remotes` (checked in entity.rs).
        fields: &[
            text("type", true),
            text("lifecycle", true),
            OWNER,
            SYSTEM,
            text("definition", false),
        ],
    },
    KindSpec {
        kind: "Resource",
        fields: &[text("type", true), OWNER, SYSTEM, DEPENDS, DEPENDENCY],
    },
    KindSpec {
        kind: "System",
        fields: &[
            OWNER,
            reference("domain", Some("Domain"), false, PART_OF),
            text("type", false),
        ],
    },
    KindSpec {
        kind: "Domain",
        fields: &[
            OWNER,
            reference("subdomainOf", Some("Domain"), false, PART_OF),
            text("type", false),
        ],
    },
    KindSpec {
        kind: "Group",
        fields: &[
            text("type", true),
            Field {
                name: "profile",
                shape: Shape::Object,
                required: false,
                relation: None,
            },
            reference("parent", Some("Group"), false, CHILD_OF),
            references("children", Some("Group"), true, PARENT_OF),
            references("members", Some("User"), false, HAS_MEMBER),
        ],
    },
    KindSpec {
        kind: "User",
        fields: &[
            Field {
                name: "profile",
                shape: Shape::Object,
                required: false,
                relation: None,
            },
            references("memberOf", Some("Group"), true, MEMBER_OF),
        ],
    },
    KindSpec {
        kind: "Template",
        // The steps and parameters are checked in templates::model; its apiVersion is
        // scaffolder.backstage.io/v1beta3, not the built-in kinds' versions.
        fields: &[
            text("type", true),
            reference("owner", Some("Group"), false, OWNED_BY),
            text("lifecycle", false),
        ],
    },
    KindSpec {
        kind: "Location",
        // One of `target` and `targets` is required (checked in entity.rs).
        fields: &[
            text("type", false),
            text("target", false),
            Field {
                name: "targets",
                shape: Shape::TextList,
                required: false,
                relation: None,
            },
            text("presence", false),
        ],
    },
];

/// The spec table of a built-in kind (matched ignoring case), `None` for other kinds.
pub fn builtin(kind: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|k| k.kind.eq_ignore_ascii_case(kind))
}
