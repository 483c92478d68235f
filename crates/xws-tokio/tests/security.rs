//! Security at the door and after it: tokens in the query, a cookie or
//! `Sec-WebSocket-Protocol` (browsers cannot set headers), the Origin
//! allow-list, connection limits (total and per IP), message and frame
//! size limits, per-topic authorization and context isolation.

mod common;

use common::{
    Client, close_code, eventually, next_text, quiet_limits, send_text, start, test_config, within,
};
use futures_util::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{
    self, Bytes,
    client::IntoClientRequest,
    protocol::frame::{
        Frame,
        coding::{Data, OpCode},
    },
};
use xws::{Handler, HookResult, Limits, Message, Peer, Reject, RequestInfo, Topic, Upgrade};
use xws_tokio::{Config, OriginPolicy};

/// The signed-in user, known only to their own peer.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct User {
    name: String,
}

/// Authenticates with a token from the query, a cookie or a subprotocol;
/// lets a peer subscribe only to `public` and to its own `user:` topic.
struct Guard;

/// The subprotocol the server answers when the token came as one.
const PROTOCOL: &str = "xws";
const TOKEN_PREFIX: &str = "token.";

fn user_of(token: &str) -> Option<&'static str> {
    match token {
        "alice-secret" => Some("alice"),
        "bob-secret" => Some("bob"),
        _ => None,
    }
}

impl Handler for Guard {
    type Context = User;

    async fn upgrade(&self, request: &RequestInfo) -> Upgrade<User> {
        let from_protocol = request
            .protocols()
            .find_map(|p| p.strip_prefix(TOKEN_PREFIX))
            .map(str::to_owned);
        let token = request
            .query_param("token")
            .map(|t| t.into_owned())
            .or_else(|| request.cookie("token").map(str::to_owned))
            .or_else(|| from_protocol.clone());
        let Some(name) = token.as_deref().and_then(user_of) else {
            return Reject::unauthorized("missing or wrong token").into();
        };
        let accept = xws::Accept::new(User {
            name: name.to_owned(),
        });
        if from_protocol.is_some() {
            accept.protocol(PROTOCOL).into()
        } else {
            accept.into()
        }
    }

    async fn open(&self, peer: &Peer<User>) -> HookResult {
        let own = format!("user:{}", peer.context().name);
        peer.subscribe(own)?;
        Ok(())
    }

    async fn message(&self, peer: &Peer<User>, message: Message) -> HookResult {
        let text = message.text()?;
        if text == "whoami" {
            let name = peer.context().name.clone();
            peer.send(name)?;
        } else if let Some(topic) = text.strip_prefix("sub:") {
            let answer = match peer.subscribe(topic) {
                Ok(()) => format!("subscribed:{topic}"),
                Err(xws::Error::SubscribeRefused(_)) => format!("refused:{topic}"),
                Err(error) => return Err(error.into()),
            };
            peer.send(answer)?;
        } else {
            peer.send(message)?;
        }
        Ok(())
    }

    fn authorize_subscribe(&self, peer: &Peer<User>, topic: &Topic) -> bool {
        let own = format!("user:{}", peer.context().name);
        topic.as_str() == "public" || topic.as_str() == own
    }
}

fn config() -> Config {
    test_config(quiet_limits())
}

async fn whoami(client: &mut Client) -> String {
    send_text(client, "whoami").await;
    next_text(client).await
}

#[tokio::test]
async fn a_token_in_the_query_a_cookie_or_the_subprotocol_authenticates() {
    let server = start(Guard, config()).await;

    let mut by_query = server.connect("/?token=alice-secret").await;
    assert_eq!(whoami(&mut by_query).await, "alice");

    let mut request = server.url("/").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", "theme=dark; token=bob-secret".parse().unwrap());
    let (mut by_cookie, _) = within("connect", tokio_tungstenite::connect_async(request))
        .await
        .unwrap();
    assert_eq!(whoami(&mut by_cookie).await, "bob");

    // What `new WebSocket(url, ["xws", "token.…"])` sends from a browser.
    let mut request = server.url("/").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("{PROTOCOL}, {TOKEN_PREFIX}alice-secret")
            .parse()
            .unwrap(),
    );
    let (mut by_protocol, response) = within("connect", tokio_tungstenite::connect_async(request))
        .await
        .unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        PROTOCOL,
        "the server selects the application protocol, never echoes the token"
    );
    assert_eq!(whoami(&mut by_protocol).await, "alice");
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_refused_with_401() {
    let server = start(Guard, config()).await;
    assert_eq!(server.upgrade_status("/", &[]).await, 401);
    assert_eq!(server.upgrade_status("/?token=mallory", &[]).await, 401);
    assert_eq!(
        server
            .upgrade_status("/", &[("cookie", "token=mallory")])
            .await,
        401
    );
    assert_eq!(
        server
            .upgrade_status("/", &[("sec-websocket-protocol", "xws, token.mallory")])
            .await,
        401
    );
    // The refused clients hang up; their connections then hold no slot.
    eventually("refused connections to free their slots", || {
        server.xws.connections() == 0
    })
    .await;
}

#[tokio::test]
async fn a_peer_cannot_subscribe_to_another_users_topic_nor_read_their_context() {
    let server = start(Guard, config()).await;
    let mut alice = server.connect("/?token=alice-secret").await;
    let mut bob = server.connect("/?token=bob-secret").await;
    assert_eq!(whoami(&mut alice).await, "alice");
    assert_eq!(whoami(&mut bob).await, "bob");

    send_text(&mut alice, "sub:user:bob").await;
    assert_eq!(next_text(&mut alice).await, "refused:user:bob");
    send_text(&mut alice, "sub:public").await;
    assert_eq!(next_text(&mut alice).await, "subscribed:public");

    let delivery = server
        .xws
        .hub()
        .publish("user:bob", "for bob only")
        .await
        .unwrap();
    assert_eq!(delivery.delivered, 1);
    assert_eq!(next_text(&mut bob).await, "for bob only");
    // Alice's next message is the answer to her own question, not Bob's.
    assert_eq!(whoami(&mut alice).await, "alice");

    // The same rule holds for SSE streams.
    let sse = |token: &'static str, topic: &'static str| {
        let addr = server.addr;
        async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let request = format!(
                "GET /?topic={topic}&token={token} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut head = [0u8; 12];
            within("an SSE response", stream.read_exact(&mut head))
                .await
                .unwrap();
            String::from_utf8_lossy(&head[9..12]).into_owned()
        }
    };
    assert_eq!(sse("alice-secret", "user:bob").await, "403");
    assert_eq!(sse("bob-secret", "user:bob").await, "200");
}

#[tokio::test]
async fn an_origin_outside_the_allow_list_is_refused_with_403() {
    let config = Config {
        origins: OriginPolicy::AllowList(vec!["https://app.example".into()]),
        ..config()
    };
    let server = start(Guard, config).await;
    let url = "/?token=alice-secret";
    assert_eq!(
        server
            .upgrade_status(url, &[("origin", "https://evil.example")])
            .await,
        403
    );
    assert_eq!(server.upgrade_status(url, &[("origin", "null")]).await, 403);
    assert_eq!(
        server
            .upgrade_status(url, &[("origin", "https://app.example")])
            .await,
        101
    );
    // Non-browser clients send no Origin; they authenticate with the token.
    assert_eq!(server.upgrade_status(url, &[]).await, 101);
}

#[tokio::test]
async fn connections_are_limited_per_ip_with_429_and_in_total_with_503() {
    let per_ip = test_config(Limits {
        max_connections_per_ip: Some(2),
        ..quiet_limits()
    });
    let server = start(Guard, per_ip).await;
    let first = server.connect("/?token=alice-secret").await;
    let _second = server.connect("/?token=alice-secret").await;
    assert_eq!(
        server.upgrade_status("/?token=alice-secret", &[]).await,
        429
    );
    drop(first);
    eventually("the slot to be freed", || server.xws.connections() == 1).await;
    let _third = server.connect("/?token=alice-secret").await;

    let total = test_config(Limits {
        max_connections: 2,
        ..quiet_limits()
    });
    let server = start(Guard, total).await;
    let _a = server.connect("/?token=alice-secret").await;
    let _b = server.connect("/?token=bob-secret").await;
    assert_eq!(server.upgrade_status("/?token=bob-secret", &[]).await, 503);
}

const MAX_MESSAGE: usize = 1024;

fn small_messages() -> Config {
    test_config(Limits {
        max_message_size: MAX_MESSAGE,
        ..quiet_limits()
    })
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_with_1009() {
    let server = start(Guard, small_messages()).await;
    let mut client = server.connect("/?token=alice-secret").await;
    send_text(&mut client, &"a".repeat(MAX_MESSAGE)).await;
    assert_eq!(
        next_text(&mut client).await.len(),
        MAX_MESSAGE,
        "the limit itself passes"
    );
    send_text(&mut client, &"a".repeat(MAX_MESSAGE + 1)).await;
    assert_eq!(close_code(&mut client).await, 1009);
}

#[tokio::test]
async fn small_fragments_adding_up_past_the_limit_close_with_1009() {
    let server = start(Guard, small_messages()).await;
    let mut client = server.connect("/?token=alice-secret").await;
    let part = || Bytes::from(vec![b'a'; MAX_MESSAGE / 4]);
    let mut frames = vec![Frame::message(part(), OpCode::Data(Data::Text), false)];
    frames.extend((0..4).map(|_| Frame::message(part(), OpCode::Data(Data::Continue), false)));
    frames.push(Frame::message(part(), OpCode::Data(Data::Continue), true));
    for frame in frames {
        if client
            .send(tungstenite::Message::Frame(frame))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(close_code(&mut client).await, 1009);
}

#[tokio::test]
async fn a_frame_announcing_a_gigabyte_is_refused_from_its_header_with_1009() {
    let server = start(Guard, small_messages()).await;
    let mut raw = common::raw_upgrade(server.addr, "/?token=alice-secret", None).await;
    // FIN + binary, masked, 64-bit length of 1 GiB, mask key; no payload.
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 30).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    raw.write_all(&header).await.unwrap();
    // The server's first frame: an unmasked close frame with code 1009.
    let mut close = [0u8; 4];
    within("the close frame", raw.read_exact(&mut close))
        .await
        .unwrap();
    assert_eq!(close[0], 0x88, "a close frame");
    assert_eq!(u16::from_be_bytes([close[2], close[3]]), 1009);
}
