//! The scenario list, written once, and the test generator built from it.

/// Calls `$callback!` with every scenario name, in report order. The single source of the
/// list: both [`crate::scenarios::ALL`] and [`conformance_tests!`](crate::conformance_tests)
/// are expanded from it, so they cannot drift apart.
#[doc(hidden)]
#[macro_export]
macro_rules! __for_each_scenario {
    ($($callback:tt)::+ $(, $($args:tt)*)?) => {
        $($callback)::+! {
            $($($args)*)?
            welcome
            ping_pong
            echo_json
            binary_roundtrip
            bad_json_keeps_socket_open
            unicode_text
            join_leave
            publish_skips_sender
            publish_from_non_member
            room_fan_out
            per_sender_order
            user_in_context
            typing
            leave_stops_delivery
            many_rooms_isolated
            max_size_accepted
            oversize_closes_1009
            topic_cap_per_peer
            sse_topic_cap_400
            close_handshake
            auth_rejects_401
            broadcast_from_http
            broadcast_bad_body_4xx
            sse_receives_room_messages
            sse_bad_topic_4xx
        }
    };
}

/// Calls `$callback!` with every history, recovery and presence scenario (see
/// [`history_tests!`](crate::history_tests)), after the arguments.
#[doc(hidden)]
#[macro_export]
macro_rules! __for_each_history_scenario {
    ($($callback:tt)::+ $(, $($args:tt)*)?) => {
        $($callback)::+! {
            $($($args)*)?
            recovery_after_drop
            recovery_refused_on_foreign_epoch
            history_limit_and_order
            cache_mode_latest
            presence_and_join_leave
            sse_resume_last_event_id
            recovery_seam_under_load
        }
    };
}

/// Generates one `#[test]` per history, recovery and presence scenario (the chat's
/// streams), like [`conformance_tests!`](crate::conformance_tests) does for the rest: a
/// target gets them once its adapter keeps history.
///
/// ```no_run
/// async fn chat() -> xws_testkit::Target {
///     xws_testkit::Target::single("127.0.0.1:3000")
/// }
/// xws_testkit::history_tests!(chat);
/// ```
#[macro_export]
macro_rules! history_tests {
    ($make_target:expr) => {
        $crate::__for_each_history_scenario!($crate::__conformance_test_fns, ($make_target));
    };
}

/// Generates one `#[test]` per scenario, each named after it, for an adapter's
/// integration tests.
///
/// The argument is a function (or closure) returning a future of a [`Target`](crate::Target).
/// Each test builds its own Tokio runtime, awaits that future inside it, then runs its
/// scenario; so an in-process server started by the future lives exactly as long as the
/// test (cargo-nextest runs every test in its own process, where a shared server could not
/// survive anyway). A skipped scenario passes and logs why.
///
/// ```no_run
/// async fn chat() -> xws_testkit::Target {
///     xws_testkit::Target::single("127.0.0.1:3000")
/// }
/// xws_testkit::conformance_tests!(chat);
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($make_target:expr) => {
        $crate::__for_each_scenario!($crate::__conformance_test_fns, ($make_target));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    (($make_target:expr) $($name:ident)*) => {
        $(
            #[test]
            fn $name() {
                $crate::run_test(stringify!($name), $make_target);
            }
        )*
    };
}
