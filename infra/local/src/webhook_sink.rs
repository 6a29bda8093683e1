//! A local webhook receiver: records every request (headers and exact body bytes) and answers
//! from a script (status and body per request, the last entry repeating). Stands in for a ticket
//! system in `make run` and in the tests.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
    pub at: std::time::Instant,
}

#[derive(Default)]
struct State {
    script: Vec<(u16, String)>,
    received: Vec<Received>,
}

#[derive(Clone, Default)]
pub struct Sink {
    state: Arc<Mutex<State>>,
    pub addr: String,
}

impl Sink {
    /// Starts on a free loopback port, answering 201 `{"id": "EXT-<n>"}` until told otherwise.
    pub async fn start() -> std::io::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let sink = Sink {
            state: Arc::default(),
            addr: listener.local_addr()?.to_string(),
        };
        let served = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = served.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let sink = sink.clone();
                        async move { Ok::<_, Infallible>(sink.answer(req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(sink)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers for the coming requests, in order; the last one repeats.
    pub fn script(&self, answers: &[(u16, &str)]) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.script = answers.iter().map(|(s, b)| (*s, b.to_string())).collect();
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).received.clone()
    }

    async fn answer(&self, req: hyper::Request<hyper::body::Incoming>) -> hyper::Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
        let (status, reply) = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let n = state.received.len() + 1;
            state.received.push(Received {
                path: parts.uri.path().to_string(),
                headers: parts.headers,
                body,
                at: std::time::Instant::now(),
            });
            match state.script.len() {
                0 => (201, format!(r#"{{"id": "EXT-{n}"}}"#)),
                1 => state.script[0].clone(),
                _ => state.script.remove(0),
            }
        };
        let mut resp = hyper::Response::new(Full::new(Bytes::from(reply)));
        *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        resp.headers_mut().insert(
            "content-type",
            hyper::header::HeaderValue::from_static("application/json"),
        );
        resp
    }
}
