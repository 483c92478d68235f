//! A Tokio peer's streams: [`xws::stream::PeerStreams`] over the engine.

use std::sync::Arc;
use xws::{
    BoxFuture, Error, Message, Peer, Topic,
    stream::{
        self, HistoryPage, Member, PeerStreams, Publication, ReadFrom, Recovery, StartLive,
        SubscribeOptions, Subscription,
    },
};

use super::Engine;
use crate::{
    link::{Frame, LinkKind, PeerLink},
    registry::Registry,
};

/// Gives `peer` the streams of `registry`, if it has any.
pub(crate) fn attach<C>(registry: &Arc<Registry>, peer: &Peer<C>, link: &Arc<PeerLink>) {
    if let Some(engine) = registry.streams() {
        let streams = TokioPeerStreams {
            engine: Arc::clone(engine),
            registry: Arc::clone(registry),
            link: Arc::clone(link),
        };
        stream::attach(peer, Arc::new(streams));
    }
}

struct TokioPeerStreams {
    engine: Arc<Engine>,
    registry: Arc<Registry>,
    link: Arc<PeerLink>,
}

impl PeerStreams for TokioPeerStreams {
    fn keeps_history(&self, topic: &Topic) -> bool {
        self.engine.keeps_history(topic)
    }

    fn publish(&self, topic: &Topic, message: Message) -> Result<(), Error> {
        self.engine
            .publish(topic, message, Some(self.link.id.clone()))
    }

    fn subscribe(
        &self,
        topic: &Topic,
        options: SubscribeOptions,
    ) -> BoxFuture<'_, Result<Subscription, Error>> {
        let topic = topic.clone();
        Box::pin(async move { self.prepare(topic, options).await })
    }

    fn history(&self, topic: &Topic, limit: usize) -> BoxFuture<'_, Result<HistoryPage, Error>> {
        let topic = topic.clone();
        Box::pin(async move {
            // The peer's own publications first: it reads its own writes.
            self.engine.settle().await;
            self.engine.read(&topic, ReadFrom::Latest(limit)).await
        })
    }

    fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, Error>> {
        self.engine.store.members(topic)
    }

    fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, Error>> {
        self.engine.store.member_count(topic)
    }
}

impl TokioPeerStreams {
    async fn prepare(
        &self,
        topic: Topic,
        options: SubscribeOptions,
    ) -> Result<Subscription, Error> {
        let id = &self.link.id;
        // Subscribing again replaces the subscription (and its watermark).
        self.registry.unsubscribe_quietly(&topic, &self.link);
        self.registry.reserve_topic(&self.link)?;
        let presence = self.engine.config.presence(topic.as_str());
        let Some(_) = self.engine.config.retention(topic.as_str()) else {
            if presence {
                if let Err(error) = self.join(&topic, &options).await {
                    tracing::warn!(%topic, %error, "presence unavailable: subscribing without it");
                }
            }
            self.registry
                .insert_subscriber(&topic, &self.link, 0, options.presence_events);
            return Ok(Subscription::new(None, None, 0, None));
        };
        let ticket = self.engine.begin(&topic, id);
        let recovery = match self.recover(&topic, &options).await {
            Ok(recovery) => recovery,
            Err(error) => {
                self.engine.abandon(&topic, id, ticket);
                return Ok(self.without_store(&topic, &options, &error));
            }
        };
        if presence {
            if let Err(error) = self.join(&topic, &options).await {
                // History works but presence does not: go on without it.
                tracing::warn!(%topic, %error, "presence unavailable: subscribing without it");
            }
        }
        let replayed = recovery.replay.len();
        let (position, recovered) = (recovery.position.clone(), recovery.recovered);
        let start = Start {
            engine: Arc::clone(&self.engine),
            registry: Arc::clone(&self.registry),
            link: Arc::clone(&self.link),
            topic,
            ticket,
            recovery,
            presence_events: options.presence_events,
        };
        Ok(Subscription::new(
            Some(position),
            recovered,
            replayed,
            Some(Box::new(start)),
        ))
    }

    /// The store cannot be reached: the peer still joins, live from now
    /// on, without a position (and not recovered, if it asked to be).
    fn without_store(
        &self,
        topic: &Topic,
        options: &SubscribeOptions,
        error: &Error,
    ) -> Subscription {
        tracing::warn!(%topic, %error, "stream store unavailable: subscribing without history");
        self.registry
            .insert_subscriber(topic, &self.link, 0, options.presence_events);
        Subscription::new(None, options.since.as_ref().map(|_| false), 0, None)
    }

    /// Reads the history the options need and decides the replay.
    async fn recover(&self, topic: &Topic, options: &SubscribeOptions) -> Result<Recovery, Error> {
        let page = self.engine.read(topic, stream::read_for(options)).await?;
        let mut recovery = stream::recover(options, page);
        if stream::needs_latest(options, &recovery) {
            let newest = self.engine.read(topic, ReadFrom::Latest(1)).await?;
            recovery.replay = newest.publications;
        }
        Ok(recovery)
    }

    async fn join(&self, topic: &Topic, options: &SubscribeOptions) -> Result<(), Error> {
        let member = Member {
            id: self.link.id.clone(),
            info: options.info.clone(),
        };
        self.engine.join(topic, member).await
    }
}

/// Starts a prepared subscription: replay, captured publications past it,
/// then the registry's live delivery above the watermark.
struct Start {
    engine: Arc<Engine>,
    registry: Arc<Registry>,
    link: Arc<PeerLink>,
    topic: Topic,
    ticket: u64,
    recovery: Recovery,
    presence_events: bool,
}

impl StartLive for Start {
    fn start(self: Box<Self>) {
        let Start {
            engine,
            registry,
            link,
            topic,
            ticket,
            recovery,
            presence_events,
        } = *self;
        let started = engine.take_pending(&topic, &link.id, ticket, |captured| {
            let (deliver, watermark) = stream::seam(&recovery.position, recovery.replay, captured);
            let mut replayed = (0, 0);
            for publication in &deliver {
                if link.push(frame(&link, publication)).is_err() {
                    break;
                }
                replayed = (replayed.0 + 1, replayed.1 + publication.message.len());
            }
            xws::metrics::messages_out(replayed.0, replayed.1);
            // The topic's first subscriber here: the node stands where it does.
            let first = !registry.has_subscribers(&topic);
            registry.insert_subscriber(&topic, &link, watermark.offset, presence_events);
            first.then_some(watermark)
        });
        if !started {
            // The peer left, or subscribed again, meanwhile.
            registry.release_topic(&link);
        }
    }
}

/// A replayed publication as its link receives it.
fn frame(link: &PeerLink, publication: &Publication) -> Frame {
    match link.kind {
        LinkKind::Sse => Frame::Encoded(publication.to_sse()),
        LinkKind::WebSocket | LinkKind::Fallback => Frame::Message(publication.to_message()),
    }
}
