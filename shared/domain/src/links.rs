//! Gateway-signed links: `…/recordings/<company>/<case>/<file>?expires=<unix>&sig=<hex>` and
//! `…/cases/<company>/<call>?expires=…&sig=…`. A presigned S3 URL dies with the function's
//! temporary credentials (hours at most), so e-mails and webhooks carry these instead; the
//! gateway checks them and redirects to a presigned URL valid for a minute, or shows the case.

use crate::ids::{CallId, CompanyId};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::case::ServiceCase;
use crate::keys::{KeyRing, KeyUsed};
use crate::tenancy::tenant::Tenant;

/// Where links point (the HTTP API's public base URL) and the key that signs them.
#[derive(Clone, Debug)]
pub struct LinkSettings {
    pub base_url: String,
    pub signing_key: String,
}

impl LinkSettings {
    /// The case's read-only page, valid for the company's `case_link_ttl_hours` from `now`.
    pub fn case_link(&self, tenant: &Tenant, case: &ServiceCase, now: DateTime<Utc>) -> String {
        let expires = now + chrono::Duration::hours(i64::from(tenant.config.case_link_ttl_hours));
        sign(
            &self.base_url,
            &self.signing_key,
            &case_path(&case.company_id, &case.call_id),
            expires,
        )
    }

    /// A stored recording, valid for the company's `audio_url_ttl_minutes` from `now`; with when
    /// it expires.
    pub fn recording_link(&self, tenant: &Tenant, object_key: &str, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
        let expires = now + chrono::Duration::minutes(i64::from(tenant.config.audio_url_ttl_minutes));
        let link = sign(&self.base_url, &self.signing_key, &recording_path(object_key), expires);
        (link, expires)
    }
}

fn mac(key: &str, path: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(path.as_bytes());
    mac.update(b"\n");
    mac.update(expires.to_string().as_bytes());
    mac
}

/// The path of a stored recording's link: `/recordings/<object key>`.
pub fn recording_path(object_key: &str) -> String {
    format!("/recordings/{object_key}")
}

/// The path of a case's read-only page: `/cases/<company>/<call id>`.
pub fn case_path(company_id: &CompanyId, call_id: &CallId) -> String {
    format!("/cases/{company_id}/{call_id}")
}

/// A link to `path` under `base_url`, valid until `expires`.
pub fn sign(base_url: &str, key: &str, path: &str, expires: DateTime<Utc>) -> String {
    let ts = expires.timestamp();
    let sig = hex::encode(mac(key, path, ts).finalize().into_bytes());
    format!("{}{path}?expires={ts}&sig={sig}", base_url.trim_end_matches('/'))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    Malformed,
    Expired,
    BadSignature,
}

/// Checks a link's query (`expires=…&sig=…`) for `path` at `now`, in constant time.
pub fn verify(key: &str, path: &str, query: &str, now: DateTime<Utc>) -> Result<(), LinkError> {
    verify_with(&KeyRing::new(key), path, query, now).map(|_| ())
}

/// The same against the current key and, during a rotation, the previous one: a link signed
/// before the key changed keeps working until it expires; one signed with a retired key (neither)
/// is a `BadSignature`. Says which key matched.
pub fn verify_with(keys: &KeyRing, path: &str, query: &str, now: DateTime<Utc>) -> Result<KeyUsed, LinkError> {
    let mut expires = None;
    let mut sig = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("expires", v)) => expires = v.parse::<i64>().ok(),
            Some(("sig", v)) => sig = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(expires), Some(sig)) = (expires, sig) else {
        return Err(LinkError::Malformed);
    };
    let used = keys
        .keys()
        .find(|(_, key)| mac(key, path, expires).verify_slice(&sig).is_ok())
        .map(|(used, _)| used)
        .ok_or(LinkError::BadSignature)?;
    if now.timestamp() > expires {
        Err(LinkError::Expired)
    } else {
        Ok(used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn signed_links_verify_until_they_expire() {
        let now = Utc::now();
        let path = recording_path("nordit/01ABC/recording.wav");
        let link = sign("https://gw.example/", "k", &path, now + Duration::minutes(60));
        let (base_path, query) = link.split_once('?').unwrap();
        assert_eq!(base_path, "https://gw.example/recordings/nordit/01ABC/recording.wav");
        assert_eq!(verify("k", &path, query, now), Ok(()));
        assert_eq!(
            verify("k", &path, query, now + Duration::minutes(61)),
            Err(LinkError::Expired)
        );
        assert_eq!(verify("other", &path, query, now), Err(LinkError::BadSignature));
        assert_eq!(
            verify("k", "/recordings/nordit/OTHER/recording.wav", query, now),
            Err(LinkError::BadSignature)
        );
        let later = query.replace("expires=", "expires=9");
        assert_eq!(
            verify("k", &path, &later, now),
            Err(LinkError::BadSignature),
            "the expiry is signed"
        );
        assert_eq!(verify("k", &path, "", now), Err(LinkError::Malformed));
    }

    #[test]
    fn links_signed_with_the_previous_key_work_until_they_expire_and_retired_keys_do_not() {
        let now = Utc::now();
        let path = case_path(&CompanyId::new("nordit"), &CallId::new("call_1"));
        let query = |key: &str, expires| sign("", key, &path, expires).split_once('?').unwrap().1.to_string();
        let rotating = KeyRing::new("new").with_previous(Some("old"));
        let by_old = query("old", now + Duration::hours(72));
        assert_eq!(verify_with(&rotating, &path, &by_old, now), Ok(KeyUsed::Previous));
        assert_eq!(
            verify_with(&rotating, &path, &query("new", now + Duration::hours(72)), now),
            Ok(KeyUsed::Current)
        );
        assert_eq!(
            verify_with(&rotating, &path, &by_old, now + Duration::hours(73)),
            Err(LinkError::Expired),
            "the previous key does not extend a link's life"
        );
        assert_eq!(
            verify_with(&rotating, &path, &query("retired", now + Duration::hours(72)), now),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            verify_with(&KeyRing::new("new"), &path, &by_old, now),
            Err(LinkError::BadSignature),
            "once the previous key is cleared"
        );
    }
}
