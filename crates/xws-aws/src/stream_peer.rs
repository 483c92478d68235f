//! Streams for the peers of the WebSocket API: publications with
//! positions, recovery, presence events.
//!
//! A peer's subscription with history is stored *preparing* before its
//! history is read, so publications skip it; when it starts, its replay is
//! posted, then one transaction makes it live past the position it got,
//! on condition that the topic's head is still there. If publications came
//! meanwhile, they are posted from the history and the transaction tried
//! again. So every publication reaches the subscriber once: by its
//! recovery (offset up to the position it went live at) or live (past it).

use std::{sync::Arc, time::Duration};

use xws::{
    BoxFuture, Delivery, Error, Message, Peer, PeerId, Topic,
    stream::{
        self, Append, HistoryPage, Member, PeerStreams, PresenceChange, PresenceEvent, Read,
        ReadFrom, Recovery, StartLive, SubscribeOptions, Subscription,
    },
};

use crate::{
    Aws,
    streams::member_expiry,
    transport::{Op, OpQueue},
};

/// How often a subscription tries to go live before it gives up waiting
/// for a quiet moment (then it goes live anyway: a publication posted in
/// between may arrive twice).
const LIVE_ATTEMPTS: usize = 20;
/// A publication's offset is taken before its item is written: a read can
/// see the offset before the item. Waits this long for such a hole.
const HOLE_WAIT: Duration = Duration::from_millis(20);

impl Aws {
    fn retention(&self, topic: &Topic) -> Result<stream::Retention, Error> {
        self.config
            .streams
            .retention(topic.as_str())
            .ok_or(Error::Unsupported {
                target: "this topic",
                capability: "history",
                alternative: "add a StreamConfig rule with history for the topic",
            })
    }

    async fn read_history(&self, topic: &Topic, from: ReadFrom) -> Result<HistoryPage, Error> {
        self.streams
            .read_now(Read {
                topic: topic.clone(),
                from,
                retention: self.retention(topic)?,
                now_ms: now(),
            })
            .await
    }

    /// Publishes to `topic`: a topic that keeps history gets the message
    /// appended (two writes), then posted with its position to the
    /// subscribers live for its offset, but `exclude`. A failed append
    /// posts it without a position, as without history.
    pub(crate) async fn publish_kept(
        &self,
        endpoint: &str,
        topic: &Topic,
        message: &Message,
        exclude: Option<&str>,
    ) -> Result<Delivery, Error> {
        let Ok(retention) = self.retention(topic) else {
            return self.publish(endpoint, topic, message, exclude).await;
        };
        let append = Append {
            topic: topic.clone(),
            message: message.clone(),
            publisher: exclude.map(PeerId::from),
            retention,
            now_ms: now(),
        };
        match self.streams.append_now(append).await {
            Ok(publication) => {
                let (ids, preparing) = self
                    .registry
                    .live_subscribers(topic.as_str(), publication.offset())
                    .await?;
                let message = publication.to_message();
                let mut delivery = self
                    .fan_out(endpoint, ids, exclude, Some(topic), &message)
                    .await?;
                // Their recovery delivers it (see `live_subscribers`).
                delivery.delivered += preparing;
                Ok(delivery)
            }
            Err(error) => {
                tracing::warn!(%topic, %error, "stream append failed: posting without a position");
                self.publish(endpoint, topic, message, exclude).await
            }
        }
    }

    /// Starts connection `id`'s subscription: its replay, then live (see
    /// the module docs).
    pub(crate) async fn go_live(
        &self,
        endpoint: &str,
        id: &str,
        topic: &Topic,
        recovery: Recovery,
    ) -> Result<(), Error> {
        for publication in &recovery.replay {
            self.management
                .post(endpoint, id, &publication.to_message())
                .await?;
        }
        let mut position = recovery.position;
        for _ in 0..LIVE_ATTEMPTS {
            if self.streams.go_live(topic, id, &position).await? {
                return Ok(());
            }
            // Published meanwhile: post it from the history first.
            let mut page = self
                .read_history(topic, ReadFrom::After(position.offset))
                .await?;
            if page.position.epoch != position.epoch {
                // The stream started over: all of the new epoch is new.
                page = self.read_history(topic, ReadFrom::After(0)).await?;
                position = stream::Position::new(0, page.position.epoch.clone());
            }
            let expected = page.position.offset.saturating_sub(position.offset) as usize;
            if page.publications.len() < expected {
                // An offset taken whose item is not written yet.
                tokio::time::sleep(HOLE_WAIT).await;
                continue;
            }
            for publication in &page.publications {
                self.management
                    .post(endpoint, id, &publication.to_message())
                    .await?;
            }
            position = page.position;
        }
        tracing::warn!(%topic, connection = id, "no quiet moment to go live: going live anyway");
        self.registry
            .subscribe(topic.as_str(), id, crate::now_ms())
            .await?;
        Ok(())
    }

    /// Posts a join or leave to the members of its topic that asked for
    /// such events, never to the member itself.
    pub(crate) async fn announce(
        &self,
        endpoint: &str,
        event: &PresenceEvent,
    ) -> Result<(), Error> {
        let ids = self.streams.listeners(&event.topic).await?;
        let message = (self.config.streams.presence_format(&event.topic))(event);
        if ids.iter().any(|id| id != event.member.id.as_str()) {
            self.fan_out(
                endpoint,
                ids,
                Some(event.member.id.as_str()),
                Some(&event.topic),
                &message,
            )
            .await?;
        }
        Ok(())
    }

    /// Connection `id` leaves `topic`'s presence; the members that asked
    /// hear it.
    pub(crate) async fn leave_presence(
        &self,
        endpoint: &str,
        id: &str,
        topic: &Topic,
    ) -> Result<(), Error> {
        if !self.config.streams.presence(topic.as_str()) {
            return Ok(());
        }
        let peer = PeerId::from(id);
        if let Some(info) = self.streams.leave_with_info(topic, &peer).await? {
            let event = PresenceEvent {
                change: PresenceChange::Leave,
                topic: topic.clone(),
                member: Member { id: peer, info },
            };
            self.announce(endpoint, &event).await?;
        }
        Ok(())
    }
}

fn now() -> u64 {
    u64::try_from(crate::now_ms()).unwrap_or(0)
}

/// Gives `peer` the streams of `aws`, if it keeps any; `queue` is the
/// invocation's.
pub(crate) fn attach<C>(aws: &Arc<Aws>, peer: &Peer<C>, queue: &OpQueue, since_ms: i64) {
    if aws.config.streams.is_empty() {
        return;
    }
    let streams = AwsPeerStreams {
        aws: Arc::clone(aws),
        id: peer.id().to_string(),
        queue: queue.clone(),
        since_ms,
    };
    stream::attach(peer, Arc::new(streams));
}

struct AwsPeerStreams {
    aws: Arc<Aws>,
    id: String,
    queue: OpQueue,
    since_ms: i64,
}

impl AwsPeerStreams {
    async fn prepare(
        &self,
        topic: Topic,
        options: SubscribeOptions,
    ) -> Result<Subscription, Error> {
        let aws = &self.aws;
        if aws.config.streams.retention(topic.as_str()).is_none() {
            self.join(&topic, &options).await?;
            self.queue.push(Op::Subscribe(topic))?;
            return Ok(Subscription::new(None, None, 0, None));
        }
        let recovery = async {
            aws.registry
                .subscribe_preparing(topic.as_str(), &self.id, self.since_ms)
                .await?;
            let page = aws.read_history(&topic, stream::read_for(&options)).await?;
            let mut recovery = stream::recover(&options, page);
            if stream::needs_latest(&options, &recovery) {
                recovery.replay = aws
                    .read_history(&topic, ReadFrom::Latest(1))
                    .await?
                    .publications;
            }
            Ok::<_, Error>(recovery)
        }
        .await;
        let recovery = match recovery {
            Ok(recovery) => recovery,
            Err(error) => {
                tracing::warn!(%topic, %error, "stream store unavailable: subscribing without history");
                self.queue.push(Op::Subscribe(topic))?;
                return Ok(Subscription::new(
                    None,
                    options.since.as_ref().map(|_| false),
                    0,
                    None,
                ));
            }
        };
        if let Err(error) = self.join(&topic, &options).await {
            tracing::warn!(%topic, %error, "presence unavailable: subscribing without it");
        }
        let (position, recovered, replayed) = (
            recovery.position.clone(),
            recovery.recovered,
            recovery.replay.len(),
        );
        let start = Start {
            queue: self.queue.clone(),
            topic,
            recovery,
        };
        Ok(Subscription::new(
            Some(position),
            recovered,
            replayed,
            Some(Box::new(start)),
        ))
    }

    /// Joins `topic`'s presence if it keeps one; a new member is announced.
    async fn join(&self, topic: &Topic, options: &SubscribeOptions) -> Result<(), Error> {
        if !self.aws.config.streams.presence(topic.as_str()) {
            return Ok(());
        }
        let member = Member {
            id: PeerId::from(self.id.as_str()),
            info: options.info.clone(),
        };
        let new = self
            .aws
            .streams
            .join_until(topic, &member, member_expiry(), options.presence_events)
            .await?;
        if new {
            self.queue.push(Op::Announce(PresenceEvent {
                change: PresenceChange::Join,
                topic: topic.clone(),
                member,
            }))?;
        }
        Ok(())
    }
}

impl PeerStreams for AwsPeerStreams {
    fn keeps_history(&self, topic: &Topic) -> bool {
        self.aws.config.streams.retention(topic.as_str()).is_some()
    }

    fn publish(&self, topic: &Topic, message: Message) -> Result<(), Error> {
        let message = crate::to_wire(message)?;
        self.queue.push(Op::PublishKept(topic.clone(), message))
    }

    fn subscribe(
        &self,
        topic: &Topic,
        options: SubscribeOptions,
    ) -> BoxFuture<'_, Result<Subscription, Error>> {
        Box::pin(self.prepare(topic.clone(), options))
    }

    fn history(&self, topic: &Topic, limit: usize) -> BoxFuture<'_, Result<HistoryPage, Error>> {
        let topic = topic.clone();
        Box::pin(async move { self.aws.read_history(&topic, ReadFrom::Latest(limit)).await })
    }

    fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, Error>> {
        let topic = topic.clone();
        Box::pin(async move { self.aws.streams.members_now(&topic).await })
    }

    fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, Error>> {
        let topic = topic.clone();
        Box::pin(async move { self.aws.streams.member_count_now(&topic).await })
    }
}

/// Queues the start of a prepared subscription, after whatever the hook
/// queued before (the `joined` answer).
struct Start {
    queue: OpQueue,
    topic: Topic,
    recovery: Recovery,
}

impl StartLive for Start {
    fn start(self: Box<Self>) {
        let Start {
            queue,
            topic,
            recovery,
        } = *self;
        if let Err(error) = queue.push(Op::Live(topic, Box::new(recovery))) {
            tracing::debug!(%error, "the peer closed before its subscription started");
        }
    }
}
