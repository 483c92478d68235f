//! A flood from one peer is rate-limited (the `error` hook per refused
//! message, then 1008) without slowing the other peers.

mod common;

use common::{close_code, eventually, next_text, quiet_limits, send_text, start, test_config};
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;
use xws::{Error, Handler, HookResult, Limits, Message, Peer, RateLimit};

/// Echoes, and counts rate-limit refusals per `?name=`.
#[derive(Clone, Default)]
struct Echo {
    refusals: Arc<Mutex<HashMap<String, usize>>>,
}

impl Handler for Echo {
    type Context = ();

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        peer.send(message)?;
        Ok(())
    }

    async fn error(&self, peer: &Peer<()>, error: &Error) {
        if matches!(error, Error::RateLimited) {
            let name = peer.request().query_param("name").unwrap_or_default();
            *self.refusals.lock().entry(name.into_owned()).or_default() += 1;
        }
    }
}

const FLOOD: usize = 2_000;
const RATE: RateLimit = RateLimit {
    messages_per_second: 100,
    burst: 20,
    tolerance: 50,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_refused_then_closed_with_1008_while_a_calm_peer_is_served() {
    let echo = Echo::default();
    let config = test_config(Limits {
        rate: Some(RATE),
        ..quiet_limits()
    });
    let server = start(echo.clone(), config).await;
    let mut calm = server.connect("/?name=calm").await;
    let flooder = server.connect("/?name=flood").await;

    let flood = tokio::spawn(async move {
        let (mut write, mut read) = flooder.split();
        let writer = tokio::spawn(async move {
            for i in 0..FLOOD {
                // The server stops reading once it closes; later sends may fail.
                if write
                    .send(tungstenite::Message::text(format!("flood {i}")))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
        let mut echoes = 0;
        let code = loop {
            match read.next().await {
                Some(Ok(tungstenite::Message::Text(_))) => echoes += 1,
                Some(Ok(tungstenite::Message::Close(frame))) => {
                    break frame.map(|f| u16::from(f.code));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break None,
            }
        };
        while let Some(Ok(_)) = read.next().await {}
        let _ = writer.await;
        (echoes, code)
    });

    // The calm peer stays well under the rate while the flood runs.
    let mut worst = Duration::ZERO;
    for i in 0..20 {
        let started = Instant::now();
        send_text(&mut calm, &format!("calm {i}")).await;
        assert_eq!(next_text(&mut calm).await, format!("calm {i}"));
        worst = worst.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (echoes, code) = common::within("the flood to end", flood).await.unwrap();
    assert_eq!(code, Some(1008), "the flooder is closed with 1008");
    assert!(
        echoes >= RATE.burst as usize && echoes < FLOOD,
        "the flooder got {echoes} echoes of {FLOOD}: the burst, then refusals"
    );
    let refusals = echo.refusals.lock().clone();
    let flood_refusals = refusals.get("flood").copied().unwrap_or(0);
    assert!(
        flood_refusals > RATE.tolerance as usize,
        "the error hook saw {flood_refusals} refusals; the close comes after the tolerance"
    );
    assert_eq!(
        refusals.get("calm"),
        None,
        "the calm peer was never refused"
    );
    assert!(
        worst < Duration::from_secs(1),
        "the calm peer waited {worst:?}"
    );

    // The calm peer is still open and served after the flooder is gone.
    send_text(&mut calm, "after").await;
    assert_eq!(next_text(&mut calm).await, "after");
    let goodbye = tungstenite::protocol::CloseFrame {
        code: common::code(1000),
        reason: "done".into(),
    };
    calm.close(Some(goodbye)).await.unwrap();
    assert_eq!(close_code(&mut calm).await, 1000);
    eventually("the server to be empty", || server.xws.connections() == 0).await;
}
