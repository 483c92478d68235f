//! The conformance suite against the Tokio chat, in-process: one test per scenario, each
//! with its own server on an ephemeral port, once open and once behind `CHAT_TOKEN`.

use chat::ChatHandler;
use xws_testkit::Target;
use xws_tokio::Xws;

/// Starts the chat on `127.0.0.1:0` in the current runtime; it lives as long as the test.
async fn chat_on_ephemeral_port(token: Option<&str>) -> Target {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind an ephemeral port");
    let addr = listener.local_addr().expect("local address");
    let retention = xws::stream::Retention::new(100, std::time::Duration::from_secs(300));
    let xws = Xws::new(ChatHandler::new(token.map(str::to_owned)))
        .with_streams(chat::history::stream_config(retention));
    tokio::spawn(chat::server::serve(listener, xws, std::future::pending()));
    let target = Target::single(addr);
    match token {
        Some(token) => target.with_token(token),
        None => target,
    }
}

mod open {
    async fn target() -> xws_testkit::Target {
        super::chat_on_ephemeral_port(None).await
    }
    xws_testkit::conformance_tests!(target);
    xws_testkit::history_tests!(target);
}

/// A memory store that takes its time as a network store does: each read waits
/// `read_before` ms before it looks and `read_after` ms before it answers; each batch of
/// appends is answered `append_after` ms after it is stored.
mod delayed {
    use std::{sync::Arc, time::Duration};
    use xws::{
        BoxFuture, Error, PeerId, Topic,
        stream::{Append, HistoryPage, Member, MemoryStore, Publication, Read, StreamStore},
    };

    pub(crate) struct Delays {
        pub(crate) read_before: u64,
        pub(crate) read_after: u64,
        pub(crate) append_after: u64,
    }

    struct Delayed {
        store: MemoryStore,
        delays: Delays,
    }

    async fn pause(ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    impl StreamStore for Delayed {
        fn append(&self, append: Append) -> BoxFuture<'_, Result<Publication, Error>> {
            self.store.append(append)
        }
        fn append_all(
            &self,
            appends: Vec<Append>,
        ) -> BoxFuture<'_, Vec<Result<Publication, Error>>> {
            Box::pin(async move {
                let appended = self.store.append_all(appends).await;
                pause(self.delays.append_after).await;
                appended
            })
        }
        fn read(&self, read: Read) -> BoxFuture<'_, Result<HistoryPage, Error>> {
            Box::pin(async move {
                pause(self.delays.read_before).await;
                let page = self.store.read(read).await;
                pause(self.delays.read_after).await;
                page
            })
        }
        fn join(&self, topic: &Topic, member: &Member) -> BoxFuture<'_, Result<bool, Error>> {
            self.store.join(topic, member)
        }
        fn leave(&self, topic: &Topic, peer: &PeerId) -> BoxFuture<'_, Result<bool, Error>> {
            self.store.leave(topic, peer)
        }
        fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, Error>> {
            self.store.members(topic)
        }
        fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, Error>> {
            self.store.member_count(topic)
        }
    }

    /// The chat on an ephemeral port, its rooms kept in a delayed memory store.
    pub(crate) async fn chat(delays: Delays) -> xws_testkit::Target {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        let addr = listener.local_addr().expect("local address");
        let retention = xws::stream::Retention::new(100, Duration::from_secs(300));
        let store = Arc::new(Delayed {
            store: MemoryStore::new("delayed"),
            delays,
        });
        let xws = xws_tokio::Xws::new(chat::ChatHandler::new(None))
            .with_stream_store(chat::history::stream_config(retention), store);
        tokio::spawn(chat::server::serve(listener, xws, std::future::pending()));
        xws_testkit::Target::single(addr)
    }
}

/// Reads that answer late: publications stored after a subscription's read looked, but
/// delivered before it started, reach the subscriber only through the seam's captured
/// publications (`recovery_seam_under_load` fails if they are ignored).
mod slow_reads {
    async fn target() -> xws_testkit::Target {
        super::delayed::chat(super::delayed::Delays {
            read_before: 1,
            read_after: 6,
            append_after: 0,
        })
        .await
    }
    xws_testkit::history_tests!(target);
}

/// Deliveries that come late: publications already in the history a subscription read
/// are delivered after it started, and only the watermark keeps them from arriving twice
/// (`recovery_seam_under_load` fails without it).
mod late_deliveries {
    async fn target() -> xws_testkit::Target {
        super::delayed::chat(super::delayed::Delays {
            read_before: 0,
            read_after: 0,
            append_after: 6,
        })
        .await
    }
    xws_testkit::history_tests!(target);
}

mod with_token {
    async fn target() -> xws_testkit::Target {
        super::chat_on_ephemeral_port(Some("s3cret token")).await
    }
    xws_testkit::conformance_tests!(target);
}
