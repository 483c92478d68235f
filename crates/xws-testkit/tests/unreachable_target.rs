//! The suite against a port nobody listens on: every scenario must fail fast with a
//! transport error (never hang, never pass), and the token-less auth scenario skips.

use std::time::Duration;

use xws_testkit::{Outcome, Target, run};

/// A port that was free a moment ago: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

#[tokio::test]
async fn every_scenario_fails_or_skips_without_a_server() {
    let target =
        Target::single(format!("127.0.0.1:{}", closed_port())).with_timeout(Duration::from_secs(2));
    let report = tokio::time::timeout(Duration::from_secs(30), run(&target, &[]))
        .await
        .expect("the run finishes");
    assert_eq!(report.passed(), 0, "{report}");
    assert_eq!(report.skipped(), 1, "{report}");
    assert_eq!(report.results.len(), xws_testkit::scenario_names().count());
    for (name, message) in report.failures() {
        assert!(
            message.contains("connect") || message.contains("refused"),
            "{name}: {message}"
        );
    }
    assert!(
        report
            .to_string()
            .ends_with(&format!("0 passed, {} failed, 1 skipped", report.failed()))
    );
}

#[tokio::test]
async fn unknown_names_and_skip_lists_are_reported() {
    let target = Target::single(format!("127.0.0.1:{}", closed_port())).skipping(["welcome"]);
    let only = ["welcome".to_owned(), "no_such_scenario".to_owned()];
    let report = run(&target, &only).await;
    assert_eq!(report.results.len(), 2);
    assert!(
        matches!(report.results[0].outcome, Outcome::Skipped(_)),
        "{report}"
    );
    match &report.results[1].outcome {
        Outcome::Failed(message) => assert!(message.contains("no scenario named"), "{message}"),
        other => panic!("expected a failure for an unknown name, got {other:?}"),
    }
}
