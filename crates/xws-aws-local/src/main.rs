//! `xws-aws-local`: the local API Gateway emulator as a command.

use anyhow::Context;
use std::time::Duration;
use xws_aws_local::{Emulator, EmulatorConfig};

const USAGE: &str = "\
usage: xws-aws-local --function URL [--http-function URL] [--port P] [--ws-path PATH]
                     [--stage NAME] [--idle-timeout SECONDS] [--schedule FUNCTION=RATE]...
                     [--function-url PATH=FUNCTION]... [--template FILE]

  --function URL        invoke URL of the WebSocket function, e.g.
                        http://127.0.0.1:9000/2015-03-31/functions/ws/invocations
  --http-function URL   invoke URL of the function plain HTTP requests go to
  --port P              port on 127.0.0.1 (default 3000)
  --ws-path PATH        path WebSocket upgrades are accepted on (default /)
  --stage NAME          stage name in events (default local)
  --idle-timeout S      close idle connections after S seconds (default 600)
  --schedule F=RATE     invoke function F every RATE (e.g. tick=2s) with an
                        EventBridge `Scheduled Event`, at the Lambda endpoint
                        of --function (repeatable)
  --function-url P=F    requests under path P go to function F's URL at the
                        Lambda endpoint of --function, the answer streamed
                        back (response-streaming mode; repeatable)
  --template FILE       the SAM template: its WebSocket API's MOCK routes are
                        answered without invoking the function";

fn parse() -> Result<(EmulatorConfig, u16, Option<String>), lexopt::Error> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let mut function = None;
    let mut config = EmulatorConfig::new("");
    let mut port = 3000;
    let mut template = None;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("function") => function = Some(parser.value()?.string()?),
            Long("http-function") => config.http_function = Some(parser.value()?.string()?),
            Long("port") => port = parser.value()?.parse()?,
            Long("ws-path") => config.ws_path = parser.value()?.string()?,
            Long("stage") => config.stage = parser.value()?.string()?,
            Long("idle-timeout") => {
                config.idle_timeout = Duration::from_secs(parser.value()?.parse()?);
            }
            Long("schedule") => config.schedules.push(parser.value()?.parse()?),
            Long("function-url") => config.function_urls.push(parser.value()?.parse()?),
            Long("template") => template = Some(parser.value()?.string()?),
            Long("help") | Short('h') => {
                tracing::info!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    config.ws_function = function.ok_or("--function is required")?;
    Ok((config, port, template))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let (mut config, port, template) = parse().map_err(|e| anyhow::anyhow!("{e}\n{USAGE}"))?;
    if let Some(path) = template {
        let yaml = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the template {path}"))?;
        config.routes = xws_aws_local::WsRoutes::from_template(&yaml)
            .with_context(|| format!("the template {path}"))?;
        let keys: Vec<_> = config.routes.mock_keys().collect();
        tracing::info!(?keys, "MOCK routes from {path}");
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    tracing::info!(
        "API Gateway emulator on ws://127.0.0.1:{port}{} -> {}",
        config.ws_path,
        config.ws_function
    );
    let emulator = Emulator::new(config);
    tokio::select! {
        served = emulator.serve(listener) => served.context("serving")?,
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
    }
    Ok(())
}
