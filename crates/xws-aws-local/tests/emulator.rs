//! The emulator against a fake function: a real HTTP server on 127.0.0.1
//! that records the events it gets and answers like a Lambda function.

use axum::{Json, Router, extract::State, routing::post};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio_tungstenite::tungstenite::{Message, protocol::frame::coding::CloseCode};
use xws_aws_local::{Emulator, EmulatorConfig};

const WAIT: Duration = Duration::from_secs(10);

/// What the fake function saw: each event, and for `$connect` the status
/// of a post to the connecting id (API Gateway answers 410 then).
#[derive(Default)]
struct Seen {
    events: Vec<Value>,
    post_during_connect: Option<u16>,
}

#[derive(Clone)]
struct Fake {
    seen: Arc<Mutex<Seen>>,
    emulator: Arc<Mutex<String>>,
}

async fn function(State(fake): State<Fake>, Json(event): Json<Value>) -> Json<Value> {
    let route = event["requestContext"]["routeKey"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    if route == "$connect" {
        if event["queryStringParameters"]["deny"] == "1" {
            fake.seen.lock().unwrap().events.push(event);
            return Json(json!({"statusCode": 403}));
        }
        let id = event["requestContext"]["connectionId"]
            .as_str()
            .unwrap()
            .to_owned();
        let url = format!("{}/@connections/{id}", fake.emulator.lock().unwrap());
        let status = reqwest::Client::new()
            .post(url)
            .body("early")
            .send()
            .await
            .unwrap()
            .status();
        fake.seen.lock().unwrap().post_during_connect = Some(status.as_u16());
    }
    fake.seen.lock().unwrap().events.push(event);
    Json(json!({"statusCode": 200}))
}

async fn start(idle: Duration) -> (String, Fake, Arc<Emulator>) {
    start_with(|config| config.idle_timeout = idle).await
}

async fn start_with(configure: impl FnOnce(&mut EmulatorConfig)) -> (String, Fake, Arc<Emulator>) {
    let fake = Fake {
        seen: Arc::default(),
        emulator: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let function_url = format!("http://{}/invoke", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/invoke", post(function))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut config = EmulatorConfig::new(function_url);
    configure(&mut config);
    let emulator = Emulator::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    *fake.emulator.lock().unwrap() = format!("http://{addr}");
    tokio::spawn(emulator.clone().serve(listener));
    (format!("{addr}"), fake, emulator)
}

fn routes(fake: &Fake) -> Vec<String> {
    let seen = fake.seen.lock().unwrap();
    seen.events
        .iter()
        .map(|e| {
            e["requestContext"]["routeKey"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn next_close(
    ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> CloseCode {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
        {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code,
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn connect_message_post_and_disconnect() {
    let (addr, fake, emulator) = start(Duration::from_secs(600)).await;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/?user=ada&room=1&room=2"))
            .await
            .unwrap();
    assert_eq!(
        fake.seen.lock().unwrap().post_during_connect,
        Some(410),
        "a post during $connect is Gone, as on AWS"
    );
    let connect = fake.seen.lock().unwrap().events[0].clone();
    assert_eq!(connect["requestContext"]["eventType"], "CONNECT");
    assert_eq!(connect["queryStringParameters"]["user"], "ada");
    assert_eq!(
        connect["multiValueQueryStringParameters"]["room"],
        json!(["1", "2"])
    );
    assert!(connect["headers"]["sec-websocket-key"].is_string());
    let id = connect["requestContext"]["connectionId"]
        .as_str()
        .unwrap()
        .to_owned();

    ws.send(Message::text("hello")).await.unwrap();
    eventually("$default", || routes(&fake).len() == 2).await;
    assert_eq!(fake.seen.lock().unwrap().events[1]["body"], "hello");

    let client = reqwest::Client::new();
    let url = format!("http://{addr}/@connections/{id}");
    assert_eq!(
        client
            .post(&url)
            .body("from the function")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let frame = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(frame, Message::text("from the function"));
    let info: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert!(
        info["ConnectedAt"].as_str().unwrap().ends_with('Z'),
        "{info}"
    );

    let gone = client
        .post(format!("http://{addr}/@connections/nobody"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 410);
    assert_eq!(gone.headers()["x-amzn-errortype"], "GoneException");

    assert_eq!(client.delete(&url).send().await.unwrap().status(), 204);
    assert_eq!(next_close(&mut ws).await, CloseCode::Normal);
    eventually("$disconnect", || routes(&fake).len() == 3).await;
    assert_eq!(emulator.open_connections(), 0);
    assert_eq!(
        client
            .post(&url)
            .body("late")
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
}

#[tokio::test]
async fn a_refused_connect_answers_its_status() {
    let (addr, _fake, _) = start(Duration::from_secs(600)).await;
    let error = tokio_tungstenite::connect_async(format!("ws://{addr}/?deny=1"))
        .await
        .unwrap_err();
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => assert_eq!(response.status(), 403),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test]
async fn limits_close_with_the_codes_api_gateway_uses() {
    let (addr, fake, _) = start(Duration::from_millis(500)).await;
    let url = format!("ws://{addr}/");

    let (mut big, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    big.send(Message::text("x".repeat(128 * 1024 + 1)))
        .await
        .unwrap();
    assert_eq!(next_close(&mut big).await, CloseCode::Size);

    let (mut binary, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    binary.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(next_close(&mut binary).await, CloseCode::Unsupported);

    let (mut idle, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    assert_eq!(next_close(&mut idle).await, CloseCode::Away);

    eventually("three $disconnect events", || {
        let seen = fake.seen.lock().unwrap();
        let codes: Vec<i64> = seen
            .events
            .iter()
            .filter_map(|e| e["requestContext"]["disconnectStatusCode"].as_i64())
            .collect();
        codes.len() == 3 && [1009, 1003, 1001].iter().all(|c| codes.contains(c))
    })
    .await;
}

type Invocations = Arc<Mutex<Vec<(String, Value)>>>;

/// A Lambda endpoint recording which function got which event.
async fn lambda_endpoint(
    State(seen): State<Invocations>,
    axum::extract::Path(name): axum::extract::Path<String>,
    Json(event): Json<Value>,
) -> Json<Value> {
    seen.lock().unwrap().push((name.clone(), event));
    Json(json!({ "ran": name }))
}

fn invoked(seen: &Invocations, name: &str) -> Vec<Value> {
    let seen = seen.lock().unwrap();
    seen.iter()
        .filter(|(n, _)| n == name)
        .map(|(_, e)| e.clone())
        .collect()
}

/// A schedule invokes its function with an EventBridge `Scheduled Event`
/// at its rate; `POST /@xws/schedules/{function}` fires one at once; the
/// Lambda Invoke API answers 202 to `Event` invocations and runs the
/// function in the background.
#[tokio::test]
async fn schedules_and_asynchronous_invocations_reach_functions() {
    let seen = Invocations::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lambda = listener.local_addr().unwrap();
    let app = Router::new()
        .route(
            "/2015-03-31/functions/{name}/invocations",
            post(lambda_endpoint),
        )
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = EmulatorConfig::new(format!(
        "http://{lambda}/2015-03-31/functions/ws/invocations"
    ));
    config.schedules = vec!["tick=100ms".parse().unwrap()];
    let emulator = Emulator::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(emulator.clone().serve(listener));

    eventually("two scheduled runs", || invoked(&seen, "tick").len() >= 2).await;
    for event in invoked(&seen, "tick") {
        assert_eq!(event["detail-type"], "Scheduled Event");
        assert_eq!(event["source"], "aws.events");
    }

    let client = reqwest::Client::new();
    let fired: Value = client
        .post(format!("http://{addr}/@xws/schedules/report"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fired, json!({"ran": "report"}));
    assert_eq!(
        invoked(&seen, "report")[0]["detail-type"],
        "Scheduled Event"
    );

    let accepted = client
        .post(format!(
            "http://{addr}/2015-03-31/functions/worker/invocations"
        ))
        .header("x-amz-invocation-type", "Event")
        .json(&json!({"job": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    eventually("the asynchronous invocation", || {
        invoked(&seen, "worker") == vec![json!({"job": 7})]
    })
    .await;
    let stats = emulator.stats();
    assert!(stats.scheduled >= 3, "{stats:?}");
    assert_eq!(stats.async_invokes, 1);
}

/// The URI the function URL endpoint was called with, and the chunks the
/// test has it write.
type Streams = Arc<Mutex<(String, Option<tokio::sync::mpsc::Receiver<&'static str>>)>>;

/// A function URL endpoint answering with a body the test writes chunk by
/// chunk.
async fn function_url_endpoint(
    State(streams): State<Streams>,
    uri: axum::http::Uri,
) -> axum::response::Response {
    let chunks = {
        let mut streams = streams.lock().unwrap();
        streams.0 = uri.to_string();
        streams.1.take().expect("one request")
    };
    let body = futures_util::stream::unfold(chunks, |mut chunks| async move {
        let chunk = chunks.recv().await?;
        Some((Ok::<_, std::io::Error>(chunk), chunks))
    });
    axum::response::Response::builder()
        .header("content-type", "text/event-stream")
        .header("lambda-runtime-function-response-mode", "streaming")
        .body(axum::body::Body::from_stream(body))
        .unwrap()
}

/// Requests under a function URL's path reach the function's URL endpoint
/// at the Lambda origin with their path and query, and its answer streams
/// back: the first chunk arrives while the function has not written the
/// second yet.
#[tokio::test]
async fn function_urls_stream_the_answer_as_it_is_written() {
    let (write, chunks) = tokio::sync::mpsc::channel(1);
    let streams: Streams = Arc::new(Mutex::new((String::new(), Some(chunks))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lambda = listener.local_addr().unwrap();
    let app = Router::new()
        .route(
            "/lambda-url/{name}/{*path}",
            axum::routing::get(function_url_endpoint),
        )
        .with_state(streams.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut config = EmulatorConfig::new(format!(
        "http://{lambda}/2015-03-31/functions/ws/invocations"
    ));
    config.function_urls = vec!["/api/sse=sse".parse().unwrap()];
    let emulator = Emulator::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(emulator.clone().serve(listener));

    let mut answer =
        tokio::time::timeout(WAIT, reqwest::get(format!("http://{addr}/api/sse?topic=t")))
            .await
            .expect("headers in time")
            .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "text/event-stream");
    assert!(
        !answer
            .headers()
            .contains_key("lambda-runtime-function-response-mode")
    );
    let seen = streams.lock().unwrap().0.clone();
    assert_eq!(seen, "/lambda-url/sse/api/sse?topic=t");
    for chunk in ["data: one\n\n", "data: two\n\n"] {
        write.send(chunk).await.unwrap();
        let read = tokio::time::timeout(WAIT, answer.chunk())
            .await
            .expect("the chunk arrives while the stream is open")
            .unwrap();
        assert_eq!(read.as_deref(), Some(chunk.as_bytes()));
    }
    drop(write);
    let end = tokio::time::timeout(WAIT, answer.chunk()).await.unwrap();
    assert_eq!(end.unwrap(), None, "the stream ends when the function does");
}

/// The chat's template declares a `ping` route with a `MOCK` integration
/// (route selection `$request.body.xws`): the emulator answers the app ping
/// as API Gateway would, and the function never sees it.
#[tokio::test]
async fn the_app_ping_is_answered_by_the_template_s_mock_route_without_the_function() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/chat/aws/template.yaml"
    );
    let template = std::fs::read_to_string(path).expect("the chat's SAM template");
    let ws_routes = xws_aws_local::WsRoutes::from_template(&template).unwrap();
    let (addr, fake, emulator) = start_with(|config| config.routes = ws_routes).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .unwrap();
    ws.send(Message::text(r#"{"xws":"ping"}"#)).await.unwrap();
    let answer = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    assert_eq!(answer.unwrap().unwrap(), Message::text(r#"{"xws":"pong"}"#));
    ws.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    eventually("the ordinary message at the function", || {
        routes(&fake).iter().filter(|r| *r == "$default").count() == 1
    })
    .await;
    let bodies: Vec<Value> = fake
        .seen
        .lock()
        .unwrap()
        .events
        .iter()
        .map(|e| e["body"].clone())
        .collect();
    assert!(
        !bodies.iter().any(|b| b == r#"{"xws":"ping"}"#),
        "the function saw the app ping: {bodies:?}"
    );
    assert_eq!(emulator.stats().mocked, 1);
    assert_eq!(emulator.stats().messages, 1);
}
