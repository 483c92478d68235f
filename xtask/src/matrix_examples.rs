//! The examples' section of `adapters-matrix.md`: what each example's
//! handler declares in `Handler::NEEDS`, checked against every target.

use std::fmt::Write as _;

use xws::Handler;
use xws::caps::{DeploymentTarget, Needs, Support};

/// The examples and the needs their handlers declare.
fn examples() -> [(&'static str, Needs); 6] {
    [
        ("chat", <chat::ChatHandler as Handler>::NEEDS),
        ("dashboard", <dashboard::DashboardHandler as Handler>::NEEDS),
        (
            "dashboard` (SSE: `DashboardStream",
            <dashboard::DashboardStream as Handler>::NEEDS,
        ),
        (
            "import-progress",
            <import_progress::ImportHandler as Handler>::NEEDS,
        ),
        (
            "import-progress` (SSE: `ImportStream",
            <import_progress::ImportStream<import_progress::MemoryProgress> as Handler>::NEEDS,
        ),
        (
            "notifications",
            <notifications::NotificationsHandler<notifications::MemoryStore> as Handler>::NEEDS,
        ),
    ]
}

/// One example on one target: ✅ when every need is met in full or
/// emulated, ⚠️ with the limits that apply, ❌ with what is missing.
fn verdict(target: DeploymentTarget, needs: Needs) -> String {
    let mut missing = Vec::new();
    let mut limited = Vec::new();
    for capability in needs.iter() {
        match target.cell(capability).support {
            Support::None { .. } => missing.push(capability.name()),
            Support::Limited { value } => limited.push(format!("{}: {value}", capability.name())),
            Support::Full | Support::Emulated { .. } => {}
        }
    }
    if !missing.is_empty() {
        format!("❌ lacks {}", missing.join(", "))
    } else if !limited.is_empty() {
        format!("⚠️ {}", limited.join("; "))
    } else {
        "✅".to_owned()
    }
}

/// Appends the section.
pub fn render(out: &mut String) {
    out.push_str("## The examples\n\n");
    out.push_str(
        "What each example's handler declares in `Handler::NEEDS`, against every target \
         (❌: building it for that target fails to compile, naming the alternative):\n\n",
    );
    crate::matrix::table_head(
        out,
        "example",
        std::iter::once("needs").chain(DeploymentTarget::ALL.iter().map(|t| t.name())),
    );
    for (name, needs) in examples() {
        let listed: Vec<_> = needs.iter().map(|c| c.name()).collect();
        let cells = std::iter::once(listed.join(", "))
            .chain(DeploymentTarget::ALL.iter().map(|t| verdict(*t, needs)));
        crate::matrix::table_row(out, &format!("`{name}`"), cells);
    }
    writeln!(
        out,
        "\nExtras a handler uses where the target has them are not needs: the dashboard's SSE \
         stream is served on Tokio and Cloudflare and answered 501 on API Gateway. Its SSE-only \
         handler, `DashboardStream`, is what the function targets run: on Vercel \
         (`examples/dashboard/vercel`, built with the `target-vercel` feature), on a \
         Lambda function URL (`examples/dashboard/aws`, function `sse`) and on a plain \
         Worker (`examples/dashboard/worker`). Import progress's SSE-only handler, \
         `ImportStream` (one user's stream, `user:U` by the token), runs on Vercel \
         (`examples/import-progress/vercel`, the import run by the `POST` that starts it, \
         after its answer) and on a Lambda function URL (`examples/import-progress/aws`, \
         function `sse`, the import run by the asynchronously invoked `worker`), its \
         progress reaching the stream through Redis.\n"
    )
    .expect("writing to a String");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_examples_are_refused_on_serverless_functions() {
        let mut out = String::new();
        render(&mut out);
        let dashboard = out
            .lines()
            .find(|l| l.starts_with("| `dashboard`"))
            .unwrap();
        assert!(dashboard.contains("❌ lacks WebSocket"), "{dashboard}");
        assert_eq!(verdict(DeploymentTarget::Tokio, examples()[4].1), "✅");
        let stream = examples()[2].1;
        assert!(verdict(DeploymentTarget::Vercel, stream).starts_with("⚠️"));
    }
}
