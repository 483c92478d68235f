//! The benchmark run: build and install the servers, run every scenario against each in turn
//! (alternating the order every round), write the results, the table and the chart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use crate::load::{chat, connect, echo, fanout};
use crate::metrics_check;
use crate::peers::Peers;
use crate::placement::Placement;
use crate::results::Results;
use crate::scenario::{Metric, Plan, Role, Scenario};
use crate::server::{Launch, RunningServer};
use crate::{build, machine};

/// Options of a run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The workspace root (where `cargo build` runs).
    pub workspace: PathBuf,
    /// Where results go.
    pub out_dir: PathBuf,
    /// Where the JavaScript peers are installed.
    pub peers_dir: PathBuf,
    /// Sizes and durations.
    pub plan: Plan,
    /// Servers to run, by name (all when empty).
    pub servers: Vec<String>,
    /// Scenarios to run (all when empty).
    pub scenarios: Vec<Scenario>,
    /// The runner's arguments as given, for the record.
    pub arguments: String,
    /// Also write the report to `BENCHMARKS.md` at the workspace root.
    pub record: bool,
    /// Which CPUs the server and the load generator run on.
    pub placement: Placement,
}

/// Every server name, in column order.
pub const SERVERS: [&str; 7] = [
    "xws-tokio",
    "xws-tokio-no-history",
    "xws-tokio-deflate",
    "tokio-tungstenite",
    "fastwebsockets",
    "crossws-node",
    "bun",
];

/// Where a server answers one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) launch: Launch,
    pub(crate) path: &'static str,
    /// Whether the load client offers permessage-deflate.
    pub(crate) offer_deflate: bool,
}

/// A server's endpoints per role, or why it has none.
#[derive(Debug, Clone)]
pub(crate) struct Contender {
    pub(crate) name: &'static str,
    pub(crate) echo: Result<Endpoint, String>,
    chat: Result<Endpoint, String>,
}

impl Contender {
    fn endpoint(&self, role: Role) -> Result<&Endpoint, &str> {
        match role {
            Role::Echo => self.echo.as_ref(),
            Role::Chat => self.chat.as_ref(),
        }
        .map_err(String::as_str)
    }
}

/// Runs the benchmark and returns the results (also written to `options.out_dir`).
pub async fn run(options: &Options) -> anyhow::Result<Results> {
    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("creating {}", options.out_dir.display()))?;
    let scenarios: Vec<Scenario> = if options.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        Scenario::ALL
            .into_iter()
            .filter(|s| options.scenarios.contains(s))
            .collect()
    };
    let wanted =
        |name: &str| options.servers.is_empty() || options.servers.iter().any(|s| s == name);
    let peers = Peers::install(&options.peers_dir);
    if let Err(error) = &peers {
        tracing::warn!(%error, "the JavaScript peers are not available");
    }
    let contenders: Vec<Contender> = contenders(&options.workspace, peers.as_ref())?
        .into_iter()
        .filter(|contender| wanted(contender.name))
        .collect();
    let mut results = Results::new(contenders.iter().map(|c| c.name.to_owned()).collect());
    options.placement.pin_load_generator()?;
    tracing::info!("{}", options.placement);
    let load_before = machine::load_average();

    for round in 0..options.plan.rounds {
        let mut order: Vec<&Contender> = contenders.iter().collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for contender in order {
            tracing::info!(round, server = contender.name, "running scenarios");
            run_contender(
                contender,
                &scenarios,
                &options.plan,
                &options.out_dir,
                &options.placement,
                &mut results,
            )
            .await;
        }
    }

    let report = Report {
        options,
        scenarios: &scenarios,
        load: (load_before, machine::load_average()),
    };
    write_outputs(&results, &report, peers.ok().as_ref())?;
    Ok(results)
}

/// Runs every scenario against one server, restarting it when a scenario needs another
/// endpoint or after a failure.
async fn run_contender(
    contender: &Contender,
    scenarios: &[Scenario],
    plan: &Plan,
    out_dir: &Path,
    placement: &Placement,
    results: &mut Results,
) {
    let mut running: Option<(Endpoint, RunningServer)> = None;
    let mut connect_idle_done = false;
    for &scenario in scenarios {
        let endpoint = match contender.endpoint(scenario.role()) {
            Ok(endpoint) => endpoint.clone(),
            Err(reason) => {
                results.note(scenario, contender.name, reason);
                continue;
            }
        };
        if running
            .as_ref()
            .is_none_or(|(current, _)| *current != endpoint)
        {
            running = None;
            let log = out_dir.join(format!("{}-{:?}.log", contender.name, scenario.role()));
            match RunningServer::start_placed(&endpoint.launch, &log, placement).await {
                Ok(server) => running = Some((endpoint.clone(), server)),
                Err(error) => {
                    results.note(
                        scenario,
                        contender.name,
                        format!("server did not start: {error:#}"),
                    );
                    continue;
                }
            }
        }
        let Some((_, server)) = running.as_ref() else {
            continue;
        };
        let url = format!("ws://127.0.0.1:{}{}", server.port(), endpoint.path);
        connect::offer_deflate(endpoint.offer_deflate);
        let cpu_before = server.cpu_time().unwrap_or_default();
        let load_run = match scenario {
            Scenario::IdleMemory | Scenario::Connect10k if connect_idle_done => Ok(None),
            Scenario::IdleMemory | Scenario::Connect10k => {
                connect_idle_done = true;
                connect_idle(server, &url, plan.idle_connections, contender.name, results)
                    .await
                    .map(|()| None)
            }
            Scenario::EchoSmall => Ok(Some(echo::run(&url, plan.echo_small).await)),
            Scenario::Echo16k => Ok(Some(echo::run(&url, plan.echo_16k).await)),
            Scenario::ChatRoom => {
                let before = metrics_check::scrape(server.port()).await.ok();
                let outcome = chat::run(&url, plan.chat_room).await;
                if let Some(before) = before {
                    check_metrics(server.port(), before, &outcome, contender.name, results).await;
                }
                Ok(Some(outcome))
            }
            Scenario::Fanout10k => fanout::run(&url, plan.fanout).await.map(Some),
        };
        let cpu = server
            .cpu_time()
            .unwrap_or_default()
            .saturating_sub(cpu_before);
        let outcome = load_run.map(|measured| {
            if let Some(measured) = measured {
                results.record_outcome(scenario, contender.name, &measured);
                results.record_cpu(scenario, contender.name, cpu, &measured);
            }
        });
        if let Err(error) = outcome {
            tracing::warn!(
                server = contender.name,
                scenario = scenario.name(),
                "{error:#}"
            );
            results.note(scenario, contender.name, format!("{error:#}"));
            running = None;
        }
    }
}

/// `connect-10k` and `idle-memory` in one pass: time opening the connections, then read the
/// server's RSS growth while they sit idle.
async fn connect_idle(
    server: &RunningServer,
    url: &str,
    connections: usize,
    name: &str,
    results: &mut Results,
) -> anyhow::Result<()> {
    // Let the freshly started server settle before the baseline reading.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.rss_bytes()?;
    let opened = connect::connect_many(url, connections, connect::ClientProfile::Many).await;
    results.record(
        Scenario::Connect10k,
        name,
        Metric::Seconds,
        opened.elapsed.as_secs_f64(),
    );
    results.record(
        Scenario::Connect10k,
        name,
        Metric::Lost,
        opened.failed as f64,
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = server.rss_bytes()?;
    let held = opened.clients.len().max(1) as f64;
    let per_conn = after.saturating_sub(before) as f64 / held;
    results.record(Scenario::IdleMemory, name, Metric::BytesPerConn, per_conn);
    results.record(
        Scenario::IdleMemory,
        name,
        Metric::Lost,
        opened.failed as f64,
    );
    drop(opened);
    // Give the server a moment to tear the connections down before the next scenario.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

/// The xws examples: package and binary names, and where each speaks.
const XWS_ECHO: (&str, &str, &str) = ("echo", "echo", "/");
const XWS_CHAT: (&str, &str, &str) = ("chat", "chat", "/api/ws");

/// Builds the Rust servers and describes every contender.
pub(crate) fn contenders(
    workspace: &Path,
    peers: Result<&Peers, &anyhow::Error>,
) -> anyhow::Result<Vec<Contender>> {
    let packages = build::workspace_packages(workspace)?;
    let mut to_build = vec!["xws-bench"];
    for (package, _, _) in [XWS_ECHO, XWS_CHAT] {
        if packages.iter().any(|p| p == package) {
            to_build.push(package);
        }
    }
    let executables = build::build_release(workspace, &to_build)?;
    let native = |bin: &str, path: &'static str| -> Result<Endpoint, String> {
        let program = executables
            .get(bin)
            .ok_or_else(|| format!("binary `{bin}` was not built"))?;
        Ok(Endpoint {
            launch: Launch {
                program: program.clone(),
                args: vec![],
                cwd: None,
                env: vec![],
            },
            path,
            offer_deflate: false,
        })
    };
    let xws = |(package, bin, path): (&str, &'static str, &'static str)| {
        if packages.iter().any(|p| p == package) {
            native(bin, path)
        } else {
            Err(format!("the workspace has no `{package}` example yet"))
        }
    };
    let js = |launch: anyhow::Result<Launch>| -> Result<Endpoint, String> {
        launch
            .map(|launch| Endpoint {
                launch,
                path: "/",
                offer_deflate: false,
            })
            .map_err(|e| format!("{e:#}"))
    };
    let peer_error = |e: &anyhow::Error| format!("JavaScript peers not installed: {e:#}");
    let crossws = peers.map(Peers::crossws_node).map_err(peer_error);
    let bun = peers.map_err(peer_error).and_then(|peers| js(peers.bun()));
    let with_chat_path = |endpoint: Result<Endpoint, String>| {
        endpoint.map(|endpoint| Endpoint {
            path: crate::protocol::CHAT_PATH,
            ..endpoint
        })
    };
    let baseline_tungstenite = native("baseline-tungstenite", "/");
    let baseline_fastwebsockets = native("baseline-fastwebsockets", "/");
    let crossws = crossws.map(|launch| Endpoint {
        launch,
        path: "/",
        offer_deflate: false,
    });
    // The same servers with permessage-deflate on, and a client that
    // offers it: compression's CPU and memory beside xws-tokio's.
    let deflated = |endpoint: Result<Endpoint, String>| {
        endpoint.map(|endpoint| Endpoint {
            launch: Launch {
                env: vec![("XWS_PERMESSAGE_DEFLATE".to_owned(), "1".to_owned())],
                ..endpoint.launch
            },
            offer_deflate: true,
            ..endpoint
        })
    };
    let _: &HashMap<String, PathBuf> = &executables;
    Ok(vec![
        Contender {
            name: SERVERS[0],
            echo: xws(XWS_ECHO),
            chat: xws(XWS_CHAT),
        },
        // The same chat with rooms as plain topics: what history and
        // presence cost per message, side by side.
        Contender {
            name: SERVERS[1],
            echo: Err("history is a chat feature: see xws-tokio".to_owned()),
            chat: xws(XWS_CHAT).map(|endpoint| Endpoint {
                launch: Launch {
                    env: vec![("CHAT_HISTORY_SIZE".to_owned(), "0".to_owned())],
                    ..endpoint.launch
                },
                ..endpoint
            }),
        },
        Contender {
            name: SERVERS[2],
            echo: deflated(xws(XWS_ECHO)),
            chat: deflated(xws(XWS_CHAT)),
        },
        Contender {
            name: SERVERS[3],
            echo: baseline_tungstenite.clone(),
            chat: with_chat_path(baseline_tungstenite),
        },
        Contender {
            name: SERVERS[4],
            echo: baseline_fastwebsockets.clone(),
            chat: with_chat_path(baseline_fastwebsockets),
        },
        Contender {
            name: SERVERS[5],
            echo: crossws.clone(),
            chat: with_chat_path(crossws),
        },
        Contender {
            name: SERVERS[6],
            echo: bun.clone(),
            chat: with_chat_path(bun),
        },
    ])
}

/// What the written report says besides the numbers.
struct Report<'a> {
    options: &'a Options,
    scenarios: &'a [Scenario],
    /// 1-minute load average at the start and at the end of the run.
    load: (String, String),
}

impl Report<'_> {
    fn markdown(&self, results: &Results) -> String {
        let (start, end) = &self.load;
        format!(
            "Measured {date} with `cargo xtask bench {args}` (which runs \
             `cargo run -p xws-bench --release --bin xws-bench -- {args}`).\n\n\
             Machine:\n\n{machine}- load average (1 min) at start {start}, at end {end}: \
             anything else running shares these cores and skews every number\n\
             - CPUs: {placement}\n\n\
             Loads:\n\n{plan}\n{table}",
            date = utc_now(),
            args = self.options.arguments,
            placement = self.options.placement,
            machine = machine::Machine::describe().markdown(),
            plan = self.options.plan.markdown(),
            table = results.markdown(self.scenarios),
        )
    }
}

/// Writes `results.json`, `results.md` and `ratios.png` into the output directory, and
/// `BENCHMARKS.md` when asked to.
fn write_outputs(
    results: &Results,
    report: &Report<'_>,
    peers: Option<&Peers>,
) -> anyhow::Result<()> {
    let out_dir = &report.options.out_dir;
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "placement": report.options.placement,
        "rows": results.rows(),
    }))?;
    std::fs::write(out_dir.join("results.json"), json)?;
    let markdown = report.markdown(results);
    std::fs::write(out_dir.join("results.md"), &markdown)?;
    let chart = out_dir.join("ratios.png");
    let font = crate::chart::find_font(peers);
    let charted = match font.and_then(crate::chart::use_font) {
        Ok(()) => {
            crate::chart::draw(results, report.scenarios, &chart)?;
            true
        }
        Err(error) => {
            tracing::warn!("no chart: {error:#}");
            false
        }
    };
    if report.options.record {
        let workspace = &report.options.workspace;
        let mut record = format!("{BENCHMARKS_INTRO}\n{markdown}");
        if charted {
            std::fs::copy(&chart, workspace.join(RECORDED_CHART))?;
            record.push_str(&format!("\n![ratios to xws-tokio]({RECORDED_CHART})\n"));
        }
        let path = workspace.join("BENCHMARKS.md");
        std::fs::write(&path, record).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Where `--record` keeps the chart, relative to the workspace root.
const RECORDED_CHART: &str = "crates/xws-bench/ratios.png";

/// The top of `BENCHMARKS.md`, above the latest report.
const BENCHMARKS_INTRO: &str = include_str!("../BENCHMARKS-intro.md");

/// The current UTC time, as `date -u` gives it (the bench avoids a date crate for one line).
fn utc_now() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "at an unknown time".to_owned())
}

/// The chat's `/metrics` after a chat-room run against what the clients
/// saw; a disagreement is noted in the results.
async fn check_metrics(
    port: u16,
    before: metrics_check::Counted,
    outcome: &crate::load::stats::Outcome,
    server: &str,
    results: &mut Results,
) {
    match metrics_check::scrape(port).await {
        Ok(after) => match metrics_check::compare(before, after, outcome) {
            Ok(summary) => tracing::info!(server, "chat-room /metrics: {summary}"),
            Err(summary) => {
                tracing::warn!(server, "chat-room /metrics disagree: {summary}");
                results.note(
                    Scenario::ChatRoom,
                    server,
                    format!("/metrics disagree: {summary}"),
                );
            }
        },
        Err(error) => tracing::warn!(server, "chat-room /metrics: {error:#}"),
    }
}
