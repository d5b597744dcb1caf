//! Asking the portal to read the entity's location again now (`POST /api/catalog/refresh`),
//! so an event does not wait for the file watcher.

use serde_json::json;

use crate::error::{Context, Error, Result};

pub struct Refresher {
    client: reqwest::Client,
    url: String,
    authorization: String,
    body: serde_json::Value,
}

impl Refresher {
    pub fn new(url: String, token: &str, entity_ref: &str) -> Result<Self> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .with_context(|| "building the HTTP client".to_owned())?;
        Ok(Refresher {
            client,
            url,
            authorization: format!("Bearer {token}"),
            body: json!({ "entityRef": entity_ref }),
        })
    }

    /// One refresh; anything but 200 is an error carrying the server's answer.
    pub async fn refresh(&self) -> Result<()> {
        let response = self
            .client
            .post(&self.url)
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .json(&self.body)
            .send()
            .await
            .with_context(|| format!("POST {}", self.url))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(Error::new(format!(
            "POST {} answered {status}: {body}",
            self.url
        )))
    }
}
