//! The tests of every crate: nextest when installed (it runs test binaries in
//! parallel and kills hung ones), else `cargo test`; then the Vercel
//! examples' stream pages in Chromium (`crate::vercel`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};
use quick_xml::events::Event;

use crate::Workspace;
use crate::process::Cmd;

const TIMEOUT: Duration = Duration::from_secs(30 * 60);

pub fn run(workspace: &Workspace) -> Result<()> {
    let has_nextest = workspace.cargo().args(["nextest", "--version"]).succeeds();
    let cmd: Cmd = if has_nextest {
        workspace.cargo().args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ])
    } else {
        eprintln!("xtask: cargo-nextest not found; running `cargo test`");
        workspace
            .cargo()
            .args(["test", "--workspace", "--locked", "--no-fail-fast"])
    };
    let junit = workspace.target_dir.join("nextest/default/junit.xml");
    // An old report must not name tests that did not fail in this run.
    let _ = std::fs::remove_file(&junit);
    let tests = cmd
        .timeout(TIMEOUT)
        .run()
        .map_err(|error| match failed_tests(&junit) {
            Ok(failed) if !failed.is_empty() => {
                error.context(format!("failed tests:\n  {}", failed.join("\n  ")))
            }
            _ => error,
        });
    // The Vercel examples' stream pages in Chromium, beside their harness
    // tests; run even when a test failed, so one run shows both.
    let page = crate::vercel::stream_pages(workspace);
    tests.and(page)
}

/// The `binary::test` names of the failed tests in nextest's JUnit report
/// (`.config/nextest.toml` asks for it).
fn failed_tests(junit: &Path) -> Result<Vec<String>> {
    let xml =
        std::fs::read_to_string(junit).with_context(|| format!("reading {}", junit.display()))?;
    failed_in_report(&xml)
}

fn failed_in_report(xml: &str) -> Result<Vec<String>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut failed = Vec::new();
    // The test case being read, until its end tag.
    let mut case: Option<String> = None;
    loop {
        match reader.read_event()? {
            Event::Start(tag) if tag.name().as_ref() == "testcase" => {
                let attribute = |key: &str| -> Result<String> {
                    let value = tag
                        .try_get_attribute(key)?
                        .with_context(|| format!("a test case without {}", key))?;
                    Ok(value
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)?
                        .into_owned())
                };
                case = Some(format!(
                    "{} {}",
                    attribute("classname")?,
                    attribute("name")?
                ));
            }
            Event::Start(tag) | Event::Empty(tag)
                if matches!(tag.name().as_ref(), "failure" | "error") =>
            {
                if let Some(name) = case.take() {
                    failed.push(name);
                }
            }
            Event::End(tag) if tag.name().as_ref() == "testcase" => case = None,
            Event::Eof => return Ok(failed),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::failed_in_report;

    #[test]
    fn names_the_failed_and_the_timed_out_tests_only() {
        // The shape of nextest's report: a failure, an error (a timeout),
        // a flaky pass and a pass.
        let report = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="4" failures="1" errors="1">
  <testsuite name="xws::caps_guard" tests="2">
    <testcase name="deployment_guard" classname="xws::caps_guard" time="1.2">
      <failure message="test failure" type="test failure">assertion failed &amp; more</failure>
      <system-out>out</system-out>
    </testcase>
    <testcase name="passes" classname="xws::caps_guard" time="0.1"/>
  </testsuite>
  <testsuite name="chat::conformance" tests="2">
    <testcase name="slow" classname="chat::conformance" time="60">
      <error message="test timeout" type="timeout"/>
    </testcase>
    <testcase name="flaky" classname="chat::conformance" time="1">
      <flakyFailure message="test failure" type="test failure"/>
    </testcase>
  </testsuite>
</testsuites>"#;
        assert_eq!(
            failed_in_report(report).unwrap(),
            ["xws::caps_guard deployment_guard", "chat::conformance slow"]
        );
    }
}
