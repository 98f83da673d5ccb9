//! A minimal keep-alive HTTP/1.1 client for the load tool: one connection per client, a
//! request written whole, a response read by its `Content-Length`. Both the engine and the
//! baseline answer with `Content-Length`, so nothing more is needed.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Conn {
    stream: BufReader<TcpStream>,
    addr: SocketAddr,
    head: String,
    body: Vec<u8>,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(s),
            addr,
            head: String::new(),
            body: Vec::new(),
        })
    }

    /// POSTs `body` to `path` and returns (status, response body length).
    pub async fn post(
        &mut self,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> anyhow::Result<(u16, usize)> {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let s = self.stream.get_mut();
        s.write_all(req.as_bytes()).await?;
        s.write_all(body).await?;
        self.read_response().await
    }

    async fn read_response(&mut self) -> anyhow::Result<(u16, usize)> {
        let mut status = 0u16;
        let mut len = 0usize;
        loop {
            self.head.clear();
            let n = self.stream.read_line(&mut self.head).await?;
            anyhow::ensure!(n > 0, "connection closed");
            let line = self.head.trim_end();
            if line.is_empty() {
                break;
            }
            if status == 0 {
                status = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            } else if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        self.body.resize(len, 0);
        self.stream.read_exact(&mut self.body).await?;
        Ok((status, len))
    }
}
