// What the browser tests need around Chromium: the chat server as a child
// process, a TCP proxy that can cut or freeze the network, and waits that
// always time out.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { fileURLToPath } from "node:url";

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repo, "target");
const binDir = process.env.XWS_BIN_DIR || path.join(targetDir, "debug");
export const chatBin = process.env.XWS_CHAT_BIN || path.join(binDir, "chat");
export const artifacts = process.env.XWS_ARTIFACTS || path.join(repo, "target", "xws-artifacts");
const toolsDir =
  process.env.XWS_PLAYWRIGHT_DIR || path.join(os.homedir(), ".cache", "xws", "tools", "npm", "playwright");
const chromiumPath = process.env.XWS_CHROMIUM || "/usr/bin/chromium";

/** Chromium, headless, with the flags that keep it off the network. */
export async function launchBrowser() {
  const { chromium } = createRequire(path.join(toolsDir, "package.json"))("playwright-core");
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "xws-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1100, height: 640 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 30_000,
  });
  const browser = {
    /** A fresh page (same profile: pages are told apart by ?user=). */
    page: () => context.newPage(),
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  return browser;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

/** Resolves when `port` accepts connections, or throws after `timeout` ms. */
async function waitForPort(port, timeout, child, bin, spawnError) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (spawnError()) throw new Error(`cannot start ${bin}: ${spawnError().message}`);
    if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port} after ${timeout} ms`);
}

/** Starts the chat binary on `port`; `stop()` sends SIGTERM (SIGKILL after 5 s). */
export function startChat(port, env = {}) {
  return startServer(chatBin, port, env);
}

/** Starts the example binary `name` (from XWS_BIN_DIR) on a free port. */
export async function startExample(name, env = {}) {
  return startServer(path.join(binDir, name), await freePort(), env);
}

/** Starts `bin` on `port`; `stop()` sends SIGTERM (SIGKILL after 5 s). */
async function startServer(bin, port, env) {
  const child = spawn(bin, [], {
    env: { ...process.env, PORT: String(port), RUST_LOG: "warn", ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  let spawnError = null;
  child.on("error", (error) => (spawnError = error));
  await waitForPort(port, 15_000, child, bin, () => spawnError);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await once(child, "exit");
      clearTimeout(timer);
    },
  };
}

/**
 * A TCP proxy in front of `targetPort`: `down()` cuts every connection and
 * refuses new ones (a lost network), `freeze()` keeps sockets open but
 * carries nothing (a dead link the browser does not notice), `up()` heals.
 */
export async function startProxy(targetPort) {
  let mode = "up";
  const pairs = new Set();
  const server = net.createServer((client) => {
    if (mode === "down") return client.destroy();
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (data) => mode === "up" && upstream.write(data));
    upstream.on("data", (data) => mode === "up" && client.write(data));
    for (const socket of [client, upstream]) {
      socket.on("error", end);
      socket.on("close", end);
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    down() {
      mode = "down";
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
    },
    freeze() {
      mode = "frozen";
    },
    up() {
      mode = "up";
    },
    async close() {
      this.down();
      server.close();
      await once(server, "close");
    },
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries `check` until it returns a truthy value, or throws after `timeout` ms. */
export async function eventually(what, check, timeout = 10_000, every = 100) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await sleep(every);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}
