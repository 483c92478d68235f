//! One running instance of a function: its process, its port and its IPC
//! connection.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use tokio::net::UnixListener;
use tokio::process::{Child, Command};

use crate::bridge::{BridgeMessage, BridgeReader};
use crate::{Function, Stats};

/// How long a function may take to report `server-started`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A function process and where it listens.
#[derive(Debug)]
pub struct Instance {
    /// Which instance of its function (0, 1, …).
    pub index: usize,
    /// Its HTTP port on 127.0.0.1.
    pub port: u16,
    /// Its function's path.
    pub function: String,
    child: Child,
    socket: PathBuf,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.reader.abort();
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn free_port() -> Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn socket_path(function: &Function, index: usize) -> PathBuf {
    let name: String = function
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    std::env::temp_dir().join(format!(
        "xws-vercel-local-{}-{name}-{index}-{}.sock",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ))
}

impl Instance {
    /// Starts instance `index` of `function` with `env`, and waits for its
    /// `server-started` message. A free port can be taken by another process
    /// between the check and the function's bind: two more tries, each with
    /// a new port.
    pub(crate) async fn start(
        function: &Function,
        index: usize,
        env: &[(String, String)],
        stats: Arc<Stats>,
    ) -> Result<Self> {
        let mut attempt = 1;
        loop {
            match Self::start_once(function, index, env, stats.clone()).await {
                Ok(instance) => return Ok(instance),
                Err(error) if attempt < 3 => {
                    tracing::warn!(function = %function.path, index, %error, "starting again");
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn start_once(
        function: &Function,
        index: usize,
        env: &[(String, String)],
        stats: Arc<Stats>,
    ) -> Result<Self> {
        let socket = socket_path(function, index);
        let listener = UnixListener::bind(&socket)
            .with_context(|| format!("binding the IPC socket {}", socket.display()))?;
        // The runtime binds 3000 unless told otherwise; several instances
        // on one machine each need their own port.
        let port = free_port()?;
        let mut child = Command::new(&function.binary)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("VERCEL_IPC_PATH", &socket)
            .env("VERCEL_DEV_PORT", port.to_string())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", function.binary.display()))?;
        let accepted = tokio::select! {
            accepted = tokio::time::timeout(START_TIMEOUT, listener.accept()) => accepted,
            status = child.wait() => bail!("{} exited before connecting to the bridge: {status:?}", function.binary.display()),
        };
        let (stream, _) = accepted
            .with_context(|| {
                format!(
                    "{} did not connect to the bridge within {START_TIMEOUT:?}",
                    function.binary.display()
                )
            })?
            .context("accepting the IPC connection")?;
        let mut reader = BridgeReader::new(stream);
        let http_port = match tokio::time::timeout(START_TIMEOUT, reader.next()).await {
            Ok(Some(Ok(BridgeMessage::ServerStarted { http_port, .. }))) => http_port,
            other => bail!(
                "expected a server-started message from {}, got {other:?}",
                function.binary.display()
            ),
        };
        let label = format!("{}#{index}", function.path);
        let reader = tokio::spawn(read_messages(reader, label, stats));
        tracing::info!(function = %function.path, index, port = http_port, "instance started");
        Ok(Self {
            index,
            port: http_port,
            function: function.path.clone(),
            child,
            socket,
            reader,
        })
    }

    /// The binary is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The socket path the instance reports to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

/// Counts `end` messages and prints logs, until the function disconnects.
async fn read_messages(mut reader: BridgeReader, label: String, stats: Arc<Stats>) {
    while let Some(message) = reader.next().await {
        match message {
            Ok(BridgeMessage::End { context, error }) => {
                stats.end(&context.invocation_id);
                if let Some(error) = error {
                    tracing::warn!(instance = %label, invocation = %context.invocation_id, %error, "the function reported an error");
                }
            }
            Ok(log @ BridgeMessage::Log { .. }) => {
                Stats::bump(&stats.logs);
                let text = log.log_text().unwrap_or_default();
                tracing::info!(instance = %label, "{}", text.trim_end());
            }
            Ok(BridgeMessage::ServerStarted { .. } | BridgeMessage::Other) => {}
            Err(error) => {
                tracing::warn!(instance = %label, %error, "a bridge message did not parse");
                Stats::bump(&stats.bad_messages);
            }
        }
    }
    tracing::info!(instance = %label, "the function closed its bridge connection");
}
