//! The demo sign-in: three people of the demo organisation, one per working role.

use portico_core::identity::{Role, SignIn};

pub struct DemoPerson {
    pub username: &'static str,
    pub display_name: &'static str,
    pub team: &'static str,
    pub role: Role,
}

/// Each is a User of the demo catalog, so signing in links them and their team.
pub const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        username: "ada.lovelace",
        display_name: "Ada Lovelace",
        team: "Storefront (developer)",
        role: Role::Developer,
    },
    DemoPerson {
        username: "karen.sparck-jones",
        display_name: "Karen Spärck Jones",
        team: "Observability (SRE)",
        role: Role::Sre,
    },
    DemoPerson {
        username: "shafi.goldwasser",
        display_name: "Shafi Goldwasser",
        team: "Platform Core (admin)",
        role: Role::Admin,
    },
];

/// The sign-in of a demo person, by username.
pub fn sign_in(username: &str) -> Option<SignIn> {
    let person = PEOPLE.iter().find(|p| p.username == username)?;
    Some(SignIn {
        subject: format!("demo#{}", person.username),
        username: person.username.to_owned(),
        email: Some(format!("{}@northwind.example", person.username)),
        groups: Vec::new(),
        role: Some(person.role),
    })
}
