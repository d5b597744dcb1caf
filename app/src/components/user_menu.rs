//! Who is signed in, their role, and signing out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in person as the header shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub name: String,
    pub role: String,
    pub admin: bool,
}

/// Who is signed in, if anyone. Open to anyone: the 404 page has a header too.
#[server(output = crate::codec::JsonText)]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    use portico_core::identity::Role;
    Ok(crate::context::principal().map(|p| SignedInUser {
        admin: p.has(Role::Admin),
        name: p.name,
        role: p.role.to_string(),
    }))
}

/// The user menu: name, role and "Sign out" (a form, so it works before hydration).
#[component]
pub fn UserMenu() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <div class="user-menu">
            <Transition fallback=|| ()>
                {move || {
                    user.get()
                        .map(|found| match found {
                            Ok(Some(user)) => {
                                view! {
                                    {user.admin.then(|| view! {
                                        <nav class="admin-links" aria-label="Administration">
                                            <a href="/admin/tokens">"Tokens"</a>
                                            <a href="/admin/audit">"Audit log"</a>
                                        </nav>
                                    })}
                                    <span class="user-name" data-testid="user-name">
                                        {user.name}
                                    </span>
                                    <span class="role-badge" data-testid="user-role">
                                        {user.role}
                                    </span>
                                    <form method="post" action="/auth/logout">
                                        <button type="submit" class="button">
                                            "Sign out"
                                        </button>
                                    </form>
                                }
                                    .into_any()
                            }
                            _ => view! { <a href="/login" class="button">"Sign in"</a> }.into_any(),
                        })
                }}
            </Transition>
        </div>
    }
}
