//! `WsClient` against a scripted WebSocket server: frames can be claimed in any order,
//! unclaimed ones stay visible, and closes are told apart from dropped connections.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use xws_testkit::client::{Frame, WsClient};

const TIMEOUT: Duration = Duration::from_secs(2);

/// Serves one connection that sends `script` and then, if `close` is given, closes with
/// it (otherwise drops the TCP connection). Returns the URL.
async fn scripted_server(script: Vec<Message>, close: Option<u16>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut ws = tokio_tungstenite::accept_async(tcp)
            .await
            .expect("handshake");
        for message in script {
            ws.send(message).await.expect("send");
        }
        if let Some(code) = close {
            let frame = CloseFrame {
                code: code.into(),
                reason: "scripted".into(),
            };
            ws.send(Message::Close(Some(frame))).await.expect("close");
            // Keep the socket until the client answers the close.
            tokio::time::sleep(TIMEOUT).await;
        }
    });
    format!("ws://{addr}")
}

#[tokio::test]
async fn frames_are_claimed_in_any_order_and_the_rest_stays_visible() {
    let script = vec![
        Message::text(json!({ "type": "message", "roomId": "b" }).to_string()),
        Message::text("not json"),
        Message::text(json!({ "type": "message", "roomId": "a" }).to_string()),
    ];
    let url = scripted_server(script, Some(1000)).await;
    let mut client = WsClient::connect(&url, "client", TIMEOUT)
        .await
        .expect("connect");
    let a = client
        .recv_json_matching("room a", |frame| frame["roomId"] == "a")
        .await
        .expect("a");
    assert_eq!(a["roomId"], "a");
    let b = client
        .recv_json_matching("room b", |frame| frame["roomId"] == "b")
        .await
        .expect("b");
    assert_eq!(b["roomId"], "b");
    assert_eq!(client.passed_over(), &[Frame::Text("not json".to_owned())]);
    assert!(
        client
            .ensure_none_passed_over("anything JSON", |_| true)
            .is_ok()
    );
    client.expect_close(1000).await.expect("close 1000");
}

#[tokio::test]
async fn a_wrong_close_code_and_a_timeout_say_what_was_expected() {
    let url = scripted_server(Vec::new(), Some(1011)).await;
    let mut client = WsClient::connect(&url, "client", TIMEOUT)
        .await
        .expect("connect");
    let error = client.expect_close(1009).await.unwrap_err().to_string();
    assert!(
        error.contains("close frame with code 1009") && error.contains("close 1011"),
        "{error}"
    );

    let url = scripted_server(vec![Message::text("{\"type\":\"other\"}")], Some(1000)).await;
    let mut client = WsClient::connect(&url, "client", Duration::from_millis(200))
        .await
        .expect("connect");
    let error = client.recv_type("pong").await.unwrap_err().to_string();
    assert!(
        error.contains("\"pong\"") && error.contains("close 1000"),
        "{error}"
    );
}

#[tokio::test]
async fn a_dropped_connection_is_not_a_close_frame() {
    let url = scripted_server(vec![Message::binary(vec![1, 2, 3])], None).await;
    let mut client = WsClient::connect(&url, "client", TIMEOUT)
        .await
        .expect("connect");
    let error = client.expect_close(1009).await.unwrap_err().to_string();
    assert!(error.contains("connection ended"), "{error}");
    assert_eq!(client.passed_over(), &[Frame::Binary(vec![1, 2, 3].into())]);
}
