#![doc = include_str!("../README.md")]

mod backoff;
mod broker;
mod config;
mod connection;
mod error;
mod mode;
mod publisher;
mod reachable;
mod seal;
mod shared;
mod stats;
mod streams;
mod subscriber;
pub mod testing;

pub use broker::RedisBroker;
pub use config::{ACCEPTED_SECRET_ENV, RedisBrokerConfig, SECRET_ENV};
pub use error::Error;
pub use mode::PubSubMode;
pub use reachable::check_reachable;
pub use seal::{EnvelopeSeal, MIN_SECRET_LEN, Refusal};
pub use stats::{BrokerStats, LinkState};
pub use streams::RedisStreams;
