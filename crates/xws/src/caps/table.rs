//! The types of the capability table: what a deployment target can do.

/// A place a handler can be deployed to: one column of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeploymentTarget {
    /// A long-running Tokio server (`xws-tokio`): also a VPS, a container, Kubernetes.
    Tokio,
    /// A Cloudflare Durable Object holding the sockets (`xws-cloudflare`).
    CloudflareDurableObject,
    /// A plain Cloudflare Worker, without a Durable Object.
    CloudflareWorker,
    /// An AWS API Gateway WebSocket API invoking Lambda (`xws-aws`).
    AwsApiGateway,
    /// An AWS Lambda function URL with response streaming.
    AwsLambdaUrl,
    /// Vercel functions.
    Vercel,
    /// Netlify functions.
    Netlify,
}

impl DeploymentTarget {
    /// Every target, in the order of the table's columns.
    pub const ALL: [DeploymentTarget; 7] = [
        DeploymentTarget::Tokio,
        DeploymentTarget::CloudflareDurableObject,
        DeploymentTarget::CloudflareWorker,
        DeploymentTarget::AwsApiGateway,
        DeploymentTarget::AwsLambdaUrl,
        DeploymentTarget::Vercel,
        DeploymentTarget::Netlify,
    ];

    /// The target's name as people say it.
    pub const fn name(self) -> &'static str {
        self.column().name
    }

    /// The target's column of the table.
    pub const fn column(self) -> &'static Column {
        use super::targets::*;
        match self {
            DeploymentTarget::Tokio => &tokio::COLUMN,
            DeploymentTarget::CloudflareDurableObject => &cloudflare_durable_object::COLUMN,
            DeploymentTarget::CloudflareWorker => &cloudflare_worker::COLUMN,
            DeploymentTarget::AwsApiGateway => &aws_api_gateway::COLUMN,
            DeploymentTarget::AwsLambdaUrl => &aws_lambda_url::COLUMN,
            DeploymentTarget::Vercel => &vercel::COLUMN,
            DeploymentTarget::Netlify => &netlify::COLUMN,
        }
    }

    /// What this target offers for `capability`.
    pub const fn cell(self, capability: Capability) -> &'static Cell {
        &self.column().cells[capability as usize]
    }
}

/// Something a real-time application may need: one row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// WebSocket connections.
    WebSocket,
    /// Server-Sent Events streams.
    Sse,
    /// Topics whose subscribers share one instance (process, object, room).
    PubSubInstance,
    /// Topics whose subscribers are spread over several instances.
    PubSubAcrossInstances,
    /// Publishing from code outside a connection: an HTTP route, a task, a cron job.
    PublishFromOutside,
    /// Listing the connected peers.
    PeersListing,
    /// Binary messages.
    Binary,
    /// WebSocket protocol ping/pong frames.
    ProtocolPing,
    /// Keeping a connection alive without running (and billing) the application.
    HeartbeatWithoutWaking,
    /// Idle connections cost no running instance.
    Hibernation,
    /// The peer's context survives hibernation or separate invocations.
    ContextSurvives,
    /// Sending to the peer from the `open` hook.
    SendFromOpen,
    /// The largest message the target accepts.
    MaxMessageSize,
    /// A limit on the messages one connection sends per second.
    RateLimit,
    /// Limits on open connections, in all and per client address.
    ConnectionLimits,
    /// A limit on the topics one connection (or SSE stream) holds.
    TopicsPerPeer,
    /// How long one connection may last.
    MaxConnectionDuration,
    /// How long a connection may stay silent.
    IdleTimeout,
    /// The client's address.
    RemoteAddress,
    /// WebSocket subprotocol negotiation (`Sec-WebSocket-Protocol`).
    Subprotocols,
    /// permessage-deflate compression.
    Compression,
    /// The close code and reason a client sees when the server closes.
    CloseCodes,
    /// A topic's history with stream positions, and recovery of what a
    /// reconnecting client missed (`xws::stream`).
    History,
    /// Who is subscribed to a topic, and join/leave events.
    Presence,
}

impl Capability {
    /// How many capabilities the table has.
    pub const COUNT: usize = 24;

    /// Every capability, in the order of the table's rows.
    pub const ALL: [Capability; Capability::COUNT] = [
        Capability::WebSocket,
        Capability::Sse,
        Capability::PubSubInstance,
        Capability::PubSubAcrossInstances,
        Capability::PublishFromOutside,
        Capability::PeersListing,
        Capability::Binary,
        Capability::ProtocolPing,
        Capability::HeartbeatWithoutWaking,
        Capability::Hibernation,
        Capability::ContextSurvives,
        Capability::SendFromOpen,
        Capability::MaxMessageSize,
        Capability::RateLimit,
        Capability::ConnectionLimits,
        Capability::TopicsPerPeer,
        Capability::MaxConnectionDuration,
        Capability::IdleTimeout,
        Capability::RemoteAddress,
        Capability::Subprotocols,
        Capability::Compression,
        Capability::CloseCodes,
        Capability::History,
        Capability::Presence,
    ];

    /// The capability's name as the matrix and the errors print it.
    pub const fn name(self) -> &'static str {
        match self {
            Capability::WebSocket => "WebSocket",
            Capability::Sse => "SSE",
            Capability::PubSubInstance => "pub/sub within an instance",
            Capability::PubSubAcrossInstances => "pub/sub across instances",
            Capability::PublishFromOutside => "publish from outside a connection",
            Capability::PeersListing => "peers listing",
            Capability::Binary => "binary messages",
            Capability::ProtocolPing => "protocol ping/pong",
            Capability::HeartbeatWithoutWaking => "heartbeat without waking",
            Capability::Hibernation => "hibernation",
            Capability::ContextSurvives => "context surviving hibernation or invocations",
            Capability::SendFromOpen => "sending from `open`",
            Capability::MaxMessageSize => "max message size",
            Capability::RateLimit => "rate limit per connection",
            Capability::ConnectionLimits => "connection limits (total, per client address)",
            Capability::TopicsPerPeer => "topics per connection",
            Capability::MaxConnectionDuration => "max connection duration",
            Capability::IdleTimeout => "idle timeout",
            Capability::RemoteAddress => "remote address",
            Capability::Subprotocols => "subprotocols",
            Capability::Compression => "compression",
            Capability::CloseCodes => "close codes",
            Capability::History => "history and recovery",
            Capability::Presence => "presence",
        }
    }
}

/// How well a target offers a capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Offered without restriction worth stating.
    Full,
    /// Offered within a limit.
    Limited {
        /// The limit, with its unit ("128 KB", "2 h").
        value: &'static str,
    },
    /// Not native to the platform; built from other parts.
    Emulated {
        /// How it is built.
        how: &'static str,
    },
    /// Not available.
    None {
        /// What to use instead.
        alternative: &'static str,
    },
}

impl Support {
    /// Whether a handler needing this capability can run on the target.
    pub const fn is_available(self) -> bool {
        !matches!(self, Support::None { .. })
    }
}

/// What xws itself does on a target today, apart from what the platform allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterStatus {
    /// An adapter crate exists and runs the conformance suite.
    Available {
        /// The adapter crate.
        krate: &'static str,
    },
    /// The adapter is planned; the column states what the platform allows.
    Planned {
        /// The crate that will hold it.
        krate: &'static str,
    },
    /// No adapter: xws offers the compile-time guard and the SSE entry point
    /// ([`Deployment`](super::Deployment)) only.
    GuardOnly,
}

/// One cell: what one target offers for one capability, and why we say so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The capability of this cell's row.
    pub capability: Capability,
    /// What the platform offers.
    pub support: Support,
    /// A short explanation.
    pub note: &'static str,
    /// Where the fact comes from (a documentation page or a crate).
    pub source: &'static str,
    /// The conformance scenario (`xws-testkit`) that proves xws delivers it,
    /// once one does.
    pub proved_by: Option<&'static str>,
    /// The day the cell was last checked against its source (`YYYY-MM-DD`),
    /// when later than its column's [`Column::checked_on`].
    pub checked_on: Option<&'static str>,
}

impl Cell {
    /// A cell with no proving scenario yet.
    pub const fn new(
        capability: Capability,
        support: Support,
        note: &'static str,
        source: &'static str,
    ) -> Self {
        Cell {
            capability,
            support,
            note,
            source,
            proved_by: None,
            checked_on: None,
        }
    }

    /// A [`Support::Full`] cell.
    pub const fn full(capability: Capability, note: &'static str, source: &'static str) -> Self {
        Cell::new(capability, Support::Full, note, source)
    }

    /// A [`Support::Limited`] cell.
    pub const fn limited(
        capability: Capability,
        value: &'static str,
        note: &'static str,
        source: &'static str,
    ) -> Self {
        Cell::new(capability, Support::Limited { value }, note, source)
    }

    /// A [`Support::Emulated`] cell.
    pub const fn emulated(
        capability: Capability,
        how: &'static str,
        note: &'static str,
        source: &'static str,
    ) -> Self {
        Cell::new(capability, Support::Emulated { how }, note, source)
    }

    /// A [`Support::None`] cell.
    pub const fn none(
        capability: Capability,
        alternative: &'static str,
        note: &'static str,
        source: &'static str,
    ) -> Self {
        Cell::new(capability, Support::None { alternative }, note, source)
    }

    /// Names the conformance scenario that proves this cell.
    pub const fn proved_by(mut self, scenario: &'static str) -> Self {
        self.proved_by = Some(scenario);
        self
    }

    /// Records that the cell was checked against its source on `date`
    /// (`YYYY-MM-DD`), later than the rest of its column.
    pub const fn checked_on(mut self, date: &'static str) -> Self {
        self.checked_on = Some(date);
        self
    }
}

/// One target's column: every capability, in [`Capability::ALL`] order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// The target this column describes.
    pub target: DeploymentTarget,
    /// The target's name as people say it.
    pub name: &'static str,
    /// Other names for the same deployment ("VPS, container").
    pub also: &'static str,
    /// What xws implements for this target today.
    pub adapter: AdapterStatus,
    /// The day the column's cells were last checked against their sources
    /// (`YYYY-MM-DD`); a cell checked later says so itself.
    pub checked_on: &'static str,
    /// One cell per capability, indexed by `Capability as usize`.
    pub cells: [Cell; Capability::COUNT],
}

impl Column {
    /// The day `capability`'s cell was last checked against its source.
    pub const fn cell_checked_on(&self, capability: Capability) -> &'static str {
        match self.cells[capability as usize].checked_on {
            Some(date) => date,
            None => self.checked_on,
        }
    }

    /// Checks, at compile time where used in a `const`, that the cells are
    /// in row order: a misplaced cell would silently describe the wrong
    /// capability.
    pub const fn in_row_order(self) -> Self {
        let mut i = 0;
        while i < Capability::COUNT {
            if self.cells[i].capability as usize != i {
                panic!("capability table: a column's cells are not in Capability::ALL order");
            }
            i += 1;
        }
        self
    }
}
