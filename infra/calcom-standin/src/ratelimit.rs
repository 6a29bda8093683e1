//! Fixed-window rate limit per API key (anonymous callers share one bucket), with Cal.com's
//! `X-RateLimit-*-Default` headers on every response and 429 + `Retry-After` when exhausted.
//! The real numbers are env-driven and not documented (§1.6); 120 per 60 s is the commonly reported default.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::auth;
use crate::errors::ApiError;
use crate::state::{Shared, lock};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    pub limit: u32,
    pub window_seconds: u64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            limit: 120,
            window_seconds: 60,
        }
    }
}

struct Bucket {
    started: Instant,
    used: u32,
}

pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    pub reset_seconds: u64,
}

#[derive(Default)]
pub struct Limiter {
    pub config: RateLimit,
    buckets: HashMap<String, Bucket>,
}

impl Limiter {
    pub fn new(config: RateLimit) -> Self {
        Self {
            config,
            buckets: HashMap::new(),
        }
    }

    /// Changing the limit starts fresh windows for everybody.
    pub fn set(&mut self, config: RateLimit) {
        self.config = config;
        self.buckets.clear();
    }

    pub fn check(&mut self, key: &str) -> Verdict {
        let window = Duration::from_secs(self.config.window_seconds.max(1));
        let now = Instant::now();
        let bucket = self
            .buckets
            .entry(key.to_string())
            .or_insert(Bucket { started: now, used: 0 });
        if now.duration_since(bucket.started) >= window {
            *bucket = Bucket { started: now, used: 0 };
        }
        let allowed = bucket.used < self.config.limit;
        if allowed {
            bucket.used += 1;
        }
        let left = window.saturating_sub(now.duration_since(bucket.started));
        Verdict {
            allowed,
            limit: self.config.limit,
            remaining: self.config.limit.saturating_sub(bucket.used),
            reset_seconds: left.as_secs() + u64::from(left.subsec_nanos() > 0),
        }
    }
}

pub async fn middleware(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let verdict = lock(&shared.limiter).check(&auth::rate_key(request.headers()));
    let mut response = if verdict.allowed {
        next.run(request).await
    } else {
        let mut response = ApiError::too_many_requests().into_response();
        insert(response.headers_mut(), "retry-after", verdict.reset_seconds);
        response
    };
    let headers = response.headers_mut();
    insert(headers, "x-ratelimit-limit-default", verdict.limit);
    insert(headers, "x-ratelimit-remaining-default", verdict.remaining);
    insert(headers, "x-ratelimit-reset-default", verdict.reset_seconds);
    response
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: impl Into<u64>) {
    headers.insert(HeaderName::from_static(name), HeaderValue::from(value.into()));
}
