// Where the example pages under test are served. `XWS_BROWSER_TARGET` picks
// the target; the pages, the clicks and the assertions are the same on each:
//
// - tokio (the default): the example binaries, started here on free ports
//   (`XWS_BIN_DIR`), with short intervals for their background jobs.
// - cloudflare: each example's worker under `wrangler dev --local`, already
//   serving when the xtask `cloudflare` step runs these tests.
// - aws: each example's functions behind the `xws-aws-local` API Gateway
//   emulator, already serving when the xtask `aws` step runs these tests.
//
// The cloudflare and aws steps give every example's URL as
// `XWS_BROWSER_URL_{CHAT,DASHBOARD,IMPORT_PROGRESS,NOTIFICATIONS}` and the
// chat's token as `XWS_BROWSER_CHAT_TOKEN`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startExample } from "./harness.mjs";

/** The examples whose pages every target serves. */
export const EXAMPLES = ["chat", "dashboard", "import-progress", "notifications"];

const urlVar = (name) => `XWS_BROWSER_URL_${name.toUpperCase().replaceAll("-", "_")}`;

/** A page served by a server someone else started (an xtask step). */
function given(name) {
  const url = process.env[urlVar(name)];
  if (!url) throw new Error(`${urlVar(name)} is not set: the xtask step serving ${targetName} sets it`);
  return { url: url.replace(/\/$/, ""), stop: async () => {} };
}

/** Variables each Tokio binary gets: background jobs fast enough for a test. */
function tokioEnv(name) {
  switch (name) {
    case "dashboard":
      return { METRICS_INTERVAL_MS: "100" };
    case "import-progress":
      return { IMPORT_STEP_MS: "60" };
    case "notifications": {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xws-notifications-"));
      return { DATABASE_URL: `sqlite:${dir}/n.db?mode=rwc` };
    }
    default:
      return {};
  }
}

const TARGETS = {
  tokio: {
    start: (name) => startExample(name, tokioEnv(name)),
    // The dashboard's tokio interval publishes every 100 ms by itself.
    runSchedule: async () => {},
  },
  cloudflare: {
    start: given,
    // `wrangler dev --test-scheduled` runs the cron trigger on request.
    runSchedule: async (url) => {
      const response = await fetch(`${url}/__scheduled?cron=*+*+*+*+*`);
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`/__scheduled answered ${response.status}`);
    },
  },
  aws: {
    start: given,
    // The emulator fires the EventBridge schedule of the named function.
    runSchedule: async (url) => {
      const response = await fetch(`${url}/@xws/schedules/dashboard-tick`, { method: "POST" });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`the emulator's schedule answered ${response.status}`);
    },
  },
};

/** The target's name: tokio, cloudflare or aws. */
export const targetName = process.env.XWS_BROWSER_TARGET || "tokio";

/** The target the tests run against. */
export const target = TARGETS[targetName];
if (!target) {
  throw new Error(`XWS_BROWSER_TARGET=${targetName}: expected one of ${Object.keys(TARGETS).join(", ")}`);
}

/** The token the chat wants (`?token=`), if it wants one. */
export const chatToken = process.env.XWS_BROWSER_CHAT_TOKEN || "";

/**
 * Whether the pages' WebSocket is on a host of its own, named in their
 * `<meta name="xws-websocket">` by the server: on AWS the WebSocket API is
 * another host than the HTTP API serving the page (`XWS_WEBSOCKET_URL`).
 */
export const websocketOnItsOwnHost = targetName === "aws";
