//! A Phoenix Channels v2 client for the tests, on tokio-tungstenite.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Longest wait for any expected frame: a hang guard, not a performance assertion.
const WAIT: Duration = Duration::from_secs(10);

pub struct Channel {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_ref: u64,
    /// Frames read while waiting for something else.
    pending: VecDeque<Value>,
}

/// The URL of the socket with `token`.
pub fn socket_url(addr: SocketAddr, token: &str) -> String {
    format!("ws://{addr}/socket/websocket?vsn=2.0.0&token={token}")
}

impl Channel {
    /// Connects with an API token, as Phoenix clients send it.
    pub async fn connect(addr: SocketAddr, token: &str) -> Self {
        Self::open(socket_url(addr, token))
            .await
            .expect("socket opened")
    }

    /// Connects to `url`; the HTTP answer when the upgrade is refused.
    pub async fn open(url: String) -> Result<Self, u16> {
        let request = url.into_client_request().unwrap();
        Self::open_request(request).await
    }

    pub async fn open_request(
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> Result<Self, u16> {
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => Ok(Self {
                ws,
                next_ref: 0,
                pending: VecDeque::new(),
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("connecting: {e}"),
        }
    }

    /// Sends a raw text frame.
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws
            .send(Message::Text(text.into().into()))
            .await
            .expect("frame sent");
    }

    /// Sends `[join_ref, ref, topic, event, payload]` with a new ref; returns the ref.
    pub async fn push(
        &mut self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> String {
        self.next_ref += 1;
        let reference = self.next_ref.to_string();
        let frame = json!([join_ref, reference, topic, event, payload]);
        self.send_text(frame.to_string()).await;
        reference
    }

    /// Waits for the reply to `reference`; returns `{status, response}`.
    pub async fn reply(&mut self, reference: &str) -> Value {
        let frame = self
            .find(|f| f[3] == "phx_reply" && f[1] == reference)
            .await;
        frame[4].clone()
    }

    /// Joins `topic` (join_ref = the join's ref); returns the reply's payload.
    pub async fn join(&mut self, topic: &str, payload: Value) -> Value {
        let join_ref = (self.next_ref + 1).to_string();
        let reference = self.push(Some(&join_ref), topic, "phx_join", payload).await;
        self.reply(&reference).await
    }

    /// The next frame matching `wanted`; others are kept for later calls.
    pub async fn find(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(at) = self.pending.iter().position(&wanted) {
            return self.pending.remove(at).unwrap();
        }
        loop {
            let frame = self.read().await.expect("a frame, not a close");
            if wanted(&frame) {
                return frame;
            }
            self.pending.push_back(frame);
        }
    }

    /// The next event (a push with a log id) on `topic`.
    pub async fn event(&mut self, topic: &str) -> Value {
        self.find(|f| f[2] == topic && f[0].is_null() && f[4].get("id").is_some())
            .await
    }

    /// The next `n` events on `topic`.
    pub async fn events(&mut self, topic: &str, n: usize) -> Vec<Value> {
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            events.push(self.event(topic).await);
        }
        events
    }

    /// Whether another event on `topic` arrives within `wait`.
    pub async fn quiet(&mut self, topic: &str, wait: Duration) -> bool {
        let topic = topic.to_owned();
        tokio::time::timeout(wait, self.event(&topic))
            .await
            .is_err()
    }

    /// Reads one frame; `Err` with the close frame when the server closes.
    pub async fn read(&mut self) -> Result<Value, Option<CloseFrame>> {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame within the wait");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Ok(serde_json::from_str(&text).expect("frames are JSON"))
                }
                Some(Ok(Message::Close(frame))) => return Err(frame),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    /// Reads until the server closes; returns its close frame.
    pub async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            if let Err(frame) = self.read().await {
                return frame;
            }
        }
    }

    /// Closes from this side.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

impl Channel {
    /// Connects with a tiny receive buffer: a client that reads slowly fills up fast.
    pub async fn connect_small_buffer(addr: SocketAddr, token: &str) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        let request = socket_url(addr, token).into_client_request().unwrap();
        let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
            .await
            .expect("socket opened");
        Self {
            ws,
            next_ref: 0,
            pending: VecDeque::new(),
        }
    }
}
