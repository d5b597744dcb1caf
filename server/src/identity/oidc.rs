//! The OpenID Connect relying party: discovery (on first use, again when the provider
//! signs with a key it did not list), the authorization code flow with PKCE, `state`
//! and `nonce`, id_token checks, claims with a userinfo fallback, and the provider's
//! end-session endpoint.

use std::sync::Arc;

use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, DiscoveryError,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse,
};
use portico_core::identity::SignIn;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::RwLock;
use url::Url;

use crate::config::OidcConfig;
use crate::telemetry::error_chain;

/// Expiry is checked with this much leeway for clocks that disagree a little.
const CLOCK_LEEWAY_SECONDS: i64 = 60;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why signing in through the provider did not work, for the error page.
#[derive(Debug, thiserror::Error)]
pub enum LoginFailure {
    /// Discovery, the token request or userinfo failed at the network or HTTP level.
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
    /// The provider answered, but not as the portal is configured (another issuer).
    #[error("the identity provider does not match the portal's configuration: {0}")]
    Misconfigured(String),
    /// The callback's `state` is not the one this browser was sent with.
    #[error("the sign-in response does not belong to this browser's sign-in (state mismatch)")]
    StateMismatch,
    /// No sign-in was started in this browser (or it expired).
    #[error("no sign-in was in progress in this browser")]
    NotStarted,
    /// The provider said no (`error=access_denied`, …).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The id_token failed a check (signature, issuer, audience, expiry, nonce).
    #[error("the identity provider's answer could not be trusted: {0}")]
    InvalidToken(String),
}

/// A sign-in in progress, kept in the browser's session until the callback.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    state: String,
    nonce: String,
    pkce_verifier: String,
    pub return_to: String,
}

/// A completed sign-in.
pub struct LoggedIn {
    pub person: SignIn,
    pub id_token: String,
}

/// The provider, discovered lazily: the portal starts (and serves its health checks)
/// while the provider is down, and signing in works as soon as it is back.
pub struct Provider {
    config: OidcConfig,
    redirect: RedirectUrl,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

struct Discovered {
    client: Client,
    userinfo: Option<Url>,
    end_session: Option<Url>,
}

impl Provider {
    pub fn new(config: OidcConfig, public_url: &Url) -> Self {
        let redirect = RedirectUrl::from_url(
            public_url
                .join("/auth/callback")
                .expect("a path joins any http(s) URL"),
        );
        let http = reqwest::Client::builder()
            // The token endpoint must not redirect (an open redirect would leak the code).
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .expect("the HTTP client starts");
        Self {
            config,
            redirect,
            http,
            discovered: RwLock::new(None),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The provider's metadata and keys: cached, fetched again when `refresh`.
    async fn discovered(&self, refresh: bool) -> Result<Arc<Discovered>, LoginFailure> {
        if !refresh {
            if let Some(found) = self.discovered.read().await.clone() {
                return Ok(found);
            }
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| LoginFailure::Unreachable(format!("issuer URL: {e}")))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| match e {
                DiscoveryError::Validation(why) => LoginFailure::Misconfigured(why),
                other => LoginFailure::Unreachable(error_chain(&other)),
            })?;
        let end_session = metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .map(|u| u.url().clone());
        let userinfo = metadata.userinfo_endpoint().map(|u| u.url().clone());
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(self.redirect.clone());
        let found = Arc::new(Discovered {
            client,
            userinfo,
            end_session,
        });
        *self.discovered.write().await = Some(Arc::clone(&found));
        Ok(found)
    }

    /// Where to send the browser to sign in, and what to remember until it comes back.
    pub async fn begin(&self, return_to: String) -> Result<(Url, PendingLogin), LoginFailure> {
        let discovered = self.discovered(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = discovered.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok((
            url,
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                return_to,
            },
        ))
    }

    /// Finishes a sign-in: checks `state`, exchanges the code (with the PKCE verifier),
    /// checks the id_token and reads who it is.
    pub async fn finish(
        &self,
        pending: PendingLogin,
        code: &str,
        state: &str,
    ) -> Result<LoggedIn, LoginFailure> {
        if !constant_time_eq(pending.state.as_bytes(), state.as_bytes()) {
            return Err(LoginFailure::StateMismatch);
        }
        let discovered = self.discovered(false).await?;
        let response = discovered
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| LoginFailure::Unreachable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| LoginFailure::Refused(error_chain(&e)))?;
        let id_token = response.id_token().ok_or_else(|| {
            LoginFailure::InvalidToken("no id_token in the token response".into())
        })?;
        let nonce = Nonce::new(pending.nonce);
        let verified = |client: &Client| {
            let verifier = client.id_token_verifier().set_time_fn(|| {
                chrono::Utc::now() - chrono::Duration::seconds(CLOCK_LEEWAY_SECONDS)
            });
            id_token
                .claims(&verifier, &nonce)
                .map(|claims| claims.subject().as_str().to_owned())
        };
        let subject = match verified(&discovered.client) {
            Ok(subject) => subject,
            // Signed with a key the cached set does not have: the provider rotated its
            // keys. Fetch them again, once.
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => verified(&self.discovered(true).await?.client)
                .map_err(|e| LoginFailure::InvalidToken(e.to_string()))?,
            Err(e) => return Err(LoginFailure::InvalidToken(e.to_string())),
        };
        let id_token = id_token.to_string();
        let mut claims = payload(&id_token)?;
        let groups_claim = &self.config.groups_claim;
        let lacking = claims.get("email").is_none() || lookup(&claims, groups_claim).is_none();
        if let (true, Some(userinfo)) = (lacking, &discovered.userinfo) {
            let extra = self
                .userinfo(userinfo, response.access_token().secret())
                .await?;
            if extra.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
                return Err(LoginFailure::InvalidToken(
                    "the userinfo endpoint answered for another subject".into(),
                ));
            }
            if let (Value::Object(claims), Value::Object(extra)) = (&mut claims, extra) {
                for (key, value) in extra {
                    claims.entry(key).or_insert(value);
                }
            }
        }
        Ok(LoggedIn {
            person: sign_in(&self.config.issuer, &subject, &claims, groups_claim),
            id_token,
        })
    }

    /// The provider's end-session URL, when it advertises one.
    pub async fn logout_url(&self, id_token: Option<&str>, after: &Url) -> Option<Url> {
        let discovered = self.discovered(false).await.ok()?;
        let mut url = discovered.end_session.clone()?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(hint) = id_token {
                query.append_pair("id_token_hint", hint);
            }
            query.append_pair("client_id", &self.config.client_id);
            query.append_pair("post_logout_redirect_uri", after.as_str());
        }
        Some(url)
    }

    async fn userinfo(&self, endpoint: &Url, access_token: &str) -> Result<Value, LoginFailure> {
        let response = self
            .http
            .get(endpoint.clone())
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| LoginFailure::Unreachable(format!("userinfo: {e}")))?;
        if !response.status().is_success() {
            return Err(LoginFailure::Unreachable(format!(
                "userinfo: HTTP {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| LoginFailure::InvalidToken(format!("userinfo is not JSON: {e}")))
    }
}

/// The claims of a compact JWT whose signature was already checked.
fn payload(jwt: &str) -> Result<Value, LoginFailure> {
    let part = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| LoginFailure::InvalidToken("the id_token is not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| LoginFailure::InvalidToken("the id_token is not a JWT".into()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| LoginFailure::InvalidToken("the id_token's claims are not JSON".into()))
}

/// The value at a dotted path (`realm_access.roles`).
fn lookup<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(claims, |value, key| value.get(key))
        .filter(|v| !v.is_null())
}

/// Who the claims say this is.
fn sign_in(issuer: &str, subject: &str, claims: &Value, groups_claim: &str) -> SignIn {
    let text = |key: &str| {
        claims
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let email = text("email");
    let username = text("preferred_username")
        .or_else(|| {
            email
                .as_ref()
                .and_then(|e| e.split('@').next())
                .map(str::to_owned)
        })
        .or_else(|| text("name"))
        .unwrap_or_else(|| subject.to_owned());
    let groups = match lookup(claims, groups_claim) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => one
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    SignIn {
        subject: format!("{issuer}#{subject}"),
        username,
        email,
        groups,
        role: None,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn claims_give_the_person_and_groups_at_a_dotted_path() {
        let claims = json!({
            "sub": "42", "email": "ada@example.com",
            "realm_access": {"roles": ["sre", "engineering"]},
        });
        let person = sign_in("https://idp.test", "42", &claims, "realm_access.roles");
        assert_eq!(person.subject, "https://idp.test#42");
        assert_eq!(person.username, "ada");
        assert_eq!(person.groups, ["sre", "engineering"]);
        let named = json!({"preferred_username": "grace", "groups": "a, b"});
        let person = sign_in("i", "7", &named, "groups");
        assert_eq!((person.username.as_str(), person.email), ("grace", None));
        assert_eq!(person.groups, ["a", "b"]);
        assert!(sign_in("i", "7", &json!({}), "groups").groups.is_empty());
        assert_eq!(sign_in("i", "7", &json!({}), "groups").username, "7");
    }

    #[test]
    fn the_payload_of_a_jwt_is_read() {
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        assert_eq!(payload(&format!("h.{body}.s")).unwrap()["sub"], "x");
        assert!(payload("not-a-jwt").is_err());
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd"));
    }
}
