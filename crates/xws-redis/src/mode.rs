//! Classic or sharded pub/sub: which commands carry the envelopes.

/// The Redis pub/sub flavour.
///
/// Both deliver each message once to each subscribed connection, in the order
/// one connection published them. Sharded pub/sub (Redis 7) keeps a channel's
/// traffic on the shard that owns its slot instead of broadcasting it over the
/// whole cluster bus; on a standalone server the two behave the same.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PubSubMode {
    /// `PUBLISH` / `SUBSCRIBE`: every Redis version.
    #[default]
    Classic,
    /// `SPUBLISH` / `SSUBSCRIBE`: Redis 7 and later.
    Sharded,
}

impl PubSubMode {
    pub(crate) fn publish_command(self) -> &'static str {
        match self {
            Self::Classic => "PUBLISH",
            Self::Sharded => "SPUBLISH",
        }
    }

    pub(crate) fn subscribe_command(self) -> &'static str {
        match self {
            Self::Classic => "SUBSCRIBE",
            Self::Sharded => "SSUBSCRIBE",
        }
    }
}
