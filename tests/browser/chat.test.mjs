// The chat page in headless Chromium, through xws.js: rooms, a server
// restart, and the SSE + POST fallback when WebSockets are refused.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import {
  artifacts,
  eventually,
  freePort,
  launchBrowser,
  startChat,
  startProxy,
} from "./harness.mjs";

let browser;
const cleanups = [];

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await browser?.close();
});

async function chatServer(port, env) {
  const server = await startChat(port, env);
  cleanups.push(() => server.stop());
  return server;
}

async function openChat(baseUrl, user) {
  const page = await browser.page();
  page.on("pageerror", (error) => console.error(`[${user}] page error:`, error));
  await page.goto(`${baseUrl}/?user=${user}`);
  await waitOpen(page);
  return page;
}

const state = (page) => page.locator("#state").textContent();
const waitOpen = (page) => eventually("the page to be open", async () => (await state(page)) === "open");
const logText = (page) => page.locator("#log").innerText();

/** Types in `from` until `to` shows the typing indicator: both are in the room. */
async function typingReaches(from, to, name) {
  await eventually(`${name}'s typing indicator`, async () => {
    await from.locator("#text").pressSequentially("x", { delay: 0 });
    await from.evaluate(() => new Promise((resolve) => setTimeout(resolve, 1100)));
    return (await to.locator("#typing").innerText()).includes("typing");
  }, 15_000, 50);
  await from.locator("#text").fill("");
}

/** The HTTP status a WebSocket upgrade request gets. */
function upgradeStatus(url) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, {
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
      timeout: 5_000,
    });
    request.on("response", (response) => { response.resume(); resolve(response.statusCode); });
    request.on("upgrade", (response, socket) => { socket.destroy(); resolve(response.statusCode); });
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", reject);
  });
}

/** Sends bytes through the page's client and returns what the chat echoes. */
function binaryEcho(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const off = window.chat.on("message", (message) => {
      if (message instanceof ArrayBuffer) {
        off();
        resolve([...new Uint8Array(message)]);
      }
    });
    window.chat.send(new Uint8Array([0, 1, 127, 255]));
  }));
}

async function say(page, text) {
  await page.locator("#text").fill(text);
  await page.locator("#send button").click();
}

async function joinRoom(page, room) {
  await page.locator("#room-name").fill(room);
  await page.locator("#join button").click();
}

test("two pages chat through a room", { timeout: 60_000 }, async () => {
  const server = await chatServer(await freePort());
  const alice = await openChat(server.url, "alice");
  const bob = await openChat(server.url, "bob");
  assert.equal(await alice.evaluate(() => window.chat.transport), "websocket");
  assert.deepEqual(await binaryEcho(alice), [0, 1, 127, 255]);

  await joinRoom(alice, "design");
  await joinRoom(bob, "design");
  await typingReaches(alice, bob, "alice");
  await say(alice, "Hello from Alice");
  await eventually("bob to get alice's message", async () => (await logText(bob)).includes("Hello from Alice"));
  await say(bob, "Hi Alice, Bob here");
  await eventually("alice to get bob's reply", async () => (await logText(alice)).includes("Bob here"));

  // The lobby did not get the room's messages.
  await bob.locator(".room", { hasText: "lobby" }).click();
  assert.ok(!(await logText(bob)).includes("Hello from Alice"));
  await bob.locator(".room", { hasText: "design" }).click();

  await say(alice, "Rooms, typing indicators and reconnects come with xws.js.");
  await eventually("bob to get the second message", async () => (await logText(bob)).includes("come with xws.js"));
  await typingReaches(alice, bob, "alice");
  await alice.locator("#text").pressSequentially("x");
  await eventually("the indicator", async () => (await bob.locator("#typing").innerText()).includes("typing"));
  fs.mkdirSync(artifacts, { recursive: true });
  await bob.screenshot({ path: path.join(artifacts, "chat.png") });
  await alice.close();
  await bob.close();
});

test("a page reconnects after a server restart and delivers what was sent meanwhile", { timeout: 90_000 }, async () => {
  const port = await freePort();
  let server = await chatServer(port);
  // Alice reaches the server through a proxy, so the test decides when her
  // network comes back: after Bob has rejoined the room.
  const proxy = await startProxy(port);
  cleanups.push(() => proxy.close());
  const alice = await openChat(proxy.url, "alice");
  const bob = await openChat(server.url, "bob");
  await typingReaches(alice, bob, "alice");
  await say(alice, "before the restart");
  await eventually("the first message", async () => (await logText(bob)).includes("before the restart"));

  proxy.down();
  await server.stop();
  await eventually("both pages to notice", async () =>
    (await state(alice)) !== "open" && (await state(bob)) !== "open");
  await say(alice, "sent while the server was down");
  assert.equal(await alice.evaluate(() => window.chat.queued), 1);
  assert.equal(await alice.locator(".msg.queued").count(), 1);
  fs.mkdirSync(artifacts, { recursive: true });
  await alice.screenshot({ path: path.join(artifacts, "chat-offline.png") });

  server = await chatServer(port);
  await waitOpen(bob);
  assert.ok((await logText(bob)).includes("reconnected"));
  proxy.up();
  await waitOpen(alice);
  await eventually("the queued message to arrive", async () =>
    (await logText(bob)).includes("sent while the server was down"), 15_000);
  assert.equal(await alice.evaluate(() => window.chat.queued), 0);
  await eventually("alice's message to show as delivered", async () => (await alice.locator(".msg.queued").count()) === 0);
  await say(bob, "welcome back");
  await eventually("bob's answer", async () => (await logText(alice)).includes("welcome back"));
  await alice.close();
  await bob.close();
});

test("SSE + POST carry the conversation when WebSockets are refused", { timeout: 60_000 }, async () => {
  const server = await chatServer(await freePort(), { CHAT_REFUSE_WEBSOCKET: "1" });
  assert.equal(await upgradeStatus(`${server.url}/api/ws`), 403);

  const alice = await openChat(server.url, "alice");
  const bob = await openChat(server.url, "bob");
  for (const page of [alice, bob]) {
    assert.equal(await page.evaluate(() => window.chat.transport), "sse");
    assert.match(await page.locator("#transport").innerText(), /SSE/);
  }
  await typingReaches(alice, bob, "alice");
  await say(alice, "no WebSocket here");
  await eventually("bob to get it over SSE", async () => (await logText(bob)).includes("no WebSocket here"));
  await say(bob, "POST works too");
  await eventually("alice to get the reply", async () => (await logText(alice)).includes("POST works too"));
  // Binary goes up as application/octet-stream and comes back base64 in SSE.
  assert.deepEqual(await binaryEcho(alice), [0, 1, 127, 255]);
  await alice.close();
  await bob.close();
});

test("fallback pages reconnect after a server restart too", { timeout: 90_000 }, async () => {
  const port = await freePort();
  const env = { CHAT_REFUSE_WEBSOCKET: "1" };
  let server = await chatServer(port, env);
  const alice = await openChat(server.url, "alice");
  const bob = await openChat(server.url, "bob");
  await server.stop();
  await eventually("both pages to notice", async () =>
    (await state(alice)) !== "open" && (await state(bob)) !== "open");
  server = await chatServer(port, env);
  for (const page of [alice, bob]) {
    await waitOpen(page);
    assert.equal(await page.evaluate(() => window.chat.transport), "sse");
  }
  await typingReaches(alice, bob, "alice");
  await say(alice, "still here over SSE");
  await eventually("bob to get it", async () => (await logText(bob)).includes("still here over SSE"));
  await alice.close();
  await bob.close();
});

test("the heartbeat replaces a connection that went dead silently", { timeout: 60_000 }, async () => {
  const port = await freePort();
  await chatServer(port);
  const proxy = await startProxy(port);
  cleanups.push(() => proxy.close());
  const page = await browser.page();
  await page.goto(`${proxy.url}/xws.js`);
  await page.evaluate(async () => {
    const { connect } = await import("/xws.js");
    window.events = [];
    const client = connect("/api/ws?user=probe", { pingInterval: 300, pingTimeout: 700, openTimeout: 1000, minDelay: 100, maxDelay: 500 });
    for (const event of ["open", "close", "reconnecting"]) client.on(event, (e) => window.events.push({ event, ...e }));
    window.client = client;
  });
  const events = () => page.evaluate(() => window.events.map((e) => e.event));
  await eventually("open", async () => (await events()).includes("open"));
  // Pings are answered: several intervals pass without a reconnect.
  await page.waitForTimeout(1500);
  assert.deepEqual(await events(), ["open"]);

  proxy.freeze();
  await eventually("the dead connection to be noticed", async () => (await events()).includes("reconnecting"), 5_000);
  const close = await page.evaluate(() => window.events.find((e) => e.event === "close"));
  assert.equal(close.reason, "heartbeat timeout");
  proxy.up();
  await eventually("a new connection", async () => (await events()).filter((e) => e === "open").length === 2, 10_000);
  assert.equal(await page.evaluate(() => window.client.state), "open");
  await page.close();
});

test("xws.js bounds its queue and gives up after maxAttempts", { timeout: 60_000 }, async () => {
  const server = await chatServer(await freePort());
  const nowhere = await freePort();
  const page = await browser.page();
  await page.goto(`${server.url}/xws.js`);
  const outcome = await page.evaluate(async (port) => {
    const { connect } = await import("/xws.js");
    const errors = [];
    const reconnecting = [];
    const client = connect(`ws://127.0.0.1:${port}/api/ws`, { queueLimit: 2, maxAttempts: 2, minDelay: 50, maxDelay: 100 });
    client.on("error", (error) => errors.push(error.message));
    client.on("reconnecting", ({ attempt }) => reconnecting.push(attempt));
    const sent = [client.send({ n: 1 }), client.send("two"), client.send({ n: 3 })];
    const close = await new Promise((resolve) => client.on("close", resolve));
    return { sent, errors, reconnecting, close, state: client.state, queued: client.queued };
  }, nowhere);
  assert.deepEqual(outcome.sent, [true, true, false]);
  assert.match(outcome.errors[0], /queue full/);
  assert.match(outcome.errors.at(-1), /gave up after 2 reconnection attempts/);
  assert.deepEqual(outcome.reconnecting, [1, 2]);
  assert.equal(outcome.close.willReconnect, false);
  assert.equal(outcome.state, "closed");
  assert.equal(outcome.queued, 2, "what was queued is kept until the app closes the client");
  await page.close();
});

/** An HS256 JWT signed with `secret`, as xws-auth verifies it. */
function hs256(secret, claims) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
  return `${body}.${crypto.createHmac("sha256", secret).update(body).digest("base64url")}`;
}

test("xws.js asks its token callback again and reconnects when the token expires (3000)", { timeout: 60_000 }, async () => {
  const secret = "browser test secret, 32 bytes long";
  const server = await chatServer(await freePort(), { CHAT_JWT_SECRET: secret });
  const page = await browser.page();
  let issued = 0;
  // The first token lives 2 s; the ones after it, a minute.
  await page.exposeFunction("login", () => {
    issued += 1;
    const now = Math.floor(Date.now() / 1000);
    return hs256(secret, { sub: "ada", exp: now + (issued === 1 ? 2 : 60) });
  });
  await page.goto(`${server.url}/xws.js`);
  const outcome = await page.evaluate(async () => {
    const { connect, TOKEN_EXPIRED } = await import("/xws.js");
    const closes = [];
    const client = connect("/api/ws", { token: () => window.login() });
    client.on("close", ({ code, reason, willReconnect }) => closes.push({ code, reason, willReconnect }));
    const users = [];
    client.on("message", (message) => {
      if (message.type === "echo") users.push(message.data.who);
    });
    await new Promise((resolve) => client.on("open", ({ reconnected }) => reconnected && resolve()));
    client.send({ who: "after refresh" });
    await new Promise((resolve) => client.on("message", (m) => m.type === "echo" && resolve()));
    client.close();
    return { closes, users, TOKEN_EXPIRED };
  });
  assert.equal(outcome.TOKEN_EXPIRED, 3000);
  assert.deepEqual(outcome.closes[0], { code: 3000, reason: "token expired", willReconnect: true });
  assert.deepEqual(outcome.users, ["after refresh"]);
  assert.equal(issued, 2, "one token per connection");
  await page.close();
});
