// A serverless function target's stream page in Chromium: the browser's own
// EventSource gets the current metrics, then a publication made by another
// request; when the stream ends before the function's limit (shortened for
// the test) it reconnects by itself with `Last-Event-ID`, and a sample
// published while it was away arrives after the reconnect: every sample
// once, in order.
//
// `XWS_BROWSER_STREAM_URL` is where the target serves the page
// (examples/dashboard/static/stream.html) at `XWS_BROWSER_STREAM_PAGE`
// (default `/`, which opens the stream at `/api/stream` unless its
// `?stream=` says otherwise), and `XWS_BROWSER_STREAM_TICK` (default
// `/api/tick`), which a POST makes publish the next sample and answers it
// (the message, or `{"published": message}` from the AWS emulator's
// schedule); `XWS_BROWSER_STREAM_TARGET` names the target in the report and
// the screenshots' folder. The xtask step serving the target sets them.
//
// With `XWS_BROWSER_STREAM_EXAMPLE=import-progress` it runs the import
// stream's page instead (examples/import-progress/static/stream.html at
// `XWS_BROWSER_STREAM_PAGE`): the page logs a user in, follows their
// stream, and starts an import whose batches outlast the stream; EventSource
// reconnects by itself with `Last-Event-ID` mid-import and the page sees
// every step once, in order, then the completion.
import test from "node:test";
import fs from "node:fs";
import path from "node:path";
import { artifacts, eventually, launchBrowser } from "./harness.mjs";

const url = (process.env.XWS_BROWSER_STREAM_URL || "").replace(/\/$/, "");
const pagePath = process.env.XWS_BROWSER_STREAM_PAGE || "/";
const tickPath = process.env.XWS_BROWSER_STREAM_TICK || "/api/tick";
const label = process.env.XWS_BROWSER_STREAM_TARGET || "serverless";
const example = process.env.XWS_BROWSER_STREAM_EXAMPLE || "dashboard";

/** Publishes the next sample from another request; its sample number. */
async function tick() {
  const response = await fetch(`${url}${tickPath}`, { method: "POST", signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${tickPath} answered ${response.status}: ${text}`);
  const answer = JSON.parse(text);
  const message = typeof answer.published === "string" ? JSON.parse(answer.published) : answer;
  return message.metrics.sample;
}

test(`[${label}] EventSource: the current metrics, a publication, a resume after the stream's end`, { timeout: 60_000, skip: example !== "dashboard" }, async () => {
  if (!url) throw new Error("XWS_BROWSER_STREAM_URL is not set: the xtask step serving the target sets it");
  const current = await tick();
  const browser = await launchBrowser();
  try {
    const page = await browser.page();
    await page.goto(`${url}${pagePath}`);
    const samples = () => page.evaluate(() => window.xwsSamples ?? []);
    await eventually("the current metrics first", async () => (await samples())[0] === current);
    const published = await tick();
    await eventually("the publication", async () => (await samples()).includes(published));
    // The stream ends before the limit; while EventSource waits to
    // reconnect (the retry: hint, 1 s), a sample is published.
    await eventually("the end of the stream", async () => (await page.textContent("#state")) === "reconnecting", 20_000);
    const missed = await tick();
    await eventually("a reconnect", async () => Number(await page.textContent("#opened")) >= 2, 20_000);
    await eventually("the sample published while away", async () => (await samples()).includes(missed));
    const live = await tick();
    await eventually("a live sample after the reconnect", async () => (await samples()).includes(live));
    const seen = await samples();
    const expected = [current, published, missed, live];
    if (JSON.stringify(seen) !== JSON.stringify(expected)) {
      throw new Error(`every sample once, in order: expected ${JSON.stringify(expected)}, got ${JSON.stringify(seen)}`);
    }
    const dir = path.join(artifacts, label);
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, "dashboard-stream.png") });
  } finally {
    await browser.close();
  }
});

test(`[${label}] EventSource: one user's import, every step once across the stream's end`, { timeout: 60_000, skip: example !== "import-progress" }, async () => {
  if (!url) throw new Error("XWS_BROWSER_STREAM_URL is not set: the xtask step serving the target sets it");
  const user = `ada-${Date.now().toString(16)}`;
  const browser = await launchBrowser();
  try {
    const page = await browser.page();
    await page.goto(`${url}${pagePath}${pagePath.includes("?") ? "&" : "?"}user=${user}&total=40`);
    await eventually("the stream open", async () => (await page.textContent("#state")) === "live");
    await eventually("the start button", async () => !(await page.isDisabled("#start")));
    await page.click("#start");
    const seen = () => page.evaluate(() => window.xwsImport);
    await eventually("the completion", async () => (await seen()).includes("complete"), 30_000);
    const steps = await seen();
    const expected = [...Array(20).keys()].map((i) => 2 * (i + 1)).concat("complete");
    if (JSON.stringify(steps) !== JSON.stringify(expected)) {
      throw new Error(`every step once, in order: expected ${JSON.stringify(expected)}, got ${JSON.stringify(steps)}`);
    }
    const opened = Number(await page.textContent("#opened"));
    if (opened < 2) throw new Error(`the stream should have ended and reopened mid-import; opened ${opened} time(s)`);
    const dir = path.join(artifacts, label);
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, "import-progress-stream.png") });
  } finally {
    await browser.close();
  }
});
