//! The suite must fail when the chat breaks its protocol: the real chat handler, served by
//! xws-tokio, with one fault injected at a time, must fail the scenario that covers it
//! (and pass it without the fault, so the failure is the fault's doing).

use chat::{ChatContext, ChatHandler};
use serde_json::Value;
use xws::{CloseCode, Handler, HookResult, Message, Peer, RequestInfo, Topic, Upgrade};
use xws_testkit::{Outcome, Target, run_scenario, scenarios};
use xws_tokio::Xws;

/// One way to get the protocol wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    /// The sender gets its own room messages back.
    EchoToSender,
    /// The `?user=` is lost after the peer's first room message.
    ForgetUserAfterFirstMessage,
    /// Text that is not JSON closes the socket instead of answering an error.
    CloseOnBadJson,
    /// Binary messages come back with their first byte changed.
    CorruptBinary,
    /// `leave-room` answers `left` but keeps the subscription.
    LeaveWithoutUnsubscribing,
}

struct Faulty {
    chat: ChatHandler,
    fault: Fault,
}

fn command(message: &Message) -> Option<Value> {
    let value: Value = serde_json::from_str(message.text().ok()?).ok()?;
    value["type"].is_string().then_some(value)
}

fn is_send_to_room(message: &Message) -> bool {
    command(message).is_some_and(|value| value["type"] == "send-to-room")
}

impl Handler for Faulty {
    type Context = ChatContext;

    async fn upgrade(&self, request: &RequestInfo) -> Upgrade<ChatContext> {
        self.chat.upgrade(request).await
    }

    async fn open(&self, peer: &Peer<ChatContext>) -> HookResult {
        self.chat.open(peer).await
    }

    async fn message(&self, peer: &Peer<ChatContext>, message: Message) -> HookResult {
        match self.fault {
            Fault::EchoToSender if is_send_to_room(&message) => peer.send(message.clone())?,
            Fault::CloseOnBadJson
                if message
                    .text()
                    .is_ok_and(|text| serde_json::from_str::<Value>(text).is_err()) =>
            {
                peer.close(CloseCode::from(1003), "not JSON");
                return Ok(());
            }
            Fault::CorruptBinary if matches!(message, Message::Binary(_)) => {
                let mut bytes = message.bytes().to_vec();
                if let Some(first) = bytes.first_mut() {
                    *first = first.wrapping_add(1);
                }
                peer.send(Message::from(bytes))?;
                return Ok(());
            }
            Fault::LeaveWithoutUnsubscribing => {
                if let Some(leave) = command(&message).filter(|value| value["type"] == "leave-room")
                {
                    peer.send_json(
                        &serde_json::json!({ "type": "left", "roomId": leave["roomId"] }),
                    )?;
                    return Ok(());
                }
            }
            _ => {}
        }
        let was_room_message = is_send_to_room(&message);
        self.chat.message(peer, message).await?;
        if self.fault == Fault::ForgetUserAfterFirstMessage && was_room_message {
            peer.context_mut().user = None;
        }
        Ok(())
    }

    fn authorize_subscribe(&self, peer: &Peer<ChatContext>, topic: &Topic) -> bool {
        self.chat.authorize_subscribe(peer, topic)
    }
}

async fn outcome_with(fault: Fault, scenario: &str) -> Outcome {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let xws = Xws::new(Faulty {
        chat: ChatHandler::new(None),
        fault,
    });
    tokio::spawn(xws_tokio::serve(listener, xws, std::future::pending()));
    let target = Target::single(addr);
    let scenario = scenarios::find(scenario).expect("a known scenario");
    run_scenario(&target, scenario).await.outcome
}

async fn assert_caught(fault: Fault, scenario: &str, expected_words: &str) {
    assert_eq!(
        outcome_with(Fault::None, scenario).await,
        Outcome::Passed,
        "{scenario} without a fault"
    );
    match outcome_with(fault, scenario).await {
        Outcome::Failed(message) => assert!(
            message.contains(expected_words),
            "{scenario} with {fault:?} failed, but the message lacks {expected_words:?}: {message}"
        ),
        other => panic!("{scenario} did not catch {fault:?}: {other:?}"),
    }
}

#[tokio::test]
async fn sender_receiving_its_own_message_is_caught() {
    assert_caught(
        Fault::EchoToSender,
        "publish_skips_sender",
        "its own room message",
    )
    .await;
}

#[tokio::test]
async fn context_lost_between_messages_is_caught() {
    assert_caught(
        Fault::ForgetUserAfterFirstMessage,
        "user_in_context",
        "\"user\"",
    )
    .await;
}

#[tokio::test]
async fn closing_on_bad_json_is_caught() {
    assert_caught(
        Fault::CloseOnBadJson,
        "bad_json_keeps_socket_open",
        "close 1003",
    )
    .await;
}

#[tokio::test]
async fn corrupted_binary_is_caught() {
    assert_caught(Fault::CorruptBinary, "binary_roundtrip", "binary echo").await;
}

#[tokio::test]
async fn leave_that_keeps_delivering_is_caught() {
    assert_caught(
        Fault::LeaveWithoutUnsubscribing,
        "leave_stops_delivery",
        "message after leaving",
    )
    .await;
}
