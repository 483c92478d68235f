//! `cargo xtask autobahn`: the Autobahn|Testsuite, the WebSocket
//! conformance suite the most trusted servers and clients are graded by.
//!
//! - The fuzzing *client* attacks `examples/echo` (the xws-tokio server).
//! - The fuzzing *server* grades `crates/xws-client`, driven by its
//!   `autobahn_client` example (run once per case, then `updateReports`).
//!
//! The suite runs only on Python 2.7 (`autobahntestsuite` 0.8.2); it is
//! installed once into the tools cache, outside the clone. Reports land in
//! `$CARGO_TARGET_DIR/autobahn/{server,client}` (open `index.html`).
//!
//! The server runs with permessage-deflate on (`XWS_PERMESSAGE_DEFLATE=1`),
//! so its 12.* and 13.* cases are graded like every other: OK, NON-STRICT
//! or INFORMATIONAL. `crates/xws-client` does not negotiate
//! permessage-deflate: its 12.* and 13.* cases may be UNIMPLEMENTED. The
//! subset (the test command's) skips 9.*, the large-message and
//! throughput cases that take most of the suite's time, the server's
//! deflate cases with messages of 64 KiB and more, and the client's
//! deflate cases.

use std::collections::BTreeMap;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use crate::Workspace;
use crate::process::{Cmd, free_port, wait_for_port};
use crate::tools;

const SUITE: &str = "autobahntestsuite==0.8.2";
/// Grades that pass.
const PASSING: [&str; 3] = ["OK", "NON-STRICT", "INFORMATIONAL"];
/// permessage-deflate cases: `crates/xws-client` does not negotiate it,
/// so for the client they are reported, not graded.
const DEFLATE_CASES: [&str; 2] = ["12.", "13."];
/// The subset leaves out the slow large-message cases.
const SLOW_CASES: &str = "9.*";
/// And the deflate cases with messages of 64 and 128 KiB (1,000 per
/// case): they take ~85% of the 12.*/13.* time (~17 min in all against
/// the debug build on a busy machine); the subset keeps their 132 cases of
/// up to 32 KiB, whole and fragmented.
const SLOW_DEFLATE_CASES: [&str; 14] = [
    "12.*.9", "12.*.10", "12.*.14", "12.*.15", "12.*.16", "12.*.17", "12.*.18", "13.*.9",
    "13.*.10", "13.*.14", "13.*.15", "13.*.16", "13.*.17", "13.*.18",
];
/// The suite takes ~30 s in full against a release build without the
/// deflate cases; they add ~17 min against the debug build on a busy
/// machine.
const SUITE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Runs the fuzzing client against `examples/echo` and, when
/// `crates/xws-client` is in the tree, the fuzzing server against it.
/// `subset` skips the 9.* cases, the large deflate cases, and the client's
/// deflate cases.
pub fn run(workspace: &Workspace, subset: bool) -> Result<()> {
    let wstest = Wstest::install()?;
    let reports = workspace.target_dir.join("autobahn");
    let mut failures = fuzz_the_server(workspace, &wstest, &reports.join("server"), subset)?;
    if workspace.root.join("crates/xws-client").is_dir() {
        failures.extend(fuzz_the_client(
            workspace,
            &wstest,
            &reports.join("client"),
            subset,
        )?);
    } else {
        eprintln!("xtask: autobahn: crates/xws-client is not in the tree; client cases skipped");
    }
    if !failures.is_empty() {
        bail!(
            "{} Autobahn case(s) failed (reports in {}):\n{}",
            failures.len(),
            reports.display(),
            failures.join("\n")
        );
    }
    Ok(())
}

/// The suite's `wstest` command, installed in the tools cache.
struct Wstest {
    /// The `--user` install prefix; `wstest` finds its modules through it.
    base: PathBuf,
}

impl Wstest {
    /// Installs the suite (once).
    fn install() -> Result<Self> {
        let base = tools::cache_dir()?
            .join("autobahn")
            .join(SUITE.replace("==", "-"));
        let suite = Wstest { base };
        if suite.bin().is_file() {
            return Ok(suite);
        }
        let python = python27()?;
        eprintln!("xtask: installing {SUITE} into {}", suite.base.display());
        Cmd::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--user",
                "--disable-pip-version-check",
                SUITE,
            ])
            .env("PYTHONUSERBASE", &suite.base)
            .timeout(Duration::from_secs(15 * 60))
            .run()
            .context("installing the Autobahn testsuite with Python 2.7's pip")?;
        if !suite.bin().is_file() {
            bail!(
                "{SUITE} installed, but {} is missing",
                suite.bin().display()
            );
        }
        Ok(suite)
    }

    fn bin(&self) -> PathBuf {
        self.base.join("bin").join("wstest")
    }

    /// `wstest -m mode -s spec`, run from the spec's directory.
    fn command(&self, mode: &str, spec: &Path) -> Cmd {
        let dir = spec.parent().unwrap_or(Path::new("."));
        Cmd::new(self.bin())
            .env("PYTHONUSERBASE", &self.base)
            .args(["-m", mode, "-s"])
            .arg(spec)
            .current_dir(dir)
    }
}

/// A Python 2.7 interpreter: `$XWS_PYTHON2`, pyenv's, or one on `PATH`.
fn python27() -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("XWS_PYTHON2")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if let Some(home) = std::env::var_os("HOME") {
        let versions = Path::new(&home).join(".pyenv/versions");
        if let Ok(entries) = fs::read_dir(&versions) {
            let mut pythons: Vec<PathBuf> = entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("2.7"))
                .map(|e| e.path().join("bin/python"))
                .collect();
            pythons.sort();
            candidates.extend(pythons.into_iter().rev());
        }
    }
    candidates.extend(["/usr/bin/python2.7", "python2.7", "python2"].map(PathBuf::from));
    candidates
        .into_iter()
        .find(|python| {
            Cmd::new(python)
                .args(["-c", "import sys; sys.exit(sys.version_info[:2] != (2, 7))"])
                .timeout(Duration::from_secs(20))
                .succeeds()
        })
        .context(
            "the Autobahn testsuite needs Python 2.7 (with pip): install it \
             (e.g. `pyenv install 2.7.18`) or point XWS_PYTHON2 at it",
        )
}

/// The fuzzing client against `examples/echo`; returns the failed cases.
fn fuzz_the_server(
    workspace: &Workspace,
    wstest: &Wstest,
    outdir: &Path,
    subset: bool,
) -> Result<Vec<String>> {
    workspace.cargo().args(["build", "-p", "echo"]).run()?;
    let port = free_port()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let echo = workspace.target_dir.join("debug").join("echo");
    let mut server = Cmd::new(&echo)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "error")
        .env("XWS_PERMESSAGE_DEFLATE", "1")
        .spawn()?;
    wait_for_port(addr, Duration::from_secs(30), "examples/echo")?;
    server.ensure_running()?;

    const AGENT: &str = "xws-tokio";
    let spec = json!({
        "outdir": outdir,
        "servers": [{ "agent": AGENT, "url": format!("ws://{addr}") }],
        "cases": ["*"],
        "exclude-cases": excluded(subset, Deflate::Negotiated),
        "exclude-agent-cases": {},
    });
    let dir = outdir.parent().context("reports directory")?;
    let spec_file = write_spec(dir, "fuzzingclient.json", &spec)?;
    eprintln!("xtask: autobahn fuzzingclient -> examples/echo on {addr}");
    wstest
        .command("fuzzingclient", &spec_file)
        .timeout(SUITE_TIMEOUT)
        .run()?;
    server
        .ensure_running()
        .context("examples/echo died during the suite")?;
    grade(&outdir.join("index.json"), AGENT, Deflate::Negotiated)
}

/// The fuzzing server against `crates/xws-client`'s `autobahn_client`
/// example, which runs every case the server announces (see the module
/// docs); returns the failed cases.
fn fuzz_the_client(
    workspace: &Workspace,
    wstest: &Wstest,
    outdir: &Path,
    subset: bool,
) -> Result<Vec<String>> {
    const AGENT: &str = "xws-client";
    workspace
        .cargo()
        .args(["build", "-p", "xws-client", "--example", "autobahn_client"])
        .run()?;
    let port = free_port()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let spec = json!({
        "url": format!("ws://{addr}"),
        "outdir": outdir,
        "cases": ["*"],
        "exclude-cases": excluded(subset, Deflate::NotNegotiated),
        "exclude-agent-cases": {},
    });
    let dir = outdir.parent().context("reports directory")?;
    let spec_file = write_spec(dir, "fuzzingserver.json", &spec)?;
    let mut suite = wstest.command("fuzzingserver", &spec_file).spawn()?;
    wait_for_port(addr, Duration::from_secs(60), "the Autobahn fuzzing server")?;
    suite.ensure_running()?;
    eprintln!("xtask: autobahn fuzzingserver on {addr} <- crates/xws-client");
    let client = workspace
        .target_dir
        .join("debug")
        .join("examples")
        .join("autobahn_client");
    Cmd::new(client)
        .env("AUTOBAHN_URL", format!("ws://{addr}"))
        .env("AUTOBAHN_AGENT", AGENT)
        .timeout(SUITE_TIMEOUT)
        .run()?;
    drop(suite);
    grade(&outdir.join("index.json"), AGENT, Deflate::NotNegotiated)
}

/// Whether the side under test negotiates permessage-deflate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deflate {
    Negotiated,
    NotNegotiated,
}

fn excluded(subset: bool, deflate: Deflate) -> Vec<&'static str> {
    match (subset, deflate) {
        (false, _) => Vec::new(),
        (true, Deflate::Negotiated) => [SLOW_CASES].into_iter().chain(SLOW_DEFLATE_CASES).collect(),
        (true, Deflate::NotNegotiated) => vec!["12.*", "13.*", SLOW_CASES],
    }
}

fn write_spec(dir: &Path, name: &str, spec: &Value) -> Result<PathBuf> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let file = dir.join(name);
    fs::write(&file, serde_json::to_string_pretty(spec)?)
        .with_context(|| format!("writing {}", file.display()))?;
    Ok(file)
}

/// One case's grades in `index.json`.
#[derive(Debug, serde::Deserialize)]
struct Case {
    behavior: String,
    #[serde(rename = "behaviorClose")]
    behavior_close: String,
}

/// Reads `index.json`, prints the tally and returns the cases that failed.
fn grade(index: &Path, agent: &str, deflate: Deflate) -> Result<Vec<String>> {
    let text = fs::read_to_string(index).with_context(|| format!("reading {}", index.display()))?;
    let mut agents: BTreeMap<String, BTreeMap<String, Case>> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", index.display()))?;
    let cases = agents
        .remove(agent)
        .with_context(|| format!("{} has no results for {agent}", index.display()))?;
    let (tally, failures) = judge(&cases, deflate);
    let tally: Vec<String> = tally
        .iter()
        .map(|(grade, n)| format!("{grade} {n}"))
        .collect();
    eprintln!(
        "xtask: autobahn {agent}: {} cases: {}",
        cases.len(),
        tally.join(", ")
    );
    Ok(failures
        .into_iter()
        .map(|f| format!("  {agent} {f}"))
        .collect())
}

/// Counts the grades and lists the failing cases (in case order).
fn judge(
    cases: &BTreeMap<String, Case>,
    deflate: Deflate,
) -> (BTreeMap<String, usize>, Vec<String>) {
    let mut tally = BTreeMap::new();
    let mut failures = Vec::new();
    let mut ids: Vec<&String> = cases.keys().collect();
    ids.sort_by_key(|id| case_order(id));
    for id in ids {
        let case = &cases[id];
        *tally.entry(case.behavior.clone()).or_default() += 1;
        let unimplemented_deflate = deflate == Deflate::NotNegotiated
            && DEFLATE_CASES.iter().any(|prefix| id.starts_with(prefix));
        let passed = PASSING.contains(&case.behavior.as_str())
            || (unimplemented_deflate && case.behavior == "UNIMPLEMENTED");
        if !passed {
            failures.push(format!(
                "{id}: {} (close: {})",
                case.behavior, case.behavior_close
            ));
        }
    }
    (tally, failures)
}

/// `"9.10.2"` sorts after `"9.2.1"`.
fn case_order(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|n| n.parse().unwrap_or(u32::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(behavior: &str) -> Case {
        Case {
            behavior: behavior.into(),
            behavior_close: "OK".into(),
        }
    }

    #[test]
    fn only_passing_grades_pass_and_deflate_may_be_unimplemented_where_not_negotiated() {
        let cases: BTreeMap<String, Case> = [
            ("1.1.1", case("OK")),
            ("2.10", case("NON-STRICT")),
            ("2.9", case("FAILED")),
            ("7.1.6", case("INFORMATIONAL")),
            ("12.1.1", case("UNIMPLEMENTED")),
            ("5.1", case("UNIMPLEMENTED")),
        ]
        .into_iter()
        .map(|(id, c)| (id.to_owned(), c))
        .collect();
        let (tally, failures) = judge(&cases, Deflate::NotNegotiated);
        assert_eq!(tally["UNIMPLEMENTED"], 2);
        assert_eq!(
            failures,
            ["2.9: FAILED (close: OK)", "5.1: UNIMPLEMENTED (close: OK)"]
        );
        let (_, failures) = judge(&cases, Deflate::Negotiated);
        assert_eq!(
            failures,
            [
                "2.9: FAILED (close: OK)",
                "5.1: UNIMPLEMENTED (close: OK)",
                "12.1.1: UNIMPLEMENTED (close: OK)"
            ]
        );
    }
}
