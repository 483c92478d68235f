// The use-case examples' pages in headless Chromium: the dashboard's live
// chart, the import progress bar in two tabs, notifications across tabs
// and after being offline. Each leaves a screenshot in the artifacts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { artifacts, eventually, launchBrowser, startExample } from "./harness.mjs";

let browser;
const cleanups = [];

before(async () => {
  browser = await launchBrowser();
  fs.mkdirSync(artifacts, { recursive: true });
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await browser?.close();
});

async function example(name, env) {
  const server = await startExample(name, env);
  cleanups.push(() => server.stop());
  return server;
}

async function open(url, label) {
  const page = await browser.page();
  page.on("pageerror", (error) => console.error(`[${label}] page error:`, error));
  await page.goto(url);
  await eventually(`${label} to be open`, async () => (await page.locator("#state").textContent()) === "open");
  return page;
}

const text = (page, selector) => page.locator(selector).innerText();

test("the dashboard chart follows the scheduled metrics", async () => {
  const server = await example("dashboard", { METRICS_INTERVAL_MS: "100" });
  const page = await open(`${server.url}/`, "dashboard");
  // The page draws every sample it gets: a rising count of chart points.
  const points = () => page.evaluate(() => window.dashboardPoints?.length ?? 0);
  await eventually("the chart to hold 15 samples", async () => (await points()) >= 15, 15_000);
  assert.match(await text(page, "#rps"), /^\d+\.\d$/);
  assert.equal(await text(page, "#connections"), "1");
  await page.screenshot({ path: path.join(artifacts, "dashboard.png") });
});

test("an import's progress bar moves in both tabs of its user only", async () => {
  const server = await example("import-progress", { IMPORT_STEP_MS: "60" });
  const first = await open(`${server.url}/?user=ada`, "ada's first tab");
  const second = await open(`${server.url}/?user=ada`, "ada's second tab");
  const other = await open(`${server.url}/?user=bob`, "bob");
  await first.locator("#total").fill("400");
  await first.locator("#start").click();
  await eventually("progress in the second tab", async () => /^\d+% \(\d+ of 400 records\)$/.test(await text(second, "#status")));
  await first.bringToFront();
  await first.screenshot({ path: path.join(artifacts, "import-progress.png") });
  for (const [page, label] of [[first, "first"], [second, "second"]]) {
    await eventually(`completion in the ${label} tab`, async () => (await text(page, "#status")) === "Import complete: 400 records.", 15_000);
    assert.equal(await page.locator("#fill").evaluate((el) => el.style.width), "100%");
  }
  assert.equal(await text(other, "#status"), "No import running.");
});

test("notifications arrive after being offline, once, and read marks cross tabs", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xws-notifications-"));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const server = await example("notifications", { DATABASE_URL: `sqlite:${dir}/n.db?mode=rwc` });
  const login = await (await fetch(`${server.url}/api/login?user=ada`, { method: "POST" })).json();
  const notify = (title) => fetch(`${server.url}/api/notify?token=${login.token}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title, body: "from the test" }),
  }).then((r) => r.json());
  const offline = await notify("Sent offline");
  assert.equal(offline.delivered, 0);

  const first = await open(`${server.url}/?user=ada`, "ada's first tab");
  const tags = (page) => page.locator("#list .tag").count();
  await eventually("the missed one, tagged", async () => (await tags(first)) === 1);
  const second = await open(`${server.url}/?user=ada`, "ada's second tab");
  await eventually("the second tab's list", async () => (await second.locator("#list li").count()) === 1);
  assert.equal(await tags(second), 0, "the missed one was replayed to a second tab");

  await second.locator("#title").fill("Live one");
  await second.locator("#send button").click();
  await eventually("the live one in the first tab", async () => (await first.locator("#list li").count()) === 2);
  assert.equal(await text(first, "#unread"), "2");

  await first.locator("#list li.unread button").first().click();
  await eventually("the read mark in the second tab", async () => (await text(second, "#unread")) === "1");
  await first.bringToFront();
  await first.screenshot({ path: path.join(artifacts, "notifications.png") });
});
