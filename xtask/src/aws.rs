//! The examples' AWS stacks, locally: moto (DynamoDB) and the Lambda
//! runtime API of `cargo lambda watch --only-lambda-apis`, shared by every
//! example; per example its functions (prebuilt binaries, each polling the
//! runtime API under its own name, as on Lambda) and the `xws-aws-local` API
//! Gateway emulator in front, which also fires the example's EventBridge
//! schedules and takes asynchronous invocations.
//!
//! One `cargo test --no-run` builds every function, the emulator and every
//! example's live tests, with one feature resolution, so the AWS SDK builds
//! once and no invocation waits for cargo.
//!
//! - `cargo xtask dev aws [EXAMPLE] --port P` serves one example (default
//!   `chat`) at `http://127.0.0.1:P/` (WebSocket `ws://127.0.0.1:P/api/ws`).
//! - `cargo xtask test-aws [EXAMPLE]...` (and the `aws` step of `cargo
//!   xtask test`, every example) validates the SAM templates (cfn-lint, `sam
//!   validate`), then runs each example's `live` tests against its own deployment and,
//!   when every example runs, every page in Chromium against them
//!   (`tests/browser/pages.test.mjs`).
//! - `cargo xtask build aws [EXAMPLE]` runs `cargo lambda build --profile
//!   lambda` (what a deploy uploads) and checks every bootstrap; the
//!   `lambda-build` and `lambda-bootstraps` steps of `cargo xtask test` do
//!   the same in the background with `--release` (no fat LTO, for time).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::Workspace;
use crate::browser;
use crate::process::{ChildGuard, Cmd, free_port, interrupted, port_is_open, wait_for_port};
use crate::tools;

/// Pinned PyPI tools, installed into a venv in the tools cache.
const PYPI: &[&str] = &[
    "moto[server]==5.2.5",
    "cargo-lambda==1.9.2",
    "cfn-lint==1.58.0",
    // `sam validate`; it pins the same cfn-lint.
    "aws-sam-cli==1.170.0",
    // The boto line aws-sam-cli accepts, named so that pip does not try
    // every newer botocore (16 MB each) before finding it.
    "boto3<1.44",
    "botocore<1.44",
];
/// The emulated WebSocket API's path (on AWS, its stage).
const WS_PATH: &str = "/api/ws";
/// The token the test stack runs with, so the suite checks auth too.
const TEST_TOKEN: &str = "s3cret token";

/// One example deployed on AWS: a crate of functions with a
/// `template.yaml` and `tests/live.rs`.
struct Example {
    /// Its name on the command line, and the prefix of its functions.
    name: &'static str,
    /// The crate's directory.
    dir: &'static str,
    /// The crate.
    package: &'static str,
    /// Its functions, `{name}-{function}` binaries: `ws` (the WebSocket
    /// API's), `http` (every other request) and background ones.
    functions: &'static [&'static str],
    /// EventBridge schedules (`FUNCTION=RATE`, function without the prefix)
    /// the emulator fires; the templates' rates are minutes, locally seconds.
    schedules: &'static [&'static str],
    /// Function URLs the emulator fronts (`PATH=FUNCTION`, function without
    /// the prefix), their responses streamed through.
    function_urls: &'static [&'static str],
    /// Tests of the function URLs' streams (a test target besides `live`),
    /// run against a second deployment without schedules, each
    /// function-URL function in this many environments.
    stream_tests: Option<(&'static str, usize)>,
    /// The stream page (`serverless.test.mjs`) run in Chromium against the
    /// same deployment after those tests: its path on the emulator and the
    /// function whose schedule publishes.
    stream_page: Option<(&'static str, &'static str)>,
    /// Variables of its own, for its functions and tests.
    env: &'static [(&'static str, &'static str)],
    /// Test targets run against a deployment of their own (own table, no
    /// schedules) with these variables besides, before the `live` tests.
    variant_tests: &'static [(&'static str, &'static [(&'static str, &'static str)])],
}

/// Every example with an AWS build, in test order.
const EXAMPLES: &[Example] = &[
    Example {
        name: "chat",
        dir: "examples/chat/aws",
        package: "chat-aws",
        functions: &["ws", "http", "tick"],
        schedules: &[],
        function_urls: &[],
        stream_tests: None,
        stream_page: None,
        // A rate limit a test can exceed through the emulator (which runs
        // one invocation at a time per connection), with a burst larger
        // than any conformance scenario sends at once (the history seam
        // scenario's sender: 200 messages).
        // 32 topics per peer: `topic_cap_per_peer` joins them all within
        // the burst (the tests read it too).
        env: &[
            ("XWS_RATE_LIMIT", "2"),
            ("XWS_RATE_BURST", "250"),
            ("XWS_MAX_TOPICS_PER_PEER", "32"),
        ],
        // Signed tokens and the server API (the tests read these too).
        variant_tests: &[
            (
                "jwt",
                &[
                    ("CHAT_JWT_SECRET", "the AWS test secret, 32 bytes long"),
                    ("CHAT_JWT_AUDIENCE", "xws-chat-aws"),
                    ("CHAT_API_KEY", "the AWS test API key"),
                    // CloudWatch EMF on stdout, which its tests read.
                    ("XWS_METRICS", "emf"),
                ],
            ),
            // An identity provider's key set (xws-auth's test keys).
            (
                "jwks",
                &[
                    ("CHAT_JWKS_URL", "http://{keys}/jwks.json"),
                    ("CHAT_JWT_AUDIENCE", "xws-chat-aws"),
                ],
            ),
            // Connection limits counted in the table (the tests read these).
            (
                "limits",
                &[
                    ("XWS_MAX_CONNECTIONS", "3"),
                    ("XWS_MAX_CONNECTIONS_PER_IP", "2"),
                ],
            ),
        ],
    },
    Example {
        name: "dashboard",
        dir: "examples/dashboard/aws",
        package: "dashboard-aws",
        functions: &["ws", "http", "tick", "sse"],
        schedules: &["tick=2s"],
        function_urls: &["/api/sse=sse"],
        stream_tests: Some(("function_url", 2)),
        // The HTTP API's page on the function URL, which the emulator
        // serves on its own host.
        stream_page: Some(("/stream?stream=/api/sse", "tick")),
        // Streams short enough for a test to see one end: 6 s.
        env: &[
            ("XWS_SSE_MAX_DURATION_SECS", "8"),
            ("XWS_SSE_END_BEFORE_SECS", "2"),
        ],
        variant_tests: &[],
    },
    Example {
        name: "import-progress",
        dir: "examples/import-progress/aws",
        package: "import-progress-aws",
        functions: &["ws", "http", "worker", "sse"],
        schedules: &[],
        function_urls: &["/api/stream=sse"],
        stream_tests: Some(("function_url", 2)),
        // The HTTP API's page on the function URL's stream; it starts its
        // import itself (no schedule).
        stream_page: Some(("/stream?stream=/api/stream", "")),
        // Streams of 6 s and batches 400 ms apart, so a test sees a stream
        // end mid-import (tests/function_url.rs reads these).
        env: &[
            ("XWS_SSE_MAX_DURATION_SECS", "8"),
            ("XWS_SSE_END_BEFORE_SECS", "2"),
            ("IMPORT_STEP_MS", "400"),
        ],
        variant_tests: &[],
    },
    Example {
        name: "notifications",
        dir: "examples/notifications/aws",
        package: "notifications-aws",
        functions: &["ws", "http"],
        schedules: &[],
        function_urls: &[],
        stream_tests: None,
        stream_page: None,
        // The functions create it in moto (`XWS_CREATE_TABLE=1`).
        env: &[("NOTIFICATIONS_TABLE", "xws-notifications-store")],
        variant_tests: &[],
    },
];

impl Example {
    fn named(name: &str) -> Result<&'static Example> {
        EXAMPLES.iter().find(|e| e.name == name).with_context(|| {
            let names: Vec<_> = EXAMPLES.iter().map(|e| e.name).collect();
            format!("no AWS example {name:?}; there are {names:?}")
        })
    }

    /// The name of its `function` (binary and Lambda function alike).
    fn function(&self, function: &str) -> String {
        format!("{}-{function}", self.name)
    }

    /// Its DynamoDB table: one per example, so one example's broadcast
    /// does not reach another's connections.
    fn table(&self) -> String {
        format!("xws-{}", self.name)
    }

    fn template(&self, workspace: &Workspace) -> PathBuf {
        workspace.root.join(self.dir).join("template.yaml")
    }
}

/// The variables every function and test of `example` gets: the SDK
/// pointed at moto and the emulator, the table, the functions' names. A
/// variant has a table and a Redis channel of its own, so a deployment kept
/// running beside it (its schedule firing) publishes nothing into it.
fn aws_env(
    cmd: Cmd,
    example: &Example,
    services: &Services,
    emulator: SocketAddr,
    variant: Variant,
) -> Cmd {
    let moto = services.moto;
    let scope = match (variant.no_schedules, variant.scope) {
        (true, _) => "-streams",
        (false, scope) => scope,
    };
    let cmd = example
        .env
        .iter()
        .chain(variant.env)
        .fold(cmd, |cmd, (name, value)| {
            cmd.env(name, value.replace("{keys}", &services.keys.to_string()))
        });
    cmd.env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{moto}"))
        .env("AWS_ENDPOINT_URL_LAMBDA", format!("http://{emulator}"))
        .env("XWS_APIGW_ENDPOINT", format!("http://{emulator}"))
        .env("XWS_TABLE", format!("{}{scope}", example.table()))
        .env("XWS_SELF_FUNCTION", example.function("ws"))
        .env("WORKER_FUNCTION", example.function("worker"))
        // Function URL streams hear publications through Redis (the
        // machine's, as the services step requires), one channel per run.
        .env("XWS_REDIS_URL", redis_url())
        .env(
            "XWS_REDIS_CHANNEL",
            format!("xws-aws-{}{scope}-{}", example.name, std::process::id()),
        )
        // The functions' envelopes are sealed with it (xws-redis refuses
        // to start without one).
        .env(
            "XWS_REDIS_SECRET",
            format!("xws-aws-test-run-{}", std::process::id()),
        )
}

fn redis_url() -> String {
    std::env::var("XWS_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// What the one build produced.
struct Built {
    /// Every binary (functions, the emulator) by name.
    bins: HashMap<String, PathBuf>,
    /// Each example's test binaries, by crate directory and test name.
    tests: HashMap<(PathBuf, String), PathBuf>,
}

impl Built {
    fn bin(&self, name: &str) -> Result<&Path> {
        self.bins
            .get(name)
            .map(PathBuf::as_path)
            .with_context(|| format!("the build produced no binary {name:?}"))
    }
}

/// One `cargo test --no-run` of `examples` (and the emulator): their
/// binaries are built for their integration tests, so functions and tests
/// share one feature resolution.
fn build_all(workspace: &Workspace, examples: &[&Example]) -> Result<Built> {
    let mut cargo = workspace
        .cargo()
        .args([
            "test",
            "--no-run",
            "--message-format",
            "json-render-diagnostics",
        ])
        .args(["-p", "xws-aws-local"]);
    let mut features = Vec::new();
    for example in examples {
        cargo = cargo.args(["-p", example.package]);
        features.push(format!("{}/live", example.package));
    }
    let output = cargo
        .args(["--features", &features.join(",")])
        .env("CARGO_TARGET_DIR", &workspace.target_dir)
        .timeout(Duration::from_secs(1800))
        .read()
        .context("building the functions, the emulator and the live tests")?;
    let mut built = Built {
        bins: HashMap::new(),
        tests: HashMap::new(),
    };
    for line in output.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(executable), Some(kinds)) = (
            message["executable"].as_str(),
            message["target"]["kind"].as_array(),
        ) else {
            continue;
        };
        let name = message["target"]["name"].as_str().unwrap_or_default();
        let harness = message["profile"]["test"] == true;
        if kinds.iter().any(|k| k == "bin") && !harness {
            built.bins.insert(name.to_owned(), executable.into());
        } else if kinds.iter().any(|k| k == "test") {
            let manifest = PathBuf::from(message["manifest_path"].as_str().unwrap_or_default());
            let dir = manifest.parent().unwrap_or(Path::new("")).to_path_buf();
            built
                .tests
                .insert((dir, name.to_owned()), executable.into());
        }
    }
    Ok(built)
}

/// What every example shares: moto and the Lambda runtime API.
struct Services {
    moto: SocketAddr,
    lambda: SocketAddr,
    /// A static server of xws-auth's test keys: an identity provider's
    /// JWKS URL is `http://{keys}/jwks.json` (`{keys}` in a variant's env).
    keys: SocketAddr,
    _children: Vec<ChildGuard>,
}

/// Starts moto and `cargo lambda watch --only-lambda-apis` on free ports.
fn start_services(workspace: &Workspace, bin: &Path) -> Result<Services> {
    let moto = local(free_port()?);
    let mut children = vec![
        Cmd::new(bin.join("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &moto.port().to_string()])
            // Where its request recorder writes, when a benchmark turns it
            // on (`/moto-api/recorder/start-recording`): off by default.
            .env(
                "MOTO_RECORDER_FILEPATH",
                workspace
                    .target_dir
                    .join(format!("moto-recording-{}.jsonl", moto.port())),
            )
            .spawn()?,
    ];
    let keys = local(free_port()?);
    children.push(
        Cmd::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(keys.port().to_string())
            .arg("--directory")
            .arg(workspace.root.join("crates/xws-auth/tests/keys"))
            .spawn()?,
    );
    let lambda = local(free_port()?);
    children.push(
        Cmd::new(bin.join("cargo-lambda"))
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args(["-A", "127.0.0.1", "-P", &lambda.port().to_string()])
            // It reads the workspace's metadata, and builds nothing.
            .current_dir(&workspace.root)
            .env("PATH", path_with(bin)?)
            .spawn()?,
    );
    wait_for_port(moto, Duration::from_secs(60), "moto")?;
    wait_for_port(keys, Duration::from_secs(30), "the test keys' server")?;
    // `cargo lambda watch` exits 0 without a word when its port is taken:
    // wait for the port, then make sure it is still ours.
    wait_for_port(lambda, Duration::from_secs(120), "cargo lambda watch")?;
    children
        .iter_mut()
        .try_for_each(ChildGuard::ensure_running)?;
    Ok(Services {
        moto,
        lambda,
        keys,
        _children: children,
    })
}

/// One example's running functions and emulator; dropping it stops them.
struct Deployment {
    emulator: SocketAddr,
    children: Vec<ChildGuard>,
    /// Each function's name and process id (the first children).
    functions: Vec<(String, u32)>,
}

impl Deployment {
    fn ensure_running(&mut self) -> Result<()> {
        self.children
            .iter_mut()
            .try_for_each(ChildGuard::ensure_running)
    }
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn venv() -> Result<PathBuf> {
    tools::pip_install("aws", PYPI)
}

fn path_with(bin: &Path) -> Result<std::ffi::OsString> {
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).context("building PATH")
}

/// How a deployment differs from the example's own.
#[derive(Clone, Copy, Debug, Default)]
struct Variant {
    /// Neither schedule fires: every publication is the tests' own.
    no_schedules: bool,
    /// Environments per function-URL function (default one), so that
    /// concurrent streams run in separate environments.
    url_environments: Option<usize>,
    /// The suffix of its table and Redis channel ("" for the example's own).
    scope: &'static str,
    /// Variables besides the example's.
    env: &'static [(&'static str, &'static str)],
}

/// Starts `example`'s functions against the runtime API and the emulator
/// on `port` in front of them.
fn deploy(
    workspace: &Workspace,
    built: &Built,
    services: &Services,
    example: &Example,
    port: u16,
    token: Option<&str>,
    variant: Variant,
) -> Result<Deployment> {
    let emulator = local(port);
    if port_is_open(emulator) {
        bail!("port {port} is taken");
    }
    let lambda = services.lambda;
    let mut children = Vec::new();
    let behind_url = |function: &str| {
        example
            .function_urls
            .iter()
            .any(|url| url.split_once('=').is_some_and(|(_, f)| f == function))
    };
    let started = example.functions.iter().flat_map(|function| {
        let copies = match variant.url_environments {
            Some(n) if behind_url(function) => n,
            _ => 1,
        };
        std::iter::repeat_n(*function, copies)
    });
    let mut functions = Vec::new();
    for function in started {
        let cmd = function_cmd(
            workspace, built, services, example, port, function, token, variant,
        )?;
        let child = cmd.spawn()?;
        functions.push((example.function(function), child.id()));
        children.push(child);
    }
    let invoke = |function: &str| {
        let name = example.function(function);
        format!("http://{lambda}/2015-03-31/functions/{name}/invocations")
    };
    let mut emulator_cmd = Cmd::new(built.bin("xws-aws-local")?)
        .args(["--port", &port.to_string(), "--ws-path", WS_PATH])
        .args(["--function", &invoke("ws")])
        .args(["--http-function", &invoke("http")])
        // Its MOCK routes (the app ping) are answered without the function.
        .arg("--template")
        .arg(example.template(workspace));
    let schedules = if variant.no_schedules {
        &[][..]
    } else {
        example.schedules
    };
    for schedule in schedules {
        emulator_cmd = emulator_cmd.args(["--schedule", &example.function(schedule)]);
    }
    for url in example.function_urls {
        let (path, function) = url
            .split_once('=')
            .context("function URL is PATH=FUNCTION")?;
        let url = format!("{path}={}", example.function(function));
        emulator_cmd = emulator_cmd.args(["--function-url", &url]);
    }
    children.push(emulator_cmd.spawn()?);
    wait_for_port(
        emulator,
        Duration::from_secs(30),
        "the API Gateway emulator",
    )?;
    let mut deployment = Deployment {
        emulator,
        children,
        functions,
    };
    deployment.ensure_running()?;
    Ok(deployment)
}

/// The command that runs `example`'s `function` against the runtime API,
/// as Lambda would, behind the emulator on `port`.
#[allow(clippy::too_many_arguments)]
fn function_cmd(
    workspace: &Workspace,
    built: &Built,
    services: &Services,
    example: &Example,
    port: u16,
    function: &str,
    token: Option<&str>,
    variant: Variant,
) -> Result<Cmd> {
    let lambda = services.lambda;
    let emulator = local(port);
    let name = example.function(function);
    let cmd = Cmd::new(built.bin(&name)?)
        // What Lambda gives a function.
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://{lambda}/.rt/{name}"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("XWS_CREATE_TABLE", "1")
        // As the template does: the page connects to the WebSocket API
        // by its own URL. `localhost` rather than the page's
        // 127.0.0.1, so the page reaches it as another host, as on AWS.
        .env(
            "XWS_WEBSOCKET_URL",
            format!("ws://localhost:{port}{WS_PATH}"),
        )
        .env("RUST_LOG", "info");
    let cmd = aws_env(cmd, example, services, emulator, variant);
    let cmd = match token {
        Some(token) => cmd.env("CHAT_TOKEN", token),
        None => cmd.env_remove("CHAT_TOKEN"),
    };
    // A variant's tests read what its functions logged.
    Ok(if variant.scope.is_empty() {
        cmd
    } else {
        cmd.log_to(function_log(workspace, &name, variant))
    })
}

/// Where a variant deployment's `function` (its full name) logs.
fn function_log(workspace: &Workspace, function: &str, variant: Variant) -> PathBuf {
    workspace
        .target_dir
        .join("aws-logs")
        .join(format!("{function}{}.log", variant.scope))
}

/// `cargo xtask build aws [EXAMPLE]`: `cargo lambda build --profile lambda` of
/// one example's functions, or of every example's, for x86_64 and arm64
/// (`$CARGO_TARGET_DIR/lambda/{example}-{function}/bootstrap` and
/// `lambda-arm64/…`; one target directory, so shared dependencies build
/// once per architecture), each bootstrap checked.
pub fn build(workspace: &Workspace, example: Option<&str>) -> Result<()> {
    let examples: Vec<&Example> = match example {
        Some(name) => vec![Example::named(name)?],
        None => EXAMPLES.iter().collect(),
    };
    let bin = venv()?;
    add_arm64_target()?;
    for arch in Arch::ALL {
        release_build(workspace, &examples, &bin, ReleaseBuild::Deploy, arch)?
            .finish(RELEASE_BUILD_TIMEOUT)
            .with_context(|| {
                format!(
                    "cargo lambda build --profile {DEPLOY_PROFILE} ({})",
                    arch.name()
                )
            })?;
    }
    report_bootstraps(workspace, &examples, ReleaseBuild::Deploy)
}

/// The workspace profile of what a deploy uploads (`Cargo.toml`).
const DEPLOY_PROFILE: &str = "lambda";

/// Issue 18's goal for a deployed bootstrap, stripped: 8 MB.
const BOOTSTRAP_GOAL_BYTES: u64 = 8_000_000;

/// A Lambda architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    const ALL: [Arch; 2] = [Arch::X86_64, Arch::Arm64];

    fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// Where its bootstraps go, under the target directory.
    fn lambda_dir(self, workspace: &Workspace) -> PathBuf {
        workspace.target_dir.join(match self {
            Arch::X86_64 => "lambda",
            Arch::Arm64 => "lambda-arm64",
        })
    }
}

/// arm64 builds need rustup's aarch64 std (zig from PyPI links them).
fn add_arm64_target() -> Result<()> {
    Cmd::new("rustup")
        .args(["target", "add", "aarch64-unknown-linux-gnu"])
        .timeout(Duration::from_secs(300))
        .run()
        .context("the arm64 Lambda build needs rustup's aarch64-unknown-linux-gnu std")
}

/// How long the release build of every function may take, cold.
const RELEASE_BUILD_TIMEOUT: Duration = Duration::from_secs(3600);

/// How a release build of the functions runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReleaseBuild {
    /// What a deploy uploads: the workspace's `lambda` profile (fat LTO,
    /// one code unit, stripped, panics unwind), in the foreground.
    Deploy,
    /// The test command's check that every function builds for Lambda: the
    /// same code, targets and linker (zig), without the release profile's
    /// thin LTO, whose whole-program pass per binary took most of the time
    /// (about 400 s for each of 13 binaries on a loaded machine), and
    /// without debug info; under `nice`, its output in a log.
    Check,
}

/// Starts `cargo lambda build --release` of `examples`' functions for
/// `arch` (zig from PyPI links them for Amazon Linux's glibc).
fn release_build(
    workspace: &Workspace,
    examples: &[&Example],
    bin: &Path,
    kind: ReleaseBuild,
    arch: Arch,
) -> Result<ChildGuard> {
    let mut cmd = match kind {
        ReleaseBuild::Deploy => Cmd::new(bin.join("cargo-lambda")),
        ReleaseBuild::Check => Cmd::new("nice")
            .args(["-n", "19"])
            .arg(bin.join("cargo-lambda"))
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
            // Line tables made each bootstrap about 100 MB to link.
            .env("CARGO_PROFILE_RELEASE_DEBUG", "false"),
    };
    cmd = match kind {
        ReleaseBuild::Deploy => cmd.args(["lambda", "build", "--profile", DEPLOY_PROFILE]),
        ReleaseBuild::Check => cmd.args(["lambda", "build", "--release"]),
    };
    cmd = cmd.arg("--lambda-dir").arg(arch.lambda_dir(workspace));
    if arch == Arch::Arm64 {
        cmd = cmd.arg("--arm64");
    }
    for example in examples {
        cmd = cmd.args(["-p", example.package]);
    }
    cmd = cmd
        .current_dir(&workspace.root)
        .env("PATH", path_with(bin)?)
        .env("CARGO_TARGET_DIR", &workspace.target_dir);
    if kind == ReleaseBuild::Check {
        let log = release_build_log(workspace, arch);
        eprintln!(
            "xtask: aws: cargo lambda build --release logs to {}",
            log.display()
        );
        cmd = cmd.output_to(&log)?;
    }
    cmd.spawn()
}

/// The release build of every function that the `lambda-build` step of
/// `cargo xtask test` starts and the `lambda-bootstraps` step checks: in
/// between it runs under `nice` beside the steps that mostly wait on
/// sockets (workerd, the emulator, Chromium, Autobahn), so it costs the
/// run little time.
static RELEASE_BUILD: Mutex<Option<(Vec<ChildGuard>, Instant)>> = Mutex::new(None);

/// The `lambda-build` step: starts `cargo lambda build --release` of every
/// function in the background ([`ReleaseBuild::Check`]).
pub fn start_release_build(workspace: &Workspace) -> Result<()> {
    let examples: Vec<&Example> = EXAMPLES.iter().collect();
    let bin = venv()?;
    add_arm64_target()?;
    let mut children = Vec::new();
    for arch in Arch::ALL {
        // No bootstrap of an earlier build may pass for this one's.
        let dir = arch.lambda_dir(workspace);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        // Two target triples, two build directories: both build at once.
        children.push(release_build(
            workspace,
            &examples,
            &bin,
            ReleaseBuild::Check,
            arch,
        )?);
    }
    *release_build_slot() = Some((children, Instant::now()));
    Ok(())
}

/// The `lambda-bootstraps` step: waits for the release build (starting it
/// if the `lambda-build` step was skipped) and checks every bootstrap.
pub fn check_release_build(workspace: &Workspace) -> Result<()> {
    if release_build_slot().is_none() {
        start_release_build(workspace)?;
    }
    let Some((children, started)) = release_build_slot().take() else {
        bail!("the release build did not start");
    };
    let waited = Instant::now();
    for (child, arch) in children.into_iter().zip(Arch::ALL) {
        child.finish(RELEASE_BUILD_TIMEOUT).with_context(|| {
            format!(
                "cargo lambda build --release for {} (its output: {})",
                arch.name(),
                release_build_log(workspace, arch).display()
            )
        })?;
    }
    eprintln!(
        "xtask: aws: cargo lambda build --release finished {:.1} s after it started, {:.1} s of it waited for here",
        started.elapsed().as_secs_f64(),
        waited.elapsed().as_secs_f64()
    );
    let examples: Vec<&Example> = EXAMPLES.iter().collect();
    report_bootstraps(workspace, &examples, ReleaseBuild::Check)
}

/// Stops a release build nobody waited for (a run that skipped the check).
pub fn stop_release_build() {
    drop(release_build_slot().take());
}

fn release_build_slot() -> std::sync::MutexGuard<'static, Option<(Vec<ChildGuard>, Instant)>> {
    RELEASE_BUILD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Where the background release build writes its output.
fn release_build_log(workspace: &Workspace, arch: Arch) -> PathBuf {
    workspace
        .target_dir
        .join(format!("lambda-release-build-{}.log", arch.name()))
}

/// Checks that every function of `examples` has its bootstrap and prints
/// their sizes; a deploy build's (stripped) against [`BOOTSTRAP_GOAL_BYTES`].
fn report_bootstraps(
    workspace: &Workspace,
    examples: &[&Example],
    kind: ReleaseBuild,
) -> Result<()> {
    let mut missing = Vec::new();
    for arch in Arch::ALL {
        for example in examples {
            for function in example.functions {
                let name = example.function(function);
                let bootstrap = arch.lambda_dir(workspace).join(&name).join("bootstrap");
                match std::fs::metadata(&bootstrap) {
                    Ok(meta) => eprintln!(
                        "xtask: aws: {name} ({}): {} ({:.2} MB{})",
                        arch.name(),
                        bootstrap.display(),
                        meta.len() as f64 / 1e6,
                        match kind {
                            ReleaseBuild::Deploy => goal_verdict(meta.len()),
                            ReleaseBuild::Check => ", not stripped".to_owned(),
                        }
                    ),
                    Err(_) => missing.push(format!("{name} ({})", arch.name())),
                }
            }
        }
    }
    if !missing.is_empty() {
        bail!("cargo lambda build --release made no bootstrap for {missing:?}");
    }
    Ok(())
}

/// How a stripped bootstrap of `bytes` stands against the goal.
fn goal_verdict(bytes: u64) -> String {
    let goal = BOOTSTRAP_GOAL_BYTES as f64 / 1e6;
    if bytes <= BOOTSTRAP_GOAL_BYTES {
        format!(", stripped: within the {goal:.0} MB goal")
    } else {
        format!(", stripped: over the {goal:.0} MB goal")
    }
}

/// `cargo xtask dev aws [EXAMPLE] --port P`: serves one example until Ctrl-C.
pub fn dev(workspace: &Workspace, example: Option<&str>, port: u16) -> Result<()> {
    let example = Example::named(example.unwrap_or("chat"))?;
    let bin = venv()?;
    let built = build_all(workspace, &[example])?;
    let token = std::env::var("CHAT_TOKEN").ok().filter(|t| !t.is_empty());
    let services = start_services(workspace, &bin)?;
    let mut deployment = deploy(
        workspace,
        &built,
        &services,
        example,
        port,
        token.as_deref(),
        Variant::default(),
    )?;
    eprintln!(
        "xtask: the {0} on AWS (emulated) is at http://{1}/ (WebSocket ws://{1}/api/ws); \
         DynamoDB (moto) at http://{2}. Ctrl-C stops it.",
        example.name, deployment.emulator, services.moto
    );
    while !interrupted() {
        deployment.ensure_running()?;
        thread::sleep(Duration::from_millis(300));
    }
    Ok(())
}

/// The `aws` step of `cargo xtask test`: every example.
pub fn test(workspace: &Workspace) -> Result<()> {
    test_examples(workspace, &[])
}

/// `cargo xtask test-aws [EXAMPLE]...`: cfn-lint on the templates, one
/// build, then each example's live tests against its own deployment (moto
/// and the runtime API shared). No names: every example.
pub fn test_examples(workspace: &Workspace, names: &[String]) -> Result<()> {
    let examples: Vec<&Example> = if names.is_empty() {
        EXAMPLES.iter().collect()
    } else {
        names
            .iter()
            .map(|n| Example::named(n))
            .collect::<Result<_>>()?
    };
    let bin = venv()?;
    validate_templates(workspace, &examples, &bin)?;
    let started = Instant::now();
    let built = build_all(workspace, &examples)?;
    eprintln!(
        "xtask: aws: built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let services = start_services(workspace, &bin)?;
    let mut failed = Vec::new();
    // Each deployment stays up after its live tests, for the browser tests.
    let mut deployments = Vec::new();
    for example in &examples {
        let started = Instant::now();
        let result = test_example(workspace, &built, &services, example);
        eprintln!(
            "xtask: aws {}: {} in {:.1} s",
            example.name,
            if result.is_ok() { "passed" } else { "FAILED" },
            started.elapsed().as_secs_f64()
        );
        match result {
            Ok(deployment) => deployments.push((example.name, deployment)),
            Err(error) => {
                eprintln!("xtask: aws {}: {error:#}", example.name);
                failed.push(example.name);
            }
        }
    }
    if deployments.len() == EXAMPLES.len() {
        // Every example page in Chromium through the emulators.
        let started = Instant::now();
        let urls: Vec<(&str, String)> = deployments
            .iter()
            .map(|(name, deployment)| (*name, format!("http://{}", deployment.emulator)))
            .collect();
        let pages = browser::run_pages(workspace, browser::Target::Aws, &urls, Some(TEST_TOKEN));
        eprintln!(
            "xtask: aws browser tests {} in {:.1} s",
            if pages.is_ok() { "passed" } else { "FAILED" },
            started.elapsed().as_secs_f64()
        );
        if let Err(error) = pages {
            eprintln!("xtask: aws browser tests: {error:#}");
            failed.push("browser");
        }
    }
    if !failed.is_empty() {
        bail!("the AWS tests of {failed:?} failed");
    }
    Ok(())
}

/// The offline checks of the SAM templates: cfn-lint (CloudFormation's
/// schemas and best practices, the SAM transform included) on all at once,
/// then `sam validate` on each (the SAM translator, as `sam deploy` runs it).
fn validate_templates(workspace: &Workspace, examples: &[&Example], bin: &Path) -> Result<()> {
    let mut lint = Cmd::new(bin.join("cfn-lint"));
    for example in examples {
        lint = lint.arg(example.template(workspace));
    }
    lint.timeout(Duration::from_secs(300))
        .run()
        .context("cfn-lint found problems in the examples' template.yaml")?;
    for example in examples {
        Cmd::new(bin.join("sam"))
            .args(["validate", "--region", "us-east-1", "--template"])
            .arg(example.template(workspace))
            // No telemetry and no credentials: the translator runs locally.
            .env("SAM_CLI_TELEMETRY", "0")
            .env_remove("AWS_PROFILE")
            .timeout(Duration::from_secs(120))
            .run()
            .with_context(|| format!("sam validate of {}", example.dir))?;
    }
    Ok(())
}

/// Deploys `example` and runs its live tests; the deployment is returned
/// still running.
fn test_example(
    workspace: &Workspace,
    built: &Built,
    services: &Services,
    example: &Example,
) -> Result<Deployment> {
    // The stream tests first, on a deployment of their own stopped after
    // them: functions poll the one runtime API by name, so two deployments
    // of an example running at once would take each other's invocations.
    if let Some((test, environments)) = example.stream_tests {
        let variant = Variant {
            no_schedules: true,
            url_environments: Some(environments),
            ..Variant::default()
        };
        // The page runs even when a test failed, so one run shows both.
        let page = |deployment: &Deployment| {
            example.stream_page.map_or(Ok(()), |(page, tick)| {
                browser::run_stream_page(
                    workspace,
                    &browser::StreamPage {
                        label: "aws",
                        example: example.name,
                        url: &format!("http://{}", deployment.emulator),
                        page,
                        tick: &format!("/@xws/schedules/{}", example.function(tick)),
                    },
                )
            })
        };
        drop(run_tests(
            workspace, built, services, example, test, variant, page,
        )?);
    }
    for (test, env) in example.variant_tests {
        let variant = Variant {
            scope: "-variant",
            env,
            ..Variant::default()
        };
        drop(run_tests(
            workspace,
            built,
            services,
            example,
            test,
            variant,
            |_| Ok(()),
        )?);
    }
    run_tests(
        workspace,
        built,
        services,
        example,
        "live",
        Variant::default(),
        |_| Ok(()),
    )
}

/// Runs the test target `test` of `example` against a deployment of its
/// own, then `after` on it even when a test failed; the deployment is
/// returned still running.
fn run_tests(
    workspace: &Workspace,
    built: &Built,
    services: &Services,
    example: &Example,
    test: &str,
    variant: Variant,
    after: impl FnOnce(&Deployment) -> Result<()>,
) -> Result<Deployment> {
    let dir = workspace.root.join(example.dir);
    let tests = built
        .tests
        .get(&(dir.clone(), test.to_owned()))
        .with_context(|| format!("the build produced no {test} tests for {}", example.dir))?;
    let deployment = deploy(
        workspace,
        built,
        services,
        example,
        free_port()?,
        Some(TEST_TOKEN),
        variant,
    )?;
    let ws_log = function_log(workspace, &example.function("ws"), variant);
    let tests = Cmd::new(tests)
        .args(test_args(variant))
        .current_dir(&dir)
        .env("XWS_AWS_WS_LOG", ws_log)
        .env("XWS_AWS_EMULATOR", deployment.emulator.to_string())
        .env("XWS_AWS_TOKEN", TEST_TOKEN)
        .timeout(Duration::from_secs(900));
    // The tests publish and read through their own `xws_aws::Aws`, like a
    // function.
    let tested = aws_env(tests, example, services, deployment.emulator, variant)
        .run()
        .with_context(|| format!("the {} AWS {test} tests failed", example.name));
    tested.and(after(&deployment))?;
    Ok(deployment)
}

/// The test binary's arguments: one test at a time for a deployment whose
/// publications are the tests' own (each expects to see only its own).
fn test_args(variant: Variant) -> &'static [&'static str] {
    // A variant's tests count what its functions log.
    if variant.no_schedules || !variant.scope.is_empty() {
        &["--test-threads=1"]
    } else {
        &[]
    }
}

/// The AWS part of `cargo xtask bench-targets`: the chat deployed on the
/// local stack (moto recording its requests); first the ws function's
/// start-up (a fresh bootstrap started with a client connecting at once,
/// against the warm one), then the load driver's fan-outs to each of
/// `subscribers`. Start-up goes first: after the 100-subscriber room leaves
/// at once, the local stack has been seen to stop answering for minutes.
pub fn bench_targets(
    workspace: &Workspace,
    driver: &Path,
    out: &Path,
    subscribers: &str,
    publications: u32,
) -> Result<()> {
    let example = Example::named("chat")?;
    let bin = venv()?;
    let built = build_all(workspace, &[example])?;
    let services = start_services(workspace, &bin)?;
    let port = free_port()?;
    // No token: the chat open, as a deployment without CHAT_TOKEN.
    let variant = Variant::default();
    let mut deployment = deploy(workspace, &built, &services, example, port, None, variant)?;
    let ws = example.function("ws");
    let index = deployment
        .functions
        .iter()
        .position(|(name, _)| *name == ws)
        .context("the deployment has no ws function")?;
    let emulator = deployment.emulator;
    let welcome = |wait| crate::bench_targets::websocket_welcome(emulator, WS_PATH, wait);
    // The first one creates the table; then the function is warm.
    welcome(Duration::from_secs(120))?;
    let warm = crate::bench_targets::median(
        (0..7)
            .map(|_| welcome(Duration::from_secs(30)))
            .collect::<Result<_>>()?,
    );
    // A fresh bootstrap, a client connecting as it starts (its `$connect`
    // queued in the runtime API until the function asks for it). The old
    // one is stopped first, and whatever it had asked the runtime API for
    // is let go.
    let cmd = function_cmd(
        workspace, &built, &services, example, port, "ws", None, variant,
    )?;
    drop(deployment.children.remove(index));
    thread::sleep(Duration::from_secs(2));
    let started = Instant::now();
    let fresh = cmd.spawn()?;
    deployment.functions[index].1 = fresh.id();
    deployment.children.insert(index, fresh);
    welcome(Duration::from_secs(60))?;
    let cold = started.elapsed();
    eprintln!(
        "xtask: aws: ws function start-up: {:.1} ms fresh, {:.1} ms warm",
        cold.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3
    );
    Cmd::new(driver)
        .arg("--out")
        .arg(out)
        .arg("aws-cold")
        .arg("--cold-ms")
        .arg(format!("{:.3}", cold.as_secs_f64() * 1e3))
        .arg("--warm-ms")
        .arg(format!("{:.3}", warm.as_secs_f64() * 1e3))
        .arg("--binary")
        .arg(built.bin(&ws)?)
        .timeout(Duration::from_secs(60))
        .run()?;
    let memory_mb = template_memory_mb(&std::fs::read_to_string(example.template(workspace))?)
        .context("template.yaml names no MemorySize")?;
    Cmd::new(driver)
        .arg("--out")
        .arg(out)
        .arg("aws")
        .arg("--url")
        .arg(format!("ws://{emulator}{WS_PATH}"))
        .arg("--emulator")
        .arg(emulator.to_string())
        .arg("--moto")
        .arg(services.moto.to_string())
        .arg("--pid")
        .arg(format!("ws function={}", deployment.functions[index].1))
        .args(["--subscribers", subscribers])
        .arg("--publications")
        .arg(publications.to_string())
        .arg("--memory-mb")
        .arg(memory_mb.to_string())
        .timeout(Duration::from_secs(30 * 60))
        .run()?;
    deployment.ensure_running()
}

/// The `MemorySize` of a SAM template (its `Globals`' or the first
/// function's).
fn template_memory_mb(template: &str) -> Option<u32> {
    template
        .lines()
        .find_map(|line| line.trim().strip_prefix("MemorySize:"))
        .and_then(|size| size.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_size_is_read_from_the_template() {
        let template = "Globals:\n  Function:\n    Runtime: provided.al2023\n    MemorySize: 256\n";
        assert_eq!(template_memory_mb(template), Some(256));
        assert_eq!(template_memory_mb("Globals: {}\n"), None);
    }
}
