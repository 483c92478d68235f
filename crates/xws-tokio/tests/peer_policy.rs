//! What the handler decides about a peer's own operations, through real
//! sockets: `authorize_publish` refuses a publication before anyone gets
//! it, and a peer keeps of its upgrade request only what
//! `Handler::kept_request` keeps (no cookie, `Authorization` or `?token=`
//! by default), which is also what Cloudflare and AWS store.

mod common;

use common::{Client, next_text, quiet_limits, send_text, start, test_config, within};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use xws::{Handler, HookResult, Message, Peer, RequestInfo, Topic};

/// `join T` subscribes, `pub T text` publishes (answering `refused: …` when
/// the handler refuses), `request` answers what the peer kept of its
/// request. Peers may publish to `room:` topics only.
struct Rooms {
    kept_headers: &'static [&'static str],
}

impl Handler for Rooms {
    type Context = ();

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        let text = message.text()?.to_owned();
        let mut words = text.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("join"), Some(topic), None) => {
                peer.subscribe(topic)?;
                peer.send(format!("joined {topic}"))?;
            }
            (Some("pub"), Some(topic), Some(body)) => {
                if let Err(error) = peer.publish(topic, body.to_owned()) {
                    peer.send(format!("refused: {error}"))?;
                }
            }
            (Some("request"), None, None) => {
                let request = peer.request();
                let headers: Vec<String> = request
                    .headers
                    .iter()
                    .map(|(name, value)| format!("{name}={}", value.to_str().unwrap_or("?")))
                    .collect();
                peer.send(format!(
                    "{} {} {}",
                    request.path,
                    request.query.as_deref().unwrap_or("-"),
                    headers.join(";")
                ))?;
            }
            _ => peer.send("?")?,
        }
        Ok(())
    }

    fn authorize_publish(&self, _peer: &Peer<()>, topic: &Topic) -> bool {
        topic.as_str().starts_with("room:")
    }

    fn kept_request(&self, request: &RequestInfo) -> RequestInfo {
        request.kept(self.kept_headers)
    }
}

async fn join(client: &mut Client, topic: &str) {
    send_text(client, &format!("join {topic}")).await;
    assert_eq!(next_text(client).await, format!("joined {topic}"));
}

#[tokio::test]
async fn a_publication_the_handler_refuses_reaches_nobody() {
    let server = start(Rooms { kept_headers: &[] }, test_config(quiet_limits())).await;
    let mut listener = server.connect("/").await;
    join(&mut listener, "user:bob").await;
    join(&mut listener, "room:lobby").await;
    let mut publisher = server.connect("/").await;

    send_text(&mut publisher, "pub user:bob forged").await;
    assert_eq!(
        next_text(&mut publisher).await,
        r#"refused: publication to topic "user:bob" was refused"#
    );
    // Published after the refused one, on the same path: the first thing
    // the listener gets is this, never the forged message.
    send_text(&mut publisher, "pub room:lobby hello").await;
    assert_eq!(next_text(&mut listener).await, "hello");
}

#[tokio::test]
async fn a_peer_keeps_no_credentials_and_only_the_headers_it_names() {
    let server = start(
        Rooms {
            kept_headers: &["x-client"],
        },
        test_config(quiet_limits()),
    )
    .await;
    let mut request = server
        .url("/ws?room=a&token=s3cret")
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    // 20 KiB of cookies: more than Cloudflare stores with a socket.
    let cookie = format!("session=s3cret; big={}", "c".repeat(20 * 1024));
    headers.insert("cookie", cookie.parse().unwrap());
    headers.insert("authorization", "Bearer s3cret".parse().unwrap());
    headers.insert("x-client", "test-suite".parse().unwrap());
    let (mut client, _) = within("upgrade", tokio_tungstenite::connect_async(request))
        .await
        .unwrap();
    send_text(&mut client, "request").await;
    let kept = next_text(&mut client).await;
    assert_eq!(kept, "/ws room=a x-client=test-suite");
    assert!(!kept.contains("s3cret"), "{kept}");
}
