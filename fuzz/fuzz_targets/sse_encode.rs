//! Any event xws encodes reads back, through the WHATWG `EventSource`
//! parsing algorithm, as exactly the event that was meant: the same data
//! (line breaks normalized to `\n`), id and type, and nothing injected.

#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use xws::{Message, sse::SseEvent};

#[derive(Arbitrary, Debug)]
struct Input {
    data: String,
    id: Option<String>,
    event: Option<String>,
    retry_ms: Option<u32>,
    binary: Vec<u8>,
    sequence: u64,
}

/// One dispatched event as a browser sees it.
#[derive(Debug, PartialEq)]
struct Dispatched {
    event_type: String,
    data: String,
    last_event_id: String,
}

/// The "interpret an event stream" algorithm of the HTML standard
/// (§9.2.6), minus the BOM and the reconnection time.
fn parse(stream: &str) -> Vec<Dispatched> {
    let mut events = Vec::new();
    let (mut data, mut event_type, mut last_event_id) =
        (String::new(), String::new(), String::new());
    let mut rest = stream;
    while !rest.is_empty() {
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let line = &rest[..end];
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        if end == rest.len() {
            // A last line without its end is not processed.
            break;
        }
        rest = &rest[end + skip..];
        if line.is_empty() {
            if data.is_empty() {
                event_type.clear();
                continue;
            }
            if data.ends_with('\n') {
                data.pop();
            }
            let kind = if event_type.is_empty() {
                "message".to_owned()
            } else {
                std::mem::take(&mut event_type)
            };
            events.push(Dispatched {
                event_type: kind,
                data: std::mem::take(&mut data),
                last_event_id: last_event_id.clone(),
            });
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "event" => event_type = value.to_owned(),
            "id" if !value.contains('\0') => last_event_id = value.to_owned(),
            _ => {}
        }
    }
    events
}

fn normalize_line_breaks(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn one_line(text: &str) -> String {
    text.chars().filter(|&c| c != '\r' && c != '\n').collect()
}

fuzz_target!(|input: Input| {
    let mut event = SseEvent::new(input.data.clone());
    if let Some(id) = &input.id {
        event = event.id(id.clone());
    }
    if let Some(kind) = &input.event {
        event = event.event(kind.clone());
    }
    if let Some(ms) = input.retry_ms {
        event = event.retry(std::time::Duration::from_millis(ms.into()));
    }
    let wire = event.encode();
    let text = std::str::from_utf8(&wire).expect("SSE is UTF-8");
    let expected_type = input
        .event
        .as_deref()
        .map(one_line)
        .filter(|t| !t.is_empty());
    let expected = Dispatched {
        event_type: expected_type.unwrap_or_else(|| "message".to_owned()),
        data: normalize_line_breaks(&input.data),
        last_event_id: input
            .id
            .as_deref()
            .map(|id| one_line(id).replace('\0', ""))
            .unwrap_or_default(),
    };
    assert_eq!(parse(text), vec![expected], "wire: {text:?}");

    // Published messages: text as is, binary as base64.
    let text_message = Message::from(input.data.clone());
    let wire = xws::sse::encode_message(input.sequence, &text_message);
    let events = parse(std::str::from_utf8(&wire).unwrap());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data, normalize_line_breaks(&input.data));
    assert_eq!(events[0].last_event_id, input.sequence.to_string());
    assert_eq!(
        xws::sse::parse_last_event_id(&events[0].last_event_id),
        Some(input.sequence)
    );

    let wire = xws::sse::encode_message(input.sequence, &Message::from(input.binary.clone()));
    let events = parse(std::str::from_utf8(&wire).unwrap());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "binary");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&events[0].data)
        .unwrap();
    assert_eq!(decoded, input.binary);
});
