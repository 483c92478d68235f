//! A handler that panics or fails closes only its own peer, with 1011;
//! a panicking `upgrade` hook answers 500. The server goes on serving.

mod common;

use common::{close_code, next_text, quiet_limits, send_text, start, test_config};
use parking_lot::Mutex;
use std::sync::Arc;
use xws::{Error, Handler, HookResult, Message, Peer, RequestInfo, Upgrade};

/// Echoes; panics on `panic`, fails on `fail`; `?panic=open` or
/// `?panic=upgrade` panic in those hooks. Records every error it is told of.
#[derive(Clone, Default)]
struct Fragile {
    errors: Arc<Mutex<Vec<String>>>,
}

impl Handler for Fragile {
    type Context = ();

    async fn upgrade(&self, request: &RequestInfo) -> Upgrade<()> {
        if request.query_param("panic").as_deref() == Some("upgrade") {
            panic!("upgrade hook panicked on purpose");
        }
        Upgrade::accept(())
    }

    async fn open(&self, peer: &Peer<()>) -> HookResult {
        if peer.request().query_param("panic").as_deref() == Some("open") {
            panic!("open hook panicked on purpose");
        }
        Ok(())
    }

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        match message.text()? {
            "panic" => panic!("message hook panicked on purpose"),
            "fail" => Err("message hook failed on purpose".into()),
            _ => Ok(peer.send(message)?),
        }
    }

    async fn error(&self, _peer: &Peer<()>, error: &Error) {
        let kind = match error {
            Error::Panic(_) => "panic",
            Error::Handler(_) => "handler",
            _ => "other",
        };
        self.errors.lock().push(kind.to_owned());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_or_an_error_closes_only_its_peer_with_1011() {
    let fragile = Fragile::default();
    let server = start(fragile.clone(), test_config(quiet_limits())).await;
    let mut bystander = server.connect("/").await;
    let mut panicker = server.connect("/").await;
    let mut failer = server.connect("/").await;

    send_text(&mut panicker, "hello").await;
    assert_eq!(next_text(&mut panicker).await, "hello");
    send_text(&mut panicker, "panic").await;
    assert_eq!(close_code(&mut panicker).await, 1011);

    send_text(&mut failer, "fail").await;
    assert_eq!(close_code(&mut failer).await, 1011);

    let mut open_panicker = server.connect("/?panic=open").await;
    assert_eq!(close_code(&mut open_panicker).await, 1011);

    assert_eq!(server.upgrade_status("/?panic=upgrade", &[]).await, 500);

    send_text(&mut bystander, "still served").await;
    assert_eq!(next_text(&mut bystander).await, "still served");
    let mut errors = fragile.errors.lock().clone();
    errors.sort();
    assert_eq!(errors, ["handler", "panic", "panic"]);
    common::eventually("only the bystander to remain", || {
        server.xws.connections() == 1 && server.xws.peer_count() == 1
    })
    .await;
}
