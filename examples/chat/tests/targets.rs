//! The deployment target is a cargo feature: choosing one that cannot run the
//! chat (Vercel functions have no WebSocket) fails to compile with the
//! message naming the alternative, and one that can (the Lambda build's)
//! compiles.
//!
//! Each case runs `cargo check` on the chat with that feature, in the
//! workspace's target directory: the dependencies' metadata from the clippy
//! step is reused, and a feature set of its own never invalidates another
//! build's artifacts.

use std::path::Path;
use std::process::{Command, Output};

fn check_with(feature: &str) -> Output {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let target_dir = tmp.parent().unwrap_or(tmp);
    Command::new(env!("CARGO"))
        .args([
            "check",
            "--package",
            "chat",
            "--lib",
            "--no-default-features",
        ])
        .args([
            "--features",
            feature,
            "--message-format",
            "short",
            "--quiet",
        ])
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .expect("running cargo check")
}

/// One test, so the two checks run one after the other and the second
/// reuses the dependencies the first compiled.
#[test]
fn the_target_feature_decides_whether_the_chat_compiles() {
    let output = check_with("target-vercel");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the Vercel build compiled");
    assert!(
        stderr.contains("Vercel functions cannot provide WebSocket")
            && stderr.contains("Alternative: use SSE, a Cloudflare Durable Object"),
        "the error does not name the gap and the alternative:\n{stderr}"
    );

    let output = check_with("target-aws");
    assert!(
        output.status.success(),
        "the AWS build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
