//! The named scenarios. Names are stable: adapters, the capability matrix and CI cite them.

mod auth;
mod basics;
mod history;
mod http;
mod limits;
mod rooms;

use std::future::Future;
use std::pin::Pin;

pub use auth::auth_rejects_401;
pub use basics::{bad_json_keeps_socket_open, binary_roundtrip, echo_json, ping_pong, welcome};
pub use history::{
    cache_mode_latest, history_limit_and_order, presence_and_join_leave, recovery_after_drop,
    recovery_refused_on_foreign_epoch, recovery_seam_under_load, sse_resume_last_event_id,
};
pub use http::{
    broadcast_bad_body_4xx, broadcast_from_http, sse_bad_topic_4xx, sse_receives_room_messages,
};
pub use limits::{
    close_handshake, max_size_accepted, oversize_closes_1009, sse_topic_cap_400, topic_cap_per_peer,
};
pub use rooms::{
    join_leave, leave_stops_delivery, many_rooms_isolated, per_sender_order,
    publish_from_non_member, publish_skips_sender, room_fan_out, typing, unicode_text,
    user_in_context,
};

use crate::{ScenarioError, Target};

/// What running one scenario yields.
pub type ScenarioFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ScenarioError>> + Send + 'a>>;

/// A named scenario of the suite.
#[derive(Clone, Copy)]
pub struct Scenario {
    /// Its stable name.
    pub name: &'static str,
    /// Runs it against a target.
    pub run: for<'a> fn(&'a Target) -> ScenarioFuture<'a>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .finish()
    }
}

macro_rules! scenario_table {
    ($($name:ident)*) => {
        /// Every scenario, in report order: the core ones, then history, recovery and
        /// presence.
        pub const ALL: &[Scenario] = &[$(Scenario {
            name: stringify!($name),
            run: |target| Box::pin($name(target)),
        }),*];
    };
}
macro_rules! with_history {
    ($($core:ident)*) => {
        crate::__for_each_history_scenario!(scenario_table, $($core)*);
    };
}
crate::__for_each_scenario!(with_history);

/// The scenario called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Scenario> {
    ALL.iter().find(|scenario| scenario.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = ALL.iter().map(|scenario| scenario.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert!(find("publish_skips_sender").is_some());
        assert!(find("no_such_thing").is_none());
    }
}
