#![doc = include_str!("../README.md")]

mod backoff;
mod broker;
mod config;
mod connection;
mod error;
mod mode;
mod publisher;
mod reachable;
mod shared;
mod stats;
mod subscriber;
pub mod testing;

pub use broker::RedisBroker;
pub use config::RedisBrokerConfig;
pub use error::Error;
pub use mode::PubSubMode;
pub use reachable::check_reachable;
pub use stats::{BrokerStats, LinkState};
