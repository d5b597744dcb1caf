//! Who is signed in, their role, what waits for them (approvals, unread notifications),
//! and signing out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in person as the header shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignedInUser {
    /// Their portal user id: their own live topic is `user:<id>`.
    pub id: String,
    pub name: String,
    pub role: String,
    pub admin: bool,
    /// Approval requests waiting for this person's decision.
    pub waiting: u32,
    /// Notifications they have not read.
    pub unread: u32,
}

/// Who is signed in, read once per page for everything that shows it (the header,
/// the notifications page), and read again when their own topic says something changed.
#[derive(Clone, Copy)]
pub struct Me(pub Resource<Result<Option<SignedInUser>, AppError>>);

impl Me {
    /// Reads who is signed in, for the whole app.
    pub fn provide() {
        provide_context(Self(Resource::new(|| (), |_| current_user())));
    }

    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// The signed-in person's own topic (`user:<id>`), once known.
    pub fn own_topic(self) -> Memo<Option<String>> {
        Memo::new(move |_| match self.0.get() {
            Some(Ok(Some(user))) => Some(format!("user:{}", user.id)),
            _ => None,
        })
    }
}

/// Who is signed in, if anyone. Open to anyone: the 404 page has a header too.
#[server(output = crate::codec::JsonText)]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    use portico_core::identity::Role;
    let Some(p) = crate::context::principal() else {
        return Ok(None);
    };
    let portal = crate::context::portal()?;
    let waiting = match portal.approvals().waiting_count(&p).await {
        Ok(waiting) => u32::try_from(waiting).unwrap_or(u32::MAX),
        Err(e) => return Err(AppError::internal("the approvals waiting", &e)),
    };
    let unread = match portal.notifications().unread(&p).await {
        Ok(unread) => u32::try_from(unread).unwrap_or(u32::MAX),
        Err(e) => return Err(AppError::internal("the unread notifications", &e)),
    };
    Ok(Some(SignedInUser {
        id: p.id.clone(),
        unread,
        admin: p.has(Role::Admin),
        name: p.name,
        role: p.role.to_string(),
        waiting,
    }))
}

/// The user menu: what waits for them, name, role and "Sign out" (a form, so it works
/// before hydration).
#[component]
pub fn UserMenu() -> impl IntoView {
    let current = Me::get();
    let user = current.0;
    // The count of approvals waiting follows the `approvals` topic, the bell their own
    // topic, once signed in (memos: reading the counts again joins nothing again).
    let signed_in = Memo::new(move |_| matches!(user.get(), Some(Ok(Some(_)))));
    crate::live::use_live_refresh(
        move || signed_in.get().then(|| "approvals".to_owned()),
        move || user.refetch(),
    );
    let own = current.own_topic();
    crate::live::use_live_refresh(move || own.get(), move || user.refetch());
    view! {
        <div class="user-menu">
            <Transition fallback=|| ()>
                {move || {
                    user.get()
                        .map(|found| match found {
                            Ok(Some(user)) => {
                                let waiting = user.waiting;
                                let unread = user.unread;
                                let bell_label = match unread {
                                    0 => "Notifications".to_owned(),
                                    n => format!("Notifications, {n} unread"),
                                };
                                view! {
                                    <a
                                        class="bell"
                                        href="/notifications"
                                        data-testid="bell"
                                        aria-label=bell_label.clone()
                                        title=bell_label
                                    >
                                        <svg
                                            class="bell-icon"
                                            viewBox="0 0 24 24"
                                            aria-hidden="true"
                                        >
                                            <path d="M6 16V10a6 6 0 0 1 12 0v6l2 2H4z M10 20a2 2 0 0 0 4 0" />
                                        </svg>
                                        {(unread > 0).then(|| view! {
                                            <span class="bell-count" data-testid="bell-count">{unread}</span>
                                        })}
                                    </a>
                                    {(waiting > 0).then(|| view! {
                                        <a
                                            class="waiting-badge"
                                            href="/approvals"
                                            data-testid="waiting-badge"
                                            title="Approval requests waiting for you"
                                        >
                                            {waiting}
                                            <span class="visually-hidden">" approval requests wait for you"</span>
                                        </a>
                                    })}
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
