//! ID-token verification: RS256 signature against the pool's JWKS (fetched on first use and
//! cached per container; fetched again, at most once a minute, when a token names a key it does
//! not know, as after Cognito rotates keys), issuer, audience, expiry and `token_use = id`.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::CognitoSettings;

/// A missing key is looked up again at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(60);

/// The claims of a Cognito ID token the console reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    pub token_use: String,
    #[serde(rename = "cognito:username")]
    pub username: String,
    #[serde(rename = "custom:company_id", default)]
    pub company_id: Option<String>,
    #[serde(rename = "custom:role", default)]
    pub role: Option<String>,
    #[serde(rename = "cognito:groups", default)]
    pub groups: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("the signing keys could not be fetched: {0}")]
    Keys(String),
}

struct Cache {
    keys: Option<JwkSet>,
    fetched: Option<Instant>,
}

pub struct Verifier {
    settings: CognitoSettings,
    http: reqwest::Client,
    cache: RwLock<Cache>,
}

impl Verifier {
    /// No network here: the keys are fetched by the first request that needs them.
    pub fn new(settings: &CognitoSettings) -> Self {
        Self {
            settings: settings.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            cache: RwLock::new(Cache {
                keys: None,
                fetched: None,
            }),
        }
    }

    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::Invalid(format!("algorithm {:?}", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| TokenError::Invalid("no key id".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| TokenError::Invalid(format!("{:?}", e.kind())))?
            .claims;
        if claims.token_use != "id" {
            return Err(TokenError::Invalid("not an ID token".into()));
        }
        Ok(claims)
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        {
            let cache = self.cache.read().await;
            if let Some(jwk) = cache.keys.as_ref().and_then(|k| k.find(kid)) {
                return DecodingKey::from_jwk(jwk).map_err(|e| TokenError::Keys(e.to_string()));
            }
            if cache.fetched.is_some_and(|at| at.elapsed() < REFETCH_AFTER) {
                return Err(TokenError::Invalid(format!("unknown key id {kid}")));
            }
        }
        let mut cache = self.cache.write().await;
        if cache.fetched.is_none_or(|at| at.elapsed() >= REFETCH_AFTER) {
            let fetched = self.fetch().await;
            cache.fetched = Some(Instant::now());
            cache.keys = Some(fetched?);
        }
        let jwk = cache
            .keys
            .as_ref()
            .and_then(|k| k.find(kid))
            .ok_or_else(|| TokenError::Invalid(format!("unknown key id {kid}")))?;
        DecodingKey::from_jwk(jwk).map_err(|e| TokenError::Keys(e.to_string()))
    }

    async fn fetch(&self) -> Result<JwkSet, TokenError> {
        let response = self
            .http
            .get(&self.settings.jwks_url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| TokenError::Keys(e.without_url().to_string()))?;
        response
            .json::<JwkSet>()
            .await
            .map_err(|e| TokenError::Keys(e.without_url().to_string()))
    }
}
