//! Keys kept in AWS Secrets Manager as key rings (`{"current": "…", "previous": "…"}`), read once
//! at cold start and kept for the container's life. A function finds the secret of key `NAME` in
//! `NAME_SECRET_ARN`; without it the key comes from the environment (`NAME`, `NAME_PREVIOUS`), as
//! in the local stack and tests. A rotation changes the secret and then starts fresh containers
//! (README, "Rotating keys").

use std::collections::HashMap;
use std::sync::OnceLock;

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;
use gateway_domain::keys::{KeyRing, StoredRingError};

/// `NAME` + this = the environment variable naming the secret that holds key `NAME`.
pub const SECRET_ARN_SUFFIX: &str = "_SECRET_ARN";

static COLD_START: OnceLock<HashMap<String, KeyRing>> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {id} could not be read: {source}")]
    Read {
        id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("secret {id} could not be written: {source}")]
    Write {
        id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("secret {id}: {source}")]
    Malformed {
        id: String,
        #[source]
        source: StoredRingError,
    },
}

/// Reads every secret named by a `*_SECRET_ARN` variable, once, before the function's
/// configuration is built. Fails (the cold start with it) naming the secret it could not read:
/// a function must not run without its keys.
pub async fn load_at_cold_start(sdk: &SdkConfig) -> Result<(), SecretError> {
    remember(load(&Client::new(sdk), std::env::vars()).await?);
    Ok(())
}

/// Keeps the rings read at cold start; a second call in one process keeps the first reading (a
/// container reads its keys once).
fn remember(rings: HashMap<String, KeyRing>) {
    let _ = COLD_START.set(rings);
}

/// The key rings of the secrets named by `vars` (`NAME_SECRET_ARN` → ring of key `NAME`).
pub async fn load(
    client: &Client,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<HashMap<String, KeyRing>, SecretError> {
    let mut rings = HashMap::new();
    for (var, id) in vars {
        let Some(name) = var.strip_suffix(SECRET_ARN_SUFFIX) else {
            continue;
        };
        if id.trim().is_empty() {
            continue;
        }
        let ring = read_ring(client, &id).await?;
        tracing::info!(key = %name, rotating = ring.is_rotating(), "key read from its secret");
        rings.insert(name.to_string(), ring);
    }
    Ok(rings)
}

/// The ring of key `name` read at cold start, if it has a secret.
pub fn cold_start_ring(name: &str) -> Option<KeyRing> {
    COLD_START.get()?.get(name).cloned()
}

pub async fn read_ring(client: &Client, id: &str) -> Result<KeyRing, SecretError> {
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| SecretError::Read {
            id: id.into(),
            source: Box::new(e),
        })?;
    let text = out.secret_string().unwrap_or_default();
    KeyRing::from_secret(text).map_err(|source| SecretError::Malformed { id: id.into(), source })
}

/// Stores `ring` as the secret's new value (a new version; Secrets Manager keeps the old one
/// as `AWSPREVIOUS`).
pub async fn write_ring(client: &Client, id: &str, ring: &KeyRing) -> Result<(), SecretError> {
    client
        .put_secret_value()
        .secret_id(id)
        .secret_string(ring.to_secret())
        .send()
        .await
        .map_err(|e| SecretError::Write {
            id: id.into(),
            source: Box::new(e),
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the functions' configuration reads: a key with a secret comes from the secret's ring
    /// (both keys during a rotation), never from a stale environment value.
    #[test]
    fn a_key_read_from_its_secret_wins_over_the_environment() {
        // A name the environment surely has a value for (setting one is unsafe with threads).
        let name = "PATH";
        assert!(std::env::var(name).is_ok_and(|v| !v.is_empty()));
        remember(HashMap::from([(
            name.to_string(),
            KeyRing::new("from-secret").with_previous(Some("previous-from-secret")),
        )]));
        let ring = crate::aws::optional_key_ring_from_env(name).unwrap();
        assert_eq!(ring.current(), "from-secret");
        assert_eq!(ring.previous(), Some("previous-from-secret"));
        assert!(crate::aws::optional_key_ring_from_env("SECRETS_TEST_NO_SUCH_KEY").is_none());
    }
}
