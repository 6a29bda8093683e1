//! Stand-ins for an HTTP target on loopback, for tests of timeouts and batches: one that answers
//! every request with a fixed status and body, one that accepts connections and never answers.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A running target; it stops when dropped.
pub struct Target {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Target {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `host:port`, for an allow-list.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers every request with `status` and `body` (JSON).
pub async fn answering(status: u16, body: &'static str) -> Target {
    serve(move |mut socket| async move {
        let mut buf = vec![0u8; 64 * 1024];
        // One read is enough for the small requests of these tests; the answer ends the exchange.
        let _ = socket.read(&mut buf).await;
        let reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(reply.as_bytes()).await;
    })
    .await
}

/// Accepts connections and reads what comes, but never answers.
pub async fn never_answering() -> Target {
    serve(|mut socket| async move {
        let mut buf = vec![0u8; 64 * 1024];
        while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await
}

async fn serve<F, Fut>(on_connection: F) -> Target
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(on_connection(socket));
        }
    });
    Target { addr, task }
}
