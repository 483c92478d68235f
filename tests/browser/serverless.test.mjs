// A serverless function target's stream page in Chromium: the browser's own
// EventSource gets the current metrics, then a publication made by another
// request, and when the stream ends before the function's limit (shortened
// for the test) reconnects by itself and gets the current metrics again.
//
// `XWS_BROWSER_STREAM_URL` serves the page at `/` (examples/dashboard/
// static/stream.html), the stream at `/api/stream` and `POST /api/tick`,
// which publishes the next sample and answers it; `XWS_BROWSER_STREAM_TARGET`
// names the target in the report. The xtask step serving it sets both.
import test from "node:test";
import fs from "node:fs";
import path from "node:path";
import { artifacts, eventually, launchBrowser } from "./harness.mjs";

const url = (process.env.XWS_BROWSER_STREAM_URL || "").replace(/\/$/, "");
const label = process.env.XWS_BROWSER_STREAM_TARGET || "serverless";

/** Publishes the next sample from another request; its sample number. */
async function tick() {
  const response = await fetch(`${url}/api/tick`, { method: "POST" });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST /api/tick answered ${response.status}: ${text}`);
  return JSON.parse(text).metrics.sample;
}

test(`[${label}] EventSource: the current metrics, a publication, a reconnect after the stream's end`, { timeout: 60_000 }, async () => {
  if (!url) throw new Error("XWS_BROWSER_STREAM_URL is not set: the xtask step serving the target sets it");
  const current = await tick();
  const browser = await launchBrowser();
  try {
    const page = await browser.page();
    await page.goto(`${url}/`);
    const samples = () => page.evaluate(() => window.xwsSamples ?? []);
    await eventually("the current metrics first", async () => (await samples())[0] === current);
    const published = await tick();
    await eventually("the publication", async () => (await samples()).includes(published));
    // The stream ends before the limit; EventSource reconnects by itself.
    await eventually("a reconnect", async () => Number(await page.textContent("#opened")) >= 2, 20_000);
    await eventually(
      "the current metrics again after reconnecting",
      async () => (await samples()).filter((sample) => sample === published).length >= 2,
    );
    const dir = path.join(artifacts, label);
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, "dashboard-stream.png") });
  } finally {
    await browser.close();
  }
});
