//! `xws-vercel-local`: Vercel Rust functions behind the bridge protocol, as
//! a command.

use std::time::Duration;

use anyhow::Context as _;
use xws_vercel_local::{Harness, HarnessConfig};

const USAGE: &str = "\
usage: xws-vercel-local --function PATH=BINARY... [--port P] [--instances N]
                        [--max-duration SECONDS] [--env NAME=VALUE]...
                        [--public DIR]

  --function P=B      requests under path P run the function binary B (the
                      built [[bin]] of api/NAME.rs; repeatable)
  --port P            port on 127.0.0.1 (default 3000)
  --instances N       processes per function, sharing nothing (default 1)
  --max-duration S    a function's max duration (default 300, Vercel's)
  --env NAME=VALUE    a variable for every function (repeatable); the
                      harness's own environment is passed on too
  --public DIR        static files served at their paths, as Vercel serves
                      a project's public/ directory";

fn parse() -> Result<(HarnessConfig, u16), lexopt::Error> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let mut config = HarnessConfig::new(Vec::new());
    let mut port = 3000;
    while let Some(arg) = parser.next()? {
        match arg {
            Long("function") => config.functions.push(parser.value()?.parse()?),
            Long("port") => port = parser.value()?.parse()?,
            Long("instances") => config.instances = parser.value()?.parse()?,
            Long("max-duration") => {
                config.max_duration = Duration::from_secs(parser.value()?.parse()?);
            }
            Long("env") => {
                let pair = parser.value()?.string()?;
                let (name, value) = pair.split_once('=').ok_or("--env takes NAME=VALUE")?;
                config.env.push((name.to_owned(), value.to_owned()));
            }
            Long("public") => config.public = Some(parser.value()?.into()),
            Long("help") | Short('h') => {
                tracing::info!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    if config.functions.is_empty() {
        return Err("at least one --function is required".into());
    }
    Ok((config, port))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let (config, port) = parse().map_err(|e| anyhow::anyhow!("{e}\n{USAGE}"))?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    let harness = Harness::start(config.clone()).await?;
    for function in &config.functions {
        tracing::info!(
            "http://127.0.0.1:{port}{} -> {} ({} instances, max duration {:?})",
            function.path,
            function.binary.display(),
            config.instances,
            config.max_duration
        );
    }
    tokio::select! {
        served = harness.serve(listener) => served.context("serving")?,
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
    }
    Ok(())
}
