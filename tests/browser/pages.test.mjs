// Every example page in headless Chromium against one target
// (`XWS_BROWSER_TARGET`: tokio, cloudflare or aws; see targets.mjs), with the
// same clicks and the same assertions on each: the chat between two pages,
// the dashboard's live chart, the import progress bar in two tabs,
// notifications across tabs and after being offline, an idle stretch with
// zero reconnects, a dropped connection followed by a reconnect and the
// delivery of what was sent meanwhile, and a binary round trip (as binary
// notices on AWS). Screenshots go to
// `target/xws-artifacts/{target}/`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { artifacts, eventually, launchBrowser, sleep, startProxy } from "./harness.mjs";
import { chatToken, EXAMPLES, target, targetName, websocketOnItsOwnHost } from "./targets.mjs";

/** Client options for the idle test: a heartbeat several times a second. */
const FAST_HEARTBEAT = { pingInterval: 400, pingTimeout: 800 };
/** Longer than a ping interval plus its timeout, several times over. */
const IDLE_MS = 3_000;
/** Client options for the drop test: retries close together. */
const FAST_RETRY = { minDelay: 100, maxDelay: 1_000 };

/** Names unique to this run: the cloudflare and aws servers keep state. */
const run = Date.now().toString(36);
const screenshots = path.join(artifacts, targetName);

let browser;
const servers = {};
const cleanups = [];

before(async () => {
  browser = await launchBrowser();
  fs.mkdirSync(screenshots, { recursive: true });
  for (const name of EXAMPLES) {
    servers[name] = await target.start(name);
    cleanups.push(() => servers[name].stop());
  }
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await browser?.close();
});

const text = (page, selector) => page.locator(selector).innerText();
const state = (page) => page.locator("#state").textContent();

/**
 * Opens `url` in a new page and waits until its client is open. `options`
 * go to the page's client (`window.xwsOptions`); `websocket`, if given,
 * replaces the page's `<meta name="xws-websocket">`, as a deployment does.
 */
async function open(url, label, { options, websocket } = {}) {
  const page = await browser.page();
  page.on("pageerror", (error) => console.error(`[${label}] page error:`, error));
  page.sockets = [];
  page.on("websocket", (ws) => page.sockets.push(ws.url()));
  if (options) await page.addInitScript((options) => (window.xwsOptions = options), options);
  if (websocket) {
    // Set as the parser adds the meta, before the page's module runs. (A
    // page served through page.route counts as a public one for Chromium's
    // local network access checks, which then block loopback sockets.)
    await page.addInitScript((websocket) => {
      new MutationObserver((_, observer) => {
        const meta = document.querySelector('meta[name="xws-websocket"]');
        if (!meta) return;
        meta.content = websocket;
        observer.disconnect();
      }).observe(document, { childList: true, subtree: true });
    }, websocket);
  }
  await page.goto(url);
  await eventually(`${label} to be open`, async () => (await state(page)) === "open", 15_000);
  return page;
}

async function screenshot(page, name) {
  await page.bringToFront();
  await page.screenshot({ path: path.join(screenshots, `${name}.png`) });
}

// --- the chat -----------------------------------------------------------

function chatUrl(user) {
  const query = new URLSearchParams({ user });
  if (chatToken) query.set("token", chatToken);
  return `${servers.chat.url}/?${query}`;
}

const logText = (page) => page.locator("#log").innerText();

async function say(page, words) {
  await page.locator("#text").fill(words);
  await page.locator("#send button").click();
}

async function joinRoom(page, room) {
  await page.locator("#room-name").fill(room);
  await page.locator("#join button").click();
}

/** Types in `from` until `to` shows the typing indicator: both are in the room. */
async function typingReaches(from, to, name) {
  await eventually(`${name}'s typing indicator`, async () => {
    await from.locator("#text").pressSequentially("x", { delay: 0 });
    await sleep(1_100);
    return (await to.locator("#typing").innerText()).includes("typing");
  }, 20_000, 50);
  await from.locator("#text").fill("");
}

test(`[${targetName}] two chat pages talk through a room`, { timeout: 60_000 }, async () => {
  const room = `design-${run}`;
  // The page opens its WebSocket where its meta says: on AWS the
  // deployment's WebSocket API, another host than the page's.
  const endpoint = await websocketEndpoint(chatUrl(`alice-${run}`));
  assert.equal(endpoint.host !== new URL(servers.chat.url).host, websocketOnItsOwnHost, `the WebSocket endpoint ${endpoint}`);
  const alice = await open(chatUrl(`alice-${run}`), "alice");
  const bob = await open(chatUrl(`bob-${run}`), "bob");
  assert.equal(await alice.evaluate(() => window.chat.transport), "websocket");
  assert.ok(alice.sockets[0].startsWith(`${endpoint.href}?`), `${alice.sockets[0]} is at ${endpoint.href}`);
  await joinRoom(alice, room);
  await joinRoom(bob, room);
  await typingReaches(alice, bob, "alice");
  await say(alice, "Hello from Alice");
  await eventually("bob to get alice's message", async () => (await logText(bob)).includes("Hello from Alice"));
  await say(bob, "Hi Alice, Bob here");
  await eventually("alice to get bob's reply", async () => (await logText(alice)).includes("Bob here"));
  // The lobby did not get the room's messages.
  await bob.locator(".room", { hasText: "lobby" }).click();
  assert.ok(!(await logText(bob)).includes("Hello from Alice"));
  await bob.locator(".room", { hasText: room }).click();
  await typingReaches(alice, bob, "alice");
  await alice.locator("#text").pressSequentially("x");
  await eventually("the indicator", async () => (await bob.locator("#typing").innerText()).includes("typing"));
  await screenshot(bob, "chat");
  await alice.close();
  await bob.close();
});

/**
 * Opens `user`'s chat page with its WebSocket through a proxy, so the test
 * decides when its network fails and when it comes back.
 */
async function openThroughProxy(user) {
  const url = chatUrl(user);
  const endpoint = await websocketEndpoint(url);
  const proxy = await startProxy(Number(endpoint.port));
  cleanups.push(() => proxy.close());
  const proxyHost = new URL(proxy.url).host;
  let page;
  if (endpoint.host === new URL(url).host) {
    // A same-origin endpoint: the page comes through the proxy too, so the
    // WebSocket's Origin still matches its Host.
    const proxiedPage = new URL(url);
    proxiedPage.host = proxyHost;
    page = await open(proxiedPage.href, user, { options: FAST_RETRY });
  } else {
    // The WebSocket API on a host of its own (AWS): the page is told the
    // proxy's URL instead.
    const proxied = new URL(endpoint);
    proxied.host = proxyHost;
    page = await open(url, user, { options: FAST_RETRY, websocket: proxied.href });
  }
  return { page, proxy };
}

test(`[${targetName}] a dropped connection reconnects and delivers what was sent meanwhile`, { timeout: 90_000 }, async () => {
  const room = `drop-${run}`;
  // Alice's WebSocket goes through a proxy; Bob's goes straight.
  const { page: alice, proxy } = await openThroughProxy(`alice-${run}`);
  const bob = await open(chatUrl(`bob-${run}`), "bob");
  for (const page of [alice, bob]) assert.equal(await page.evaluate(() => window.chat.transport), "websocket");
  const opened = await recordEvents(alice);
  await joinRoom(alice, room);
  await joinRoom(bob, room);
  await typingReaches(alice, bob, "alice");
  await say(alice, "before the drop");
  await eventually("the first message", async () => (await logText(bob)).includes("before the drop"));

  proxy.down();
  await eventually("alice to notice the drop", async () => (await state(alice)) !== "open");
  await say(alice, "sent while the connection was down");
  assert.equal(await alice.evaluate(() => window.chat.queued), 1);
  assert.equal(await alice.locator(".msg.queued").count(), 1);
  await sleep(500); // a failed attempt or two while the network is down
  proxy.up();
  await eventually("alice to reconnect", async () => (await state(alice)) === "open", 15_000);
  await eventually("the queued message to arrive", async () =>
    (await logText(bob)).includes("sent while the connection was down"), 15_000);
  assert.equal(await alice.evaluate(() => window.chat.queued), 0);
  await say(bob, "welcome back");
  await eventually("bob's answer", async () => (await logText(alice)).includes("welcome back"));
  const events = await opened();
  assert.ok(events.some((e) => e.event === "open" && e.reconnected), `a reconnect: ${JSON.stringify(events)}`);
  await screenshot(alice, "chat-reconnected");
  await alice.close();
  await bob.close();
});

test(`[${targetName}] a binary message round-trips through the page's client`, { timeout: 60_000 }, async () => {
  // API Gateway closes a connection that sends a binary frame (1003): there
  // the client sends binary notices, which the session hands the handler as
  // binary, and the handler's binary answer comes back as one.
  const binaryAsText = websocketOnItsOwnHost;
  const alice = await open(chatUrl(`alice-${run}`), "alice", { options: { binaryAsText } });
  const bytes = [0, 1, 127, 128, 254, 255, 123, 34, 92];
  const echoed = await alice.evaluate(async (bytes) => {
    const echo = new Promise((resolve, reject) => {
      const off = window.chat.on("message", (message) => {
        if (!(message instanceof ArrayBuffer)) return;
        off();
        resolve([...new Uint8Array(message)]);
      });
      window.chat.on("close", ({ code, reason }) => reject(new Error(`closed ${code} ${reason}`)));
    });
    window.chat.send(new Uint8Array(bytes));
    return echo;
  }, bytes);
  assert.deepEqual(echoed, bytes);
  assert.equal(await state(alice), "open");
  await alice.close();
});

/** The texts of the room messages `page` shows that start with `prefix`, in order. */
async function shown(page, prefix) {
  const texts = await page.locator("#log .msg .text").allInnerTexts();
  return texts.filter((text) => text.startsWith(prefix));
}

test(`[${targetName}] a page cut off while messages keep flowing shows each once, in order, after it reconnects`, { timeout: 120_000 }, async () => {
  const room = `flow-${run}`;
  const { page: alice, proxy } = await openThroughProxy(`alice-flow-${run}`);
  const bob = await open(chatUrl(`bob-flow-${run}`), "bob");
  await joinRoom(alice, room);
  await joinRoom(bob, room);
  await typingReaches(bob, alice, "bob");
  // Who is online: both, on each page.
  for (const page of [alice, bob]) {
    await eventually("both users online", async () => {
      const online = await text(page, "#online");
      return online.includes(`alice-flow-${run}`) && online.includes(`bob-flow-${run}`);
    });
  }
  // The rejoin after the reconnect must recover (xws.js sends `since`), not
  // merely reload the history.
  const rejoins = [];
  alice.on("websocket", (ws) =>
    ws.on("framereceived", ({ payload }) => {
      try {
        const msg = JSON.parse(payload);
        if (msg.type === "joined" && msg.roomId === room) rejoins.push(msg);
      } catch {}
    }),
  );
  const sent = [];
  const sending = (async () => {
    for (let n = 0; n < 24; n++) {
      const words = `flow ${n}`;
      await say(bob, words);
      sent.push(words);
      await sleep(150);
    }
  })();
  // Cut alice off while bob keeps talking, then bring her back.
  await eventually("alice to get the first messages", async () => (await shown(alice, "flow ")).length >= 3);
  proxy.down();
  await eventually("alice to notice the drop", async () => (await state(alice)) !== "open");
  await sleep(1_200);
  proxy.up();
  await eventually("alice to reconnect", async () => (await state(alice)) === "open", 15_000);
  await sending;
  await eventually("every message at alice", async () => (await shown(alice, "flow ")).length >= sent.length, 20_000);
  await sleep(500); // nothing more may come: a duplicate would show now
  assert.deepEqual(await shown(alice, "flow "), sent, "every message exactly once, in order");
  assert.ok(rejoins.some((joined) => joined.recovered === true), `a recovered rejoin: ${JSON.stringify(rejoins)}`);
  // A page that joins later shows the room's recent history.
  const carol = await open(chatUrl(`carol-flow-${run}`), "carol");
  await joinRoom(carol, room);
  await eventually("carol to see the history", async () => (await shown(carol, "flow ")).length === sent.length, 15_000);
  assert.deepEqual(await shown(carol, "flow "), sent, "the history, in order");
  await screenshot(alice, "chat-recovered");
  for (const page of [alice, bob, carol]) await page.close();
});

/** The page's WebSocket endpoint (its meta, resolved against the page) as a ws: URL. */
async function websocketEndpoint(pageUrl) {
  const html = await (await fetch(pageUrl)).text();
  const meta = html.match(/<meta name="xws-websocket" content="([^"]*)"/);
  assert.ok(meta, `${pageUrl} has no <meta name="xws-websocket">`);
  const url = new URL(meta[1], pageUrl);
  url.protocol = url.protocol.replace(/^http/, "ws");
  if (!url.port) url.port = url.protocol === "wss:" ? "443" : "80";
  return url;
}

/** Starts recording the page client's events; returns a function reading them. */
async function recordEvents(page) {
  await page.evaluate(() => {
    window.xwsEvents = [];
    for (const event of ["open", "close", "reconnecting"]) {
      window.xws.on(event, (detail) => window.xwsEvents.push({ event, ...detail }));
    }
  });
  return () => page.evaluate(() => window.xwsEvents);
}

// --- the use-case examples -----------------------------------------------

test(`[${targetName}] the dashboard chart follows the scheduled metrics`, { timeout: 60_000 }, async () => {
  const { url } = servers.dashboard;
  const page = await open(`${url}/`, "dashboard");
  // The page draws every sample it gets: a rising count of chart points.
  const points = () => page.evaluate(() => window.dashboardPoints?.length ?? 0);
  await eventually("the chart to hold 8 samples", async () => {
    await target.runSchedule(url);
    return (await points()) >= 8;
  }, 30_000, 250);
  assert.match(await text(page, "#rps"), /^\d+\.\d$/);
  assert.ok(Number(await text(page, "#connections")) >= 1, "the cards count this page's connection");
  await screenshot(page, "dashboard");
  await page.close();
});

test(`[${targetName}] an import's progress bar moves in both tabs of its user only`, { timeout: 60_000 }, async () => {
  const { url } = servers["import-progress"];
  const [ada, bob] = [`ada-${run}`, `bob-${run}`];
  const first = await open(`${url}/?user=${ada}`, "ada's first tab");
  const second = await open(`${url}/?user=${ada}`, "ada's second tab");
  const other = await open(`${url}/?user=${bob}`, "bob");
  await first.locator("#total").fill("400");
  await first.locator("#start").click();
  await eventually("progress in the second tab", async () => /^\d+% \(\d+ of 400 records\)$/.test(await text(second, "#status")));
  await screenshot(first, "import-progress");
  for (const [page, label] of [[first, "first"], [second, "second"]]) {
    await eventually(`completion in the ${label} tab`, async () => (await text(page, "#status")) === "Import complete: 400 records.", 20_000);
    assert.equal(await page.locator("#fill").evaluate((el) => el.style.width), "100%");
  }
  assert.equal(await text(other, "#status"), "No import running.");
  for (const page of [first, second, other]) await page.close();
});

test(`[${targetName}] notifications arrive after being offline, once, and read marks cross tabs`, { timeout: 60_000 }, async () => {
  const { url } = servers.notifications;
  const user = `ada-${run}`;
  // The demo login: a signed token for the user (`POST /api/login`).
  const login = await (await fetch(`${url}/api/login?user=${user}`, { method: "POST" })).json();
  const notify = (title) => fetch(`${url}/api/notify?token=${login.token}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ title, body: "from the test" }),
  }).then((r) => r.json());
  const offline = await notify("Sent offline");
  assert.equal(offline.delivered, 0);

  const first = await open(`${url}/?user=${user}`, "ada's first tab");
  const tags = (page) => page.locator("#list .tag").count();
  await eventually("the missed one, tagged", async () => (await tags(first)) === 1);
  const second = await open(`${url}/?user=${user}`, "ada's second tab");
  await eventually("the second tab's list", async () => (await second.locator("#list li").count()) === 1);
  assert.equal(await tags(second), 0, "the missed one was replayed to a second tab");

  await second.locator("#title").fill("Live one");
  await second.locator("#send button").click();
  await eventually("the live one in the first tab", async () => (await first.locator("#list li").count()) === 2);
  assert.equal(await text(first, "#unread"), "2");

  await first.locator("#list li.unread button").first().click();
  await eventually("the read mark in the second tab", async () => (await text(second, "#unread")) === "1");
  await screenshot(first, "notifications");
  await first.close();
  await second.close();
});

// --- the heartbeat ---------------------------------------------------------

test(
  `[${targetName}] every page stays connected through an idle stretch: pings answered, zero reconnects`,
  { timeout: 60_000 },
  async () => {
    const urls = {
      chat: chatUrl(`idle-${run}`),
      dashboard: `${servers.dashboard.url}/`,
      "import-progress": `${servers["import-progress"].url}/?user=idle-${run}`,
      notifications: `${servers.notifications.url}/?user=idle-${run}`,
    };
    const pages = [];
    for (const name of EXAMPLES) {
      const page = await browser.page();
      const frames = { pings: 0, pongs: 0 };
      page.on("websocket", (ws) => {
        ws.on("framesent", ({ payload }) => payload === '{"xws":"ping"}' && frames.pings++);
        ws.on("framereceived", ({ payload }) => payload === '{"xws":"pong"}' && frames.pongs++);
      });
      await page.addInitScript((options) => (window.xwsOptions = options), FAST_HEARTBEAT);
      await page.goto(urls[name]);
      await eventually(`the ${name} page to be open`, async () => (await state(page)) === "open", 15_000);
      pages.push({ name, page, frames, events: await recordEvents(page) });
    }
    await sleep(IDLE_MS);
    for (const { name, page, frames, events } of pages) {
      assert.deepEqual(await events(), [], `the ${name} page lost its connection while idle`);
      assert.equal(await state(page), "open", `the ${name} page`);
      assert.ok(frames.pings >= 3, `the ${name} page sent ${frames.pings} pings in ${IDLE_MS} ms`);
      assert.ok(frames.pongs >= frames.pings - 1, `the ${name} page got ${frames.pongs} pongs for ${frames.pings} pings`);
      await page.close();
    }
  },
);
