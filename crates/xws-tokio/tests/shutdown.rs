//! Graceful shutdown under load: every peer gets 1001, and every message
//! the handler accepted is answered before the close frame.

mod common;

use common::{quiet_limits, start, test_config, within};
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio_tungstenite::tungstenite;
use xws::{Handler, HookResult, Message, Peer};

/// Echoes, and counts the messages it accepted per `?name=`.
#[derive(Clone, Default)]
struct CountingEcho {
    accepted: Arc<Mutex<HashMap<String, usize>>>,
}

impl Handler for CountingEcho {
    type Context = ();

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        let name = peer.request().query_param("name").unwrap_or_default();
        *self.accepted.lock().entry(name.into_owned()).or_default() += 1;
        peer.send(message)?;
        Ok(())
    }
}

const CLIENTS: usize = 20;

/// What one client saw: echoes in order, then the close code.
struct Seen {
    name: String,
    echoes: usize,
    code: Option<u16>,
}

async fn busy_client(client: common::Client, name: String) -> Seen {
    let (mut write, mut read) = client.split();
    let writer = async {
        let mut sent = 0usize;
        #[allow(clippy::infinite_loop)]
        loop {
            let message = tungstenite::Message::text(sent.to_string());
            if write.send(message).await.is_err() {
                // Closed: only the reader's close frame ends the client.
                std::future::pending::<()>().await;
            }
            sent += 1;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    let reader = async {
        let mut echoes = 0usize;
        let code = loop {
            match read.next().await {
                Some(Ok(tungstenite::Message::Text(text))) => {
                    assert_eq!(
                        text.as_str(),
                        echoes.to_string(),
                        "{name}: echo out of order"
                    );
                    echoes += 1;
                }
                Some(Ok(tungstenite::Message::Close(frame))) => {
                    break frame.map(|f| u16::from(f.code));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break None,
            }
        };
        // Complete the close handshake.
        while let Some(Ok(_)) = read.next().await {}
        (echoes, code)
    };
    // The writer runs until the connection is gone; the reader decides.
    let (echoes, code) = tokio::select! {
        result = reader => result,
        () = writer => {
            panic!("{name}: the writer stopped before the close frame arrived")
        }
    };
    Seen { name, echoes, code }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_under_load_sends_1001_and_answers_every_accepted_message() {
    let echo = CountingEcho::default();
    let mut server = start(echo.clone(), test_config(quiet_limits())).await;
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let name = format!("c{i}");
        let client = server.connect(&format!("/?name={name}")).await;
        clients.push(tokio::spawn(busy_client(client, name)));
    }
    common::eventually("every client to be busy", || {
        let accepted = echo.accepted.lock();
        accepted.len() == CLIENTS && accepted.values().all(|&n| n >= 20)
    })
    .await;

    server.stop().await;

    for client in clients {
        let seen = within("a client to finish", client).await.unwrap();
        assert_eq!(seen.code, Some(1001), "{}: close code", seen.name);
        let accepted = echo.accepted.lock().get(&seen.name).copied().unwrap_or(0);
        assert_eq!(
            seen.echoes, accepted,
            "{}: the handler accepted {accepted} messages, the client got {} answers",
            seen.name, seen.echoes
        );
    }
    assert_eq!(server.xws.connections(), 0);
    assert_eq!(server.xws.tasks(), 0);
}
