//! The Cloudflare worker crates the step builds, serves and tests.

use anyhow::{Result, bail};

/// One worker crate: a `wrangler.toml` next to its `Cargo.toml`.
#[derive(Debug)]
pub struct Worker {
    /// Its name on the command line (`cargo xtask build cloudflare NAME`).
    pub name: &'static str,
    /// The crate directory, relative to the repository root.
    pub dir: &'static str,
    /// The cargo package, whose `workerd` feature enables its tests.
    pub package: &'static str,
    /// The variable that gives its tests the URL of its `wrangler dev`.
    pub url_var: &'static str,
    /// The variable that gives its tests the URL of the workerd running
    /// the worker itself, behind wrangler's proxy
    /// ([`Wrangler::direct_url`](super::wrangler::Wrangler::direct_url)),
    /// if they need it.
    pub direct_url_var: Option<&'static str>,
    /// The wrangler var holding the token the tests use, if it takes one
    /// (the tests read it from `XWS_CF_TOKEN`).
    pub token_var: Option<&'static str>,
    /// Vars the test step gives it besides `XWS_DEBUG=1` and the token,
    /// such as limits low enough for a test to reach quickly; `{port}` in
    /// a value is the port it is served on.
    pub test_vars: &'static [(&'static str, &'static str)],
    /// Further `wrangler dev` of the same build the test step starts, each
    /// with vars of its own (and none of the above), for tests of another
    /// configuration.
    pub variants: &'static [Variant],
}

/// The same worker served again with other vars.
#[derive(Debug)]
pub struct Variant {
    /// The variable that gives its tests the URL.
    pub url_var: &'static str,
    /// Its vars; `{keys}` in a value is the address of a server of
    /// xws-auth's test keys (`http://{keys}/jwks.json`, a JWKS URL).
    pub vars: &'static [(&'static str, &'static str)],
    /// The variable that gives its tests the file holding what the worker
    /// logged (wrangler's output).
    pub log_var: &'static str,
}

/// Every worker, the default first.
pub const WORKERS: &[Worker] = &[
    Worker {
        name: "chat",
        dir: "examples/chat/cloudflare",
        package: "chat-cloudflare",
        url_var: "XWS_CF_URL",
        direct_url_var: Some("XWS_CF_DIRECT_URL"),
        token_var: Some("CHAT_TOKEN"),
        // The chat's workerd tests reach these limits (`tests/workerd.rs`
        // states the same numbers): 20 sockets leave room for the
        // conformance suite's 12-member room; a burst of 200 for its
        // fastest senders. Rooms keep 1,000 messages: in
        // `recovery_seam_under_load` each reconnect through wrangler's
        // proxy lets the sender (200 messages at ~1,000/s) get more than
        // the default 100 ahead, which is a trimmed history, not a seam.
        // 32 topics per peer: `topic_cap_per_peer` joins them all within
        // the burst. A keep-alive every second: an SSE stream whose
        // client left frees its place within the tests' waits.
        test_vars: &[
            ("XWS_MAX_CONNECTIONS", "20"),
            ("XWS_RATE_LIMIT", "10/200/5"),
            ("CHAT_HISTORY_SIZE", "1000"),
            ("XWS_MAX_TOPICS_PER_PEER", "32"),
            ("XWS_SSE_KEEP_ALIVE_SECS", "1"),
        ],
        // Signed tokens and the server API (`tests/jwt.rs` states the
        // same values).
        variants: &[
            Variant {
                url_var: "XWS_CF_CHAT_JWT_URL",
                vars: &[
                    ("CHAT_JWT_SECRET", "the workerd test secret, 32 bytes+"),
                    ("CHAT_JWT_AUDIENCE", "xws-chat-workerd"),
                    ("CHAT_API_KEY", "the workerd test API key"),
                    // Its tests read the metrics it logs.
                    ("XWS_METRICS", "log"),
                ],
                log_var: "XWS_CF_CHAT_JWT_LOG",
            },
            // Tokens of an identity provider's key set, fetched by the Worker
            // through `worker::Fetch` (`tests/jwks.rs` states the audience).
            Variant {
                url_var: "XWS_CF_CHAT_JWKS_URL",
                vars: &[
                    ("CHAT_JWKS_URL", "http://{keys}/jwks.json"),
                    ("CHAT_JWT_AUDIENCE", "xws-chat-workerd-jwks"),
                ],
                log_var: "XWS_CF_CHAT_JWKS_LOG",
            },
            // Two sockets per client address (`tests/per_ip.rs` states
            // the same number); a stream whose client left frees its
            // place within a second.
            Variant {
                url_var: "XWS_CF_CHAT_PER_IP_URL",
                vars: &[
                    ("XWS_MAX_CONNECTIONS_PER_IP", "2"),
                    ("XWS_SSE_KEEP_ALIVE_SECS", "1"),
                ],
                log_var: "XWS_CF_CHAT_PER_IP_LOG",
            },
        ],
    },
    Worker {
        name: "dashboard",
        dir: "examples/dashboard/cloudflare",
        package: "dashboard-cloudflare",
        url_var: "XWS_CF_DASHBOARD_URL",
        direct_url_var: None,
        token_var: None,
        // An Origin allow-list of the worker's own page, which the browser
        // test opens; the workerd tests show another origin refused.
        test_vars: &[(
            "XWS_ALLOWED_ORIGINS",
            "http://127.0.0.1:{port},http://localhost:{port}",
        )],
        variants: &[],
    },
    Worker {
        name: "dashboard-worker",
        dir: "examples/dashboard/worker",
        package: "dashboard-worker",
        url_var: "XWS_CF_DASHBOARD_WORKER_URL",
        direct_url_var: None,
        token_var: None,
        // Streams of 6 s, so a test sees one end (`tests/workerd.rs`).
        test_vars: &[
            ("XWS_SSE_MAX_DURATION_SECS", "8"),
            ("XWS_SSE_END_BEFORE_SECS", "2"),
        ],
        variants: &[],
    },
    Worker {
        name: "import-progress",
        dir: "examples/import-progress/cloudflare",
        package: "import-progress-cloudflare",
        url_var: "XWS_CF_IMPORT_PROGRESS_URL",
        direct_url_var: None,
        token_var: None,
        test_vars: &[],
        variants: &[],
    },
    Worker {
        name: "notifications",
        dir: "examples/notifications/cloudflare",
        package: "notifications-cloudflare",
        url_var: "XWS_CF_NOTIFICATIONS_URL",
        direct_url_var: None,
        token_var: None,
        test_vars: &[],
        variants: &[],
    },
];

/// The worker called `name`, or the chat when there is no name.
pub fn named(name: Option<&str>) -> Result<&'static Worker> {
    let name = name.unwrap_or(WORKERS[0].name);
    match WORKERS.iter().find(|worker| worker.name == name) {
        Some(worker) => Ok(worker),
        None => {
            let known: Vec<&str> = WORKERS.iter().map(|w| w.name).collect();
            bail!(
                "no Cloudflare worker named {name:?}; known: {}",
                known.join(", ")
            )
        }
    }
}
