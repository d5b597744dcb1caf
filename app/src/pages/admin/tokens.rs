//! `/admin/tokens`: API tokens for CI/CD and scripts: create (the secret is shown
//! once), see when each was last used, revoke.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::pages::status::ErrorList;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_by: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    /// `live`, `revoked` or `expired`.
    pub state: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub name: String,
    pub secret: String,
}

#[server(output = crate::codec::JsonText)]
pub async fn list_tokens() -> Result<Vec<TokenRow>, AppError> {
    use portico_core::storage::sql::display_millis as when;

    use super::server::{admin, identity_error};
    admin()?;
    let portal = crate::context::portal()?;
    let now = portico_core::storage::sql::now_millis();
    let tokens = portal.identity().tokens().await.map_err(identity_error)?;
    Ok(tokens
        .into_iter()
        .map(|t| TokenRow {
            state: t.state_at(now).to_owned(),
            created: when(t.created_at),
            expires: t.expires_at.map_or_else(|| "never".to_owned(), when),
            last_used: t.last_used_at.map_or_else(|| "never".to_owned(), when),
            id: t.id,
            name: t.name,
            role: t.role.to_string(),
            created_by: t.created_by,
        })
        .collect())
}

/// Creates a token; `expires_in_days` is empty for never.
#[server(output = crate::codec::JsonText)]
pub async fn create_token(
    name: String,
    role: String,
    expires_in_days: String,
) -> Result<CreatedToken, AppError> {
    use portico_core::identity::{NewToken, Role};

    use super::server::{admin, identity_error, refused};
    let principal = admin()?;
    let bad = |message: String| refused(http::StatusCode::BAD_REQUEST, message);
    let role: Role = role
        .parse()
        .map_err(|e: portico_core::identity::role::UnknownRole| bad(format!("role: {e}")))?;
    let expires_in_days = match expires_in_days.trim() {
        "" => None,
        days => Some(
            days.parse::<u32>()
                .map_err(|_| bad(format!("expires: {days:?} is not a number of days")))?,
        ),
    };
    let portal = crate::context::portal()?;
    let new = NewToken {
        name: name.trim().to_owned(),
        role,
        expires_in_days,
    };
    let (token, secret) = portal
        .identity()
        .create_token(&new, &principal.actor())
        .await
        .map_err(identity_error)?;
    Ok(CreatedToken {
        name: token.name,
        secret,
    })
}

#[server(output = crate::codec::JsonText)]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    use super::server::{admin, identity_error};
    let principal = admin()?;
    let portal = crate::context::portal()?;
    portal
        .identity()
        .revoke_token(&id, &principal.actor())
        .await
        .map_err(identity_error)?;
    Ok(())
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    view! {
        <Title text="API tokens" />
        <div class="page-header">
            <h1>"API tokens"</h1>
        </div>
        <p class="page-intro">
            "Tokens let CI/CD pipelines and scripts call the API as "
            <code>"Authorization: Bearer <token>"</code>
            ". The secret is shown once, when the token is created; only a hash is kept."
        </p>
        <section class="card" aria-labelledby="new-token">
            <h2 id="new-token">"New token"</h2>
            <ActionForm action=create attr:class="token-form">
                <label>
                    "Name"
                    <input name="name" required maxlength="64" pattern="[A-Za-z0-9._\\-]+"
                        placeholder="ci-deploy" autocomplete="off" />
                </label>
                <label>
                    "Role"
                    <select name="role">
                        <option value="viewer">"viewer"</option>
                        <option value="developer" selected>"developer"</option>
                        <option value="sre">"sre"</option>
                        <option value="admin">"admin"</option>
                    </select>
                </label>
                <label>
                    "Expires after (days)"
                    <input name="expires_in_days" type="number" min="1" max="3650"
                        placeholder="never" />
                </label>
                <button type="submit" class="button primary" disabled=move || create.pending().get()>
                    "Create token"
                </button>
            </ActionForm>
            {move || match create.value().get() {
                Some(Ok(created)) => view! {
                    <div class="secret-once" role="status">
                        <p>
                            <strong>{format!("Token {} created.", created.name)}</strong>
                            " Copy the secret now: it will not be shown again."
                        </p>
                        <code class="secret" data-testid="new-secret">{created.secret}</code>
                    </div>
                }.into_any(),
                Some(Err(e)) => view! { <p class="error-panel" role="alert">{e.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
        </section>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading tokens…"</p> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorList errors /> }>
                {move || Suspend::new(async move {
                    tokens.await.map(|rows| view! { <TokenTable rows revoke /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn TokenTable(rows: Vec<TokenRow>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <p class="empty">"No tokens yet. Create one above, or with "<code>"portico token create"</code>"."</p>
        }
        .into_any();
    }
    view! {
        <table class="table tokens">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"State"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        let live = row.state == "live";
                        let label = format!("Revoke {}", row.name);
                        view! {
                            <tr>
                                <td>{row.name}</td>
                                <td><span class="role-badge">{row.role}</span></td>
                                <td>{row.created}" by "{row.created_by}</td>
                                <td>{row.expires}</td>
                                <td>{row.last_used}</td>
                                <td class=format!("token-{}", row.state)>{row.state.clone()}</td>
                                <td>
                                    {live.then(|| view! {
                                        <ActionForm action=revoke>
                                            <input type="hidden" name="id" value=row.id />
                                            <button type="submit" class="button danger" aria-label=label>
                                                "Revoke"
                                            </button>
                                        </ActionForm>
                                    })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
