//! The AWS stack, locally: moto (DynamoDB), `cargo lambda watch` running the
//! chat's `ws` and `http` functions, and the `xws-aws-local` API Gateway
//! emulator in front. `cargo xtask dev aws --port P` serves the chat at
//! `ws://127.0.0.1:P/api/ws` (and `POST /api/broadcast`, the page at `/`);
//! `cargo xtask test aws` runs the conformance suite and the AWS tests
//! against it, and validates the SAM template with cfn-lint.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::Workspace;
use crate::process::{ChildGuard, Cmd, interrupted, port_is_open, wait_for_port};
use crate::tools;

/// Pinned PyPI tools, installed into a venv in the tools cache.
const PYPI: &[&str] = &[
    "moto[server]==5.2.5",
    "cargo-lambda==1.9.2",
    "cfn-lint==1.58.0",
];
/// The token the test stack runs with, so the suite checks auth too.
const TEST_TOKEN: &str = "s3cret token";
/// The chat's functions, built once before `cargo lambda watch` starts.
const FUNCTIONS: &str = "chat-aws";

/// The running stack; dropping it stops every process.
struct Stack {
    emulator: SocketAddr,
    moto: SocketAddr,
    children: Vec<ChildGuard>,
}

impl Stack {
    fn ensure_running(&mut self) -> Result<()> {
        self.children
            .iter_mut()
            .try_for_each(ChildGuard::ensure_running)
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn venv() -> Result<PathBuf> {
    tools::pip_install("aws", PYPI)
}

/// Starts moto, the functions and the emulator; `port` is the emulator's.
fn start(workspace: &Workspace, port: u16, token: Option<&str>) -> Result<Stack> {
    let bin = venv()?;
    let emulator = local(port);
    if port_is_open(emulator) {
        bail!("port {port} is taken");
    }
    workspace
        .cargo()
        .args(["build", "-p", FUNCTIONS, "--bins", "-p", "xws-aws-local"])
        .env("CARGO_TARGET_DIR", &workspace.target_dir)
        .timeout(Duration::from_secs(1800))
        .run()
        .context("building the functions and the emulator")?;
    let moto = local(free_port()?);
    let mut children = vec![
        Cmd::new(bin.join("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &moto.port().to_string()])
            .spawn()?,
    ];
    wait_for_port(moto, Duration::from_secs(60), "moto")?;

    let lambda = local(free_port()?);
    let emulator_url = format!("http://{emulator}");
    let mut watch = Cmd::new(bin.join("cargo-lambda"))
        .args(["lambda", "watch", "--ignore-changes", "-A", "127.0.0.1"])
        .args(["-P", &lambda.port().to_string()])
        .current_dir(workspace.root.join("examples/chat-aws"))
        // cargo-lambda finds zig and itself through the venv.
        .env("PATH", path_with(&bin)?)
        .env("CARGO_TARGET_DIR", &workspace.target_dir)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{moto}"))
        .env("AWS_ENDPOINT_URL_LAMBDA", &emulator_url)
        .env("XWS_APIGW_ENDPOINT", &emulator_url)
        .env("XWS_SELF_FUNCTION", "ws")
        .env("XWS_TABLE", "xws-chat")
        .env("XWS_CREATE_TABLE", "1")
        .env("RUST_LOG", "info");
    watch = match token {
        Some(token) => watch.env("CHAT_TOKEN", token),
        None => watch.env_remove("CHAT_TOKEN"),
    };
    children.push(watch.spawn()?);
    // `cargo lambda watch` exits 0 without a word when its port is taken:
    // wait for the port, then make sure it is still ours.
    wait_for_port(lambda, Duration::from_secs(120), "cargo lambda watch")?;
    children.last_mut().expect("just pushed").ensure_running()?;

    let invoke = |name: &str| format!("http://{lambda}/2015-03-31/functions/{name}/invocations");
    children.push(
        Cmd::new(workspace.target_dir.join("debug/xws-aws-local"))
            .args(["--port", &port.to_string(), "--ws-path", "/api/ws"])
            .args([
                "--function",
                &invoke("ws"),
                "--http-function",
                &invoke("http"),
            ])
            .spawn()?,
    );
    wait_for_port(
        emulator,
        Duration::from_secs(30),
        "the API Gateway emulator",
    )?;
    let mut stack = Stack {
        emulator,
        moto,
        children,
    };
    stack.ensure_running()?;
    Ok(stack)
}

fn path_with(bin: &std::path::Path) -> Result<std::ffi::OsString> {
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).context("building PATH")
}

/// `cargo xtask build aws`: `cargo lambda build --release` of the chat's
/// functions (`$CARGO_TARGET_DIR/lambda/{ws,http,tick}/bootstrap`).
pub fn build(workspace: &Workspace) -> Result<()> {
    let bin = venv()?;
    Cmd::new(bin.join("cargo-lambda"))
        .args(["lambda", "build", "--release", "-p", FUNCTIONS])
        .current_dir(workspace.root.join("examples/chat-aws"))
        .env("PATH", path_with(&bin)?)
        .env("CARGO_TARGET_DIR", &workspace.target_dir)
        .timeout(Duration::from_secs(3600))
        .run()
        .context("cargo lambda build --release")
}

/// `cargo xtask dev aws --port P`: serves the chat until Ctrl-C.
pub fn dev(workspace: &Workspace, port: u16) -> Result<()> {
    let token = std::env::var("CHAT_TOKEN").ok().filter(|t| !t.is_empty());
    let mut stack = start(workspace, port, token.as_deref())?;
    eprintln!(
        "xtask: the chat on AWS (emulated) is at http://{0}/ (WebSocket ws://{0}/api/ws, \
         POST /api/broadcast); DynamoDB (moto) at http://{1}. Ctrl-C stops it.",
        stack.emulator, stack.moto
    );
    while !interrupted() {
        stack.ensure_running()?;
        thread::sleep(Duration::from_millis(300));
    }
    Ok(())
}

/// `cargo xtask test aws`: cfn-lint on the template, then the conformance
/// suite and the AWS tests against the local stack.
pub fn test(workspace: &Workspace) -> Result<()> {
    let bin = venv()?;
    Cmd::new(bin.join("cfn-lint"))
        .arg(workspace.root.join("examples/chat-aws/template.yaml"))
        .timeout(Duration::from_secs(300))
        .run()
        .context("cfn-lint found problems in examples/chat-aws/template.yaml")?;
    let stack = start(workspace, free_port()?, Some(TEST_TOKEN))?;
    workspace
        .cargo()
        .args([
            "test",
            "-p",
            FUNCTIONS,
            "--features",
            "live",
            "--test",
            "live",
        ])
        .env("CARGO_TARGET_DIR", &workspace.target_dir)
        .env("XWS_AWS_EMULATOR", stack.emulator.to_string())
        .env("XWS_AWS_TOKEN", TEST_TOKEN)
        // The tests publish through their own `xws_aws::Aws`, like a function.
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env(
            "AWS_ENDPOINT_URL_DYNAMODB",
            format!("http://{}", stack.moto),
        )
        .env("XWS_TABLE", "xws-chat")
        .env("XWS_APIGW_ENDPOINT", format!("http://{}", stack.emulator))
        .timeout(Duration::from_secs(1800))
        .run()
        .context("the AWS tests failed")
}
