//! The private protocol between the Worker entry and the Durable Object:
//! an operation header, the accepted upgrade, and hub commands.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use worker::{Headers, Request};
use xws::{Accept, Error, PeerId, RequestInfo};

/// Names the operation a forwarded request asks of the object.
pub const OP_HEADER: &str = "x-xws-op";
/// Carries the accepted upgrade (context, subprotocol, headers).
pub const ACCEPT_HEADER: &str = "x-xws-accept";
/// Every header of the private protocol starts with this; clients cannot
/// smuggle them through the Worker.
const PRIVATE_PREFIX: &str = "x-xws-";

/// What the Worker asks of the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Accept a WebSocket.
    Upgrade,
    /// Open an SSE stream.
    Sse,
    /// Publish, broadcast, send to one peer or list peers.
    Hub,
    /// Report the object's instance and peer counts.
    Stats,
    /// A server API command ([`crate::admin::AdminCommand`]).
    Admin,
}

impl Op {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Upgrade => "upgrade",
            Op::Sse => "sse",
            Op::Hub => "hub",
            Op::Stats => "stats",
            Op::Admin => "admin",
        }
    }

    /// Parses the header value.
    pub fn of(request: &Request) -> Option<Op> {
        match request.headers().get(OP_HEADER).ok().flatten()?.as_str() {
            "upgrade" => Some(Op::Upgrade),
            "sse" => Some(Op::Sse),
            "hub" => Some(Op::Hub),
            "stats" => Some(Op::Stats),
            "admin" => Some(Op::Admin),
            _ => None,
        }
    }
}

/// The accepted upgrade as it travels to the object.
#[derive(Serialize, Deserialize)]
pub struct AcceptWire<C> {
    /// The peer's initial context.
    pub context: C,
    /// The subprotocol to answer.
    pub protocol: Option<String>,
    /// Extra headers on the response.
    pub headers: Vec<(String, String)>,
}

impl<C: Serialize> AcceptWire<C> {
    /// Encodes `accept` for a header: JSON, URI-encoded because header values
    /// must be Latin-1 and a context may hold any text.
    pub fn encode(accept: Accept<C>) -> Result<String, Error> {
        let wire = AcceptWire {
            context: accept.context,
            protocol: accept.protocol,
            headers: accept
                .headers
                .iter()
                .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
                .collect(),
        };
        let json = serde_json::to_string(&wire)?;
        Ok(js_sys::encode_uri_component(&json).into())
    }
}

impl<C: DeserializeOwned> AcceptWire<C> {
    /// Decodes the header the Worker set.
    pub fn decode(request: &Request) -> Result<Self, Error> {
        let raw = request
            .headers()
            .get(ACCEPT_HEADER)
            .ok()
            .flatten()
            .ok_or_else(|| Error::malformed("forwarded upgrade", "missing accept header"))?;
        let json: String = js_sys::decode_uri_component(&raw)
            .map_err(|_| Error::malformed("forwarded upgrade", "bad URI encoding"))?
            .into();
        // From bytes, as the attachment holding the same context is read
        // (`serde_json::from_str` would compile a second deserializer of it).
        serde_json::from_slice(json.as_bytes())
            .map_err(|e| Error::malformed("forwarded upgrade", e))
    }
}

/// A hub command, in the query of the forwarded request; the message is the
/// body.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HubCommand {
    /// `publish`, `broadcast`, `send_to` or `peers`.
    pub op: HubOp,
    /// The topic of a `publish`.
    pub topic: Option<String>,
    /// The peer skipped by a `publish`, or addressed by `send_to`.
    pub peer: Option<PeerId>,
    /// Whether the body is binary (else UTF-8 text).
    #[serde(default)]
    pub binary: bool,
}

/// The operations a [`xws::Hub`] forwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HubOp {
    /// To a topic's subscribers.
    Publish,
    /// To every peer.
    Broadcast,
    /// To one peer.
    SendTo,
    /// List the peers.
    Peers,
}

/// What the object answers to a hub command.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct HubReply {
    /// Peers reached.
    pub delivered: usize,
    /// For `send_to`: whether the peer was connected.
    pub sent: bool,
    /// For `peers`: the connected peers.
    pub peers: Vec<PeerId>,
}

/// The request as a handler sees it, without the private headers.
pub fn request_info(request: &Request) -> Result<RequestInfo, Error> {
    let url = request.inner().url();
    let (path, query) = crate::query::split_url(&url);
    let mut info = RequestInfo::new(path, query);
    for (name, value) in request.headers() {
        if !name.starts_with(PRIVATE_PREFIX) {
            info = info.with_header(&name, &value);
        }
    }
    if let Some(ip) = info
        .header("cf-connecting-ip")
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
    {
        info = info.with_remote_addr((ip, 0).into());
    }
    Ok(info)
}

/// The request's headers minus the private ones.
pub fn public_headers(request: &Request) -> Headers {
    request
        .headers()
        .entries()
        .filter(|(name, _)| !name.starts_with(PRIVATE_PREFIX))
        .collect()
}
