//! A local stand-in for Retell's recording host: `/rec/<bytes>.wav` streams that many
//! deterministic bytes without holding them in memory, `/status/<code>` answers with that
//! status, `/stall` sends a little and then nothing (to trip read timeouts).

use std::convert::Infallible;
use std::time::Duration;

use futures_util::stream;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, StreamBody};
use hyper::body::{Bytes, Frame};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

const CHUNK: usize = 64 * 1024;

/// Byte `i` of every served recording (cheap, position-dependent, not all one value).
fn byte_at(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

fn chunk(offset: u64, len: usize) -> Vec<u8> {
    (0..len as u64).map(|i| byte_at(offset + i)).collect()
}

/// SHA-256 of the recording of `size` bytes, computed chunk by chunk.
pub fn expected_sha256(size: u64) -> String {
    let mut hasher = Sha256::new();
    let mut offset = 0;
    while offset < size {
        let len = (size - offset).min(CHUNK as u64) as usize;
        hasher.update(chunk(offset, len));
        offset += len as u64;
    }
    hex::encode(hasher.finalize())
}

type Body = BoxBody<Bytes, Infallible>;

fn respond(status: u16, body: Body, len: Option<u64>) -> hyper::Response<Body> {
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert("content-type", hyper::header::HeaderValue::from_static("audio/wav"));
    if let Some(len) = len {
        resp.headers_mut().insert("content-length", len.into());
    }
    resp
}

async fn serve_one(req: hyper::Request<hyper::body::Incoming>) -> Result<hyper::Response<Body>, Infallible> {
    let path = req.uri().path().to_string();
    if let Some(size) = path
        .strip_prefix("/rec/")
        .and_then(|p| p.split('.').next())
        .and_then(|n| n.parse::<u64>().ok())
    {
        let chunks = stream::unfold(0u64, move |offset| async move {
            if offset >= size {
                return None;
            }
            let len = (size - offset).min(CHUNK as u64) as usize;
            Some((
                Ok::<_, Infallible>(Frame::data(Bytes::from(chunk(offset, len)))),
                offset + len as u64,
            ))
        });
        return Ok(respond(200, StreamBody::new(chunks).boxed(), Some(size)));
    }
    if let Some(code) = path.strip_prefix("/status/").and_then(|c| c.parse::<u16>().ok()) {
        return Ok(respond(code, Empty::new().boxed(), Some(0)));
    }
    if path == "/stall" {
        let chunks = stream::unfold(0u8, |n| async move {
            if n > 0 {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Some((Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"RIFF"))), 1))
        });
        return Ok(respond(200, StreamBody::new(chunks).boxed(), Some(1_000_000)));
    }
    Ok(respond(404, Empty::new().boxed(), Some(0)))
}

/// Starts the server on a free loopback port; returns its `127.0.0.1:port`.
pub async fn start() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hyper::service::service_fn(serve_one))
                    .await;
            });
        }
    });
    Ok(addr)
}
