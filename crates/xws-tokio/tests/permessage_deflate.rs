//! permessage-deflate (RFC 7692) with a client that speaks it: a raw
//! socket that offers the extension, deflates what it sends and inflates
//! what it gets with flate2 (tokio-tungstenite's client cannot).

mod common;

use common::{WAIT, quiet_limits, start, test_config, within};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use std::{
    net::SocketAddr,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use xws::{Handler, HookResult, Message, Peer, Topic};

const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];
const ROOM: &str = "room";

/// Subscribes every peer to [`ROOM`]; `echo …` comes back to its sender,
/// anything else is published to the room's other peers.
struct Room;

impl Handler for Room {
    type Context = ();

    async fn open(&self, peer: &Peer<()>) -> HookResult {
        peer.subscribe(&Topic::new(ROOM)?)?;
        peer.send(Message::from("ready"))?;
        Ok(())
    }

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        if message.bytes().starts_with(b"echo ") {
            peer.send(message)?;
        } else {
            peer.publish(&Topic::new(ROOM)?, message)?;
        }
        Ok(())
    }
}

/// Counts `xws_deflate_compressions_total` for the whole test binary.
struct Compressions(Arc<AtomicU64>);

impl Recorder for Compressions {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        if key.name() == xws::metrics::DEFLATE_COMPRESSIONS {
            Counter::from_arc(Arc::clone(&self.0))
        } else {
            Counter::noop()
        }
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

fn compressions() -> u64 {
    static COUNT: OnceLock<Arc<AtomicU64>> = OnceLock::new();
    COUNT
        .get_or_init(|| {
            let count = Arc::default();
            metrics::set_global_recorder(Compressions(Arc::clone(&count))).unwrap();
            count
        })
        .load(Ordering::SeqCst)
}

/// Tests that count compressions must not overlap.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A frame as the client read it.
#[derive(Debug)]
struct Frame {
    rsv1: bool,
    opcode: u8,
    payload: Vec<u8>,
}

impl Frame {
    /// The message's bytes, inflated if it came compressed.
    fn message(&self) -> Vec<u8> {
        if !self.rsv1 {
            return self.payload.clone();
        }
        let mut input = self.payload.clone();
        input.extend_from_slice(&TAIL);
        let mut out = Vec::with_capacity(1 << 20);
        Decompress::new(false)
            .decompress_vec(&input, &mut out, FlushDecompress::Sync)
            .expect("the server's frame inflates");
        out
    }
}

struct DeflateClient {
    stream: TcpStream,
    /// The server's `Sec-WebSocket-Extensions` answer.
    extensions: Option<String>,
}

impl DeflateClient {
    /// Upgrades with `offer` as `Sec-WebSocket-Extensions`, if any.
    async fn connect(addr: SocketAddr, offer: Option<&str>) -> Self {
        let mut stream = within("a TCP connection", TcpStream::connect(addr))
            .await
            .unwrap();
        let offer = offer
            .map(|offer| format!("Sec-WebSocket-Extensions: {offer}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{offer}\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        within("the 101 response", async {
            while !head.ends_with(b"\r\n\r\n") {
                head.push(stream.read_u8().await.unwrap());
            }
        })
        .await;
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
        let extensions = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-extensions")
                .then(|| value.trim().to_owned())
        });
        let mut client = Self { stream, extensions };
        let ready = client.read().await;
        assert_eq!(ready.message(), b"ready");
        client
    }

    /// Sends `text` in one masked frame, deflated with RSV1 if `compress`.
    async fn send(&mut self, text: &str, compress: bool) {
        let (first, payload) = if compress {
            let mut out = Vec::with_capacity(text.len() + 64);
            Compress::new(Compression::default(), false)
                .compress_vec(text.as_bytes(), &mut out, FlushCompress::Sync)
                .unwrap();
            assert!(out.ends_with(&TAIL));
            out.truncate(out.len() - TAIL.len());
            (0x80 | 0x40 | 0x1, out)
        } else {
            (0x80 | 0x1, text.as_bytes().to_vec())
        };
        let mask = [7, 1, 9, 3];
        let mut frame = vec![first];
        match payload.len() {
            len @ 0..=125 => frame.push(0x80 | len as u8),
            len @ 126..=0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).await.unwrap();
    }

    /// Reads one (unmasked, unfragmented) server frame.
    async fn read(&mut self) -> Frame {
        within("a frame from the server", async {
            let first = self.stream.read_u8().await.unwrap();
            let len = match self.stream.read_u8().await.unwrap() & 0x7f {
                126 => u64::from(self.stream.read_u16().await.unwrap()),
                127 => self.stream.read_u64().await.unwrap(),
                len => u64::from(len),
            };
            let mut payload = vec![0; len as usize];
            self.stream.read_exact(&mut payload).await.unwrap();
            assert_ne!(first & 0x80, 0, "the server fragments nothing here");
            Frame {
                rsv1: first & 0x40 != 0,
                opcode: first & 0x0f,
                payload,
            }
        })
        .await
    }
}

fn deflate_config(on: bool) -> xws_tokio::Config {
    xws_tokio::Config {
        permessage_deflate: on,
        ..test_config(quiet_limits())
    }
}

fn long_text(tag: &str) -> String {
    format!("{tag} ") + &"a message that repeats itself compresses well. ".repeat(50)
}

#[tokio::test]
async fn the_offer_is_answered_only_when_the_switch_is_on() {
    let on = start(Room, deflate_config(true)).await;
    // What Chromium offers.
    let chromium = "permessage-deflate; client_max_window_bits";
    let client = DeflateClient::connect(on.addr, Some(chromium)).await;
    assert_eq!(
        client.extensions.as_deref(),
        Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    );
    let client = DeflateClient::connect(
        on.addr,
        Some("permessage-deflate; server_max_window_bits=99, permessage-deflate; server_max_window_bits=10"),
    )
    .await;
    assert_eq!(
        client.extensions.as_deref(),
        Some(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"
        ),
        "the invalid first offer is declined, the second accepted"
    );
    let client = DeflateClient::connect(on.addr, None).await;
    assert_eq!(client.extensions, None, "nothing offered, nothing answered");

    let off = start(Room, deflate_config(false)).await;
    let mut client = DeflateClient::connect(off.addr, Some(chromium)).await;
    assert_eq!(client.extensions, None, "off by default");
    client.send(&long_text("echo"), false).await;
    let frame = client.read().await;
    assert!(!frame.rsv1, "no compression when not negotiated");
    assert_eq!(frame.payload, long_text("echo").as_bytes());
}

#[tokio::test]
async fn messages_are_inflated_coming_in_and_deflated_going_out() {
    let _serial = SERIAL.lock().await;
    let server = start(Room, deflate_config(true)).await;
    let mut client = DeflateClient::connect(server.addr, Some("permessage-deflate")).await;
    let text = long_text("echo");
    let before = compressions();
    client.send(&text, true).await;
    let echo = client.read().await;
    assert_eq!(echo.opcode, 0x1);
    assert!(echo.rsv1, "the echo comes compressed");
    assert!(echo.payload.len() < text.len() / 4);
    assert_eq!(echo.message(), text.as_bytes(), "inflated both ways");
    assert_eq!(compressions() - before, 1);
    // A plain message from a client that negotiated is fine too, and a
    // short answer goes out plain.
    client.send("echo hi", false).await;
    let short = client.read().await;
    assert!(!short.rsv1);
    assert_eq!(short.payload, b"echo hi");
}

#[tokio::test]
async fn a_publication_is_compressed_once_per_window_for_every_subscriber() {
    let _serial = SERIAL.lock().await;
    let server = start(Room, deflate_config(true)).await;
    let mut publisher = DeflateClient::connect(server.addr, None).await;
    let mut subscribers = Vec::new();
    for _ in 0..5 {
        subscribers.push(DeflateClient::connect(server.addr, Some("permessage-deflate")).await);
    }
    let mut small_window = Vec::new();
    for _ in 0..3 {
        small_window.push(
            DeflateClient::connect(
                server.addr,
                Some("permessage-deflate; server_max_window_bits=10"),
            )
            .await,
        );
    }
    let mut plain = DeflateClient::connect(server.addr, None).await;

    let text = long_text("news");
    let before = compressions();
    publisher.send(&text, false).await;
    for subscriber in subscribers.iter_mut().chain(&mut small_window) {
        let frame = subscriber.read().await;
        assert!(frame.rsv1);
        assert_eq!(frame.message(), text.as_bytes());
    }
    let frame = plain.read().await;
    assert!(!frame.rsv1, "a client that did not offer gets it plain");
    assert_eq!(frame.payload, text.as_bytes());
    tokio::time::sleep(WAIT / 300).await;
    assert_eq!(
        compressions() - before,
        2,
        "once for the five subscribers with the default window, once for the three with 2^10"
    );
}

#[tokio::test]
async fn a_message_that_inflates_past_the_size_limit_closes_with_1009() {
    let server = start(Room, deflate_config(true)).await;
    let mut client = DeflateClient::connect(server.addr, Some("permessage-deflate")).await;
    // 1 MiB of spaces deflates to a few KiB; the limit is 64 KiB.
    let bomb = " ".repeat(1 << 20);
    client.send(&bomb, true).await;
    let close = client.read().await;
    assert_eq!(close.opcode, 0x8);
    assert_eq!(
        u16::from_be_bytes([close.payload[0], close.payload[1]]),
        1009
    );
}
