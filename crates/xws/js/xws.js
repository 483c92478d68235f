// xws.js: the browser client of xws. One dependency-free ES module.
//
//   import { connect } from "/xws.js";
//   const chat = connect("/api/ws?user=ada", { fallback: "/api/fallback" });
//   chat.on("open", () => chat.send({ type: "join-room", roomId: "lobby" }));
//   chat.on("message", (msg) => console.log(msg));
//   chat.send({ type: "send-to-room", roomId: "lobby", text: "hi" });
//
// What it does for the app:
// - Reconnects after any drop (a deploy, a laptop lid, an idle proxy) with
//   exponential backoff and jitter; `open` fires again after each reconnect,
//   so the app rejoins its rooms there.
// - Queues what is sent while disconnected (bounded by `queueLimit`) and
//   delivers it after the reconnect, after whatever the `open` listeners
//   send (so rooms are rejoined before queued messages reach them).
// - Heartbeat: every `pingInterval` it sends the text `{"xws":"ping"}`; the
//   server answers `{"xws":"pong"}` without calling its handler (see
//   xws::client::APP_PING). Without any message back within `pingTimeout` the
//   connection is considered dead and replaced, even when the browser has
//   not noticed. The pong never reaches the app. Protocol pings from the
//   server are answered by the browser itself. The ping also keeps idle
//   proxies from closing a quiet connection (API Gateway closes sockets
//   idle for 10 minutes).
// - Close notices: where the server cannot send a close frame with a code
//   (AWS API Gateway), it sends `{"xws":"close","code":N,"reason":"..."}`
//   and then closes; `close` reports that code and reason.
// - Binary as text: where the server refuses binary frames (AWS API Gateway
//   closes with 1003), `binaryAsText: true` sends each ArrayBuffer or typed
//   array as `{"xws":"binary","data":"<base64>"}`, which the server's session
//   hands to its handler as the binary message (xws::client::binary_notice).
//   Such notices from the server always arrive as ArrayBuffers.
// - Falls back to Server-Sent Events + HTTP POST (xws_tokio's
//   `Xws::fallback`) when a WebSocket cannot be opened, with the same API.
//   Once the fallback worked where the WebSocket did not, it is kept.
// - Signed tokens: with a `token` callback (sync or async, returning the
//   current token), every connection attempt asks it for a token and sends
//   it as `?token=`. When the server closes with 3000 ("token expired",
//   xws-auth) the client asks again and reconnects at once:
//     connect("/api/ws", { token: () => fetch("/api/login").then((r) => r.text()) })
// - Streams (topics that keep history on the server, xws::stream): messages
//   that carry a position (`"offset"` and `"epoch"`) move the client's
//   position for their stream (the offset up to which it saw every one),
//   named by the `streamOf` option (default: the message's `topic`). A
//   message seen already in the same epoch is a duplicate and is dropped. `subscribe(stream, build)` sends
//   `build(since)` now and after every reconnect (before the queue
//   flushes), `since` being the last position (`{offset, epoch}`, or
//   undefined before the first message): the server replays what was
//   missed, and the app sees every message once, in order. Whether the
//   server could recover is the app's protocol (the chat's `joined` says
//   `recovered`):
//     chat.subscribe("lobby", (since) => ({ type: "join-room", roomId: "lobby", since }));
//
// Events (`on(event, fn)` returns a function that removes the listener):
//   open          { transport: "websocket" | "sse", reconnected }
//   message       parsed JSON; the raw string when it is not JSON; an
//                 ArrayBuffer for binary messages
//   close         { code, reason, wasClean, willReconnect }
//   reconnecting  { attempt, delay } (milliseconds until the next attempt)
//   error         an Error (queue full, gave up, a failed POST)
//   state         "connecting" | "open" | "reconnecting" | "closed"

/** The text the client sends to learn that the connection is alive. */
export const APP_PING = '{"xws":"ping"}';
/** The server's answer to APP_PING. */
export const APP_PONG = '{"xws":"pong"}';

/** Options and their defaults (delays in milliseconds). */
export const DEFAULTS = Object.freeze({
  /** WebSocket subprotocols. */
  protocols: undefined,
  /** First reconnection delay, growing by `factor` up to `maxDelay`. */
  minDelay: 250,
  maxDelay: 10000,
  factor: 2,
  /** Share of each delay drawn at random (0..1), so clients spread out. */
  jitter: 0.5,
  /** Reconnection attempts (after the first connection attempt) that may fail in a
   *  row before the client gives up (`close` with willReconnect false). */
  maxAttempts: Infinity,
  /** Messages kept while disconnected; `send` refuses more. */
  queueLimit: 100,
  pingInterval: 25000,
  pingTimeout: 10000,
  /** How long opening may take before the attempt counts as failed. */
  openTimeout: 5000,
  /** URL of the SSE + POST fallback (e.g. "/api/fallback"), or null. It gets
   *  the WebSocket URL's query unless it has its own. */
  fallback: null,
  /** A function returning the token (or a promise of it), called before
   *  every connection attempt; sent as `?token=`. null: the URL as given. */
  token: null,
  /** Send binary messages as base64 text notices, for servers behind AWS API
   *  Gateway (which refuses binary frames). A Blob cannot be sent then. */
  binaryAsText: false,
  /** Whether to reconnect after the server closed with this { code, reason }.
   *  By default: not after 1008 (policy violation) nor application codes 4000-4999. */
  shouldReconnect: ({ code }) => code !== 1008 && !(code >= 4000 && code <= 4999),
  /** The stream a message with a position belongs to (see `subscribe`), or
   *  undefined for messages that are not publications of a stream. */
  streamOf: (message) => message.topic,
});

/** Opens a reconnecting connection to `url` (relative URLs resolve against the page). */
export function connect(url, options = {}) {
  return new XwsClient(url, options);
}

/** The close code of an expired token (xws-auth; IANA's "Unauthorized"). */
export const TOKEN_EXPIRED = 3000;

/** A connection that survives real networks. Create it with `connect`. */
export class XwsClient {
  #options;
  #url;
  #fallbackUrl;
  #listeners = new Map();
  #queue = [];
  #requeueAt = 0;
  #transport = null;
  #transportName = null;
  #state = "connecting";
  #attempt = 0;
  #opened = false;
  #preferSse = false;
  #lastFailed = null;
  #retryTimer = null;
  #pingTimer = null;
  #pongTimer = null;
  #closedByApp = false;
  /** stream -> its last position { offset, epoch } */
  #positions = new Map();
  /** stream -> build(since): the message that (re)subscribes it */
  #subscriptions = new Map();
  #onOnline = () => {
    if (this.#state === "reconnecting" && this.#retryTimer) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
      this.#start();
    }
  };

  constructor(url, options = {}) {
    this.#options = { ...DEFAULTS, ...options };
    const base = globalThis.location?.href;
    this.#url = withScheme(new URL(url, base), "ws");
    if (this.#options.fallback) {
      const fallback = withScheme(new URL(this.#options.fallback, base), "http");
      if (!fallback.search) fallback.search = this.#url.search;
      this.#fallbackUrl = fallback;
    }
    // Back online: no reason to sit out the backoff.
    globalThis.addEventListener?.("online", this.#onOnline);
    this.#start();
  }

  /** "connecting" | "open" | "reconnecting" | "closed" */
  get state() {
    return this.#state;
  }

  /** "websocket", "sse", or null while not open. */
  get transport() {
    return this.#state === "open" ? this.#transportName : null;
  }

  /** Messages waiting for a connection. */
  get queued() {
    return this.#queue.length;
  }

  /** Listens to `event`; returns a function that stops listening. */
  on(event, fn) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(fn);
    return () => this.off(event, fn);
  }

  /** Stops calling `fn` for `event`. */
  off(event, fn) {
    this.#listeners.get(event)?.delete(fn);
  }

  /**
   * Sends `value`: strings as text, ArrayBuffer / typed arrays / Blobs as
   * binary, anything else JSON-encoded. While disconnected the message is
   * queued. Returns false (and emits `error`) when the queue is full or the
   * client was closed.
   */
  send(value) {
    const data = encode(value, this.#options.binaryAsText);
    if (this.#closedByApp) {
      this.#emit("error", new Error("xws: send after close()"));
      return false;
    }
    if (this.#state === "open" && this.#queue.length === 0 && this.#transport.send(data)) {
      return true;
    }
    if (this.#queue.length >= this.#options.queueLimit) {
      this.#emit("error", new Error(`xws: send queue full (${this.#options.queueLimit} messages)`));
      return false;
    }
    this.#queue.push(data);
    return true;
  }

  /**
   * Subscribes to `stream` with recovery: sends `build(since)` now if open
   * and after every reconnect, `since` being the last position seen on the
   * stream (undefined before its first message). Returns a function that
   * stops resubscribing (the app sends its own "leave").
   */
  subscribe(stream, build) {
    this.#subscriptions.set(stream, build);
    if (this.#state === "open") this.#transport.send(encode(build(this.position(stream))));
    return () => this.unsubscribe(stream);
  }

  /** Stops resubscribing `stream` after reconnects and forgets its position. */
  unsubscribe(stream) {
    this.#subscriptions.delete(stream);
    this.#positions.delete(stream);
  }

  /** The position on `stream` up to which every publication was seen:
   *  { offset, epoch }, or undefined before the first one. */
  position(stream) {
    const position = this.#positions.get(stream);
    return position && { offset: position.offset, epoch: position.epoch };
  }

  /** Closes for good: no reconnection; queued messages are dropped. */
  close(code = 1000, reason = "") {
    if (this.#closedByApp) return;
    this.#closedByApp = true;
    globalThis.removeEventListener?.("online", this.#onOnline);
    clearTimeout(this.#retryTimer);
    // After giving up there is nothing left to close or to report.
    if (this.#state === "closed") return;
    this.#stopHeartbeat();
    this.#transport?.close(code, reason);
    this.#transport = null;
    this.#queue.length = 0;
    this.#setState("closed");
    this.#emit("close", { code, reason, wasClean: true, willReconnect: false });
  }

  #start() {
    this.#retryTimer = null;
    if (this.#closedByApp) return;
    if (!this.#options.token) return this.#open();
    // A fresh token for every attempt: the last one may have expired.
    Promise.resolve()
      .then(() => this.#options.token())
      .then(
        (token) => {
          for (const url of [this.#url, this.#fallbackUrl]) url?.searchParams.set("token", token);
          if (!this.#closedByApp) this.#open();
        },
        (error) => {
          this.#emit("error", new Error(`xws: the token callback failed: ${error}`));
          this.#onClose({ code: 1006, reason: "no token", wasClean: false, opened: false });
        },
      );
  }

  #open() {
    const useSse =
      this.#fallbackUrl && (this.#preferSse || this.#lastFailed === "websocket");
    this.#transportName = useSse ? "sse" : "websocket";
    this.#requeueAt = 0;
    const handlers = {
      open: () => this.#onOpen(),
      message: (data) => this.#onMessage(data),
      close: (info) => this.#onClose(info),
      error: (error) => this.#emit("error", error),
      requeue: (data) => this.#queue.splice(this.#requeueAt++, 0, data),
    };
    const { openTimeout, protocols } = this.#options;
    this.#transport = useSse
      ? openEventSource(this.#fallbackUrl, openTimeout, handlers)
      : openWebSocket(this.#url, protocols, openTimeout, handlers);
  }

  #onOpen() {
    const reconnected = this.#opened;
    this.#opened = true;
    this.#attempt = 0;
    if (this.#transportName === "sse" && this.#lastFailed === "websocket") this.#preferSse = true;
    this.#lastFailed = null;
    this.#setState("open");
    this.#startHeartbeat();
    this.#emit("open", { transport: this.#transportName, reconnected });
    // Streams recover from their last position, before the queue flushes.
    for (const [stream, build] of this.#subscriptions) {
      if (this.#state !== "open") break;
      this.#transport.send(encode(build(this.position(stream))));
    }
    this.#flush();
  }

  #flush() {
    while (this.#queue.length && this.#state === "open") {
      if (!this.#transport.send(this.#queue[0])) break;
      this.#queue.shift();
    }
  }

  #onMessage(data) {
    this.#alive();
    if (data === APP_PONG) return;
    if (typeof data !== "string") {
      this.#emit("message", data);
      return;
    }
    const binary = binaryNotice(data);
    if (binary) {
      this.#emit("message", binary);
      return;
    }
    let value = data;
    try {
      value = JSON.parse(data);
    } catch {
      // Not JSON: the app gets the text as it came.
    }
    if (this.#isDuplicate(value)) return;
    this.#emit("message", value);
  }

  /**
   * Records a publication's position; true when it was seen already. The
   * position is the offset up to which every publication was seen; one
   * that arrives ahead of a gap (publishers on AWS post in parallel) is
   * kept aside, so a recovery from the position fills the gap and what
   * was seen already is dropped.
   */
  #isDuplicate(value) {
    if (value === null || typeof value !== "object") return false;
    const { offset, epoch } = value;
    if (typeof offset !== "number" || typeof epoch !== "string") return false;
    const stream = this.#options.streamOf(value);
    if (stream === undefined || stream === null) return false;
    const last = this.#positions.get(stream);
    if (!last || last.epoch !== epoch) {
      this.#positions.set(stream, { offset, epoch, ahead: new Set() });
      return false;
    }
    if (offset <= last.offset || last.ahead.has(offset)) return true;
    if (offset === last.offset + 1) {
      last.offset = offset;
      while (last.ahead.delete(last.offset + 1)) last.offset += 1;
    } else {
      last.ahead.add(offset);
    }
    return false;
  }

  #onClose({ code, reason, wasClean, opened }) {
    this.#stopHeartbeat();
    this.#transport = null;
    if (this.#closedByApp) return;
    if (!opened) this.#lastFailed = this.#transportName;
    const serverSaidStop = opened && wasClean && !this.#options.shouldReconnect({ code, reason });
    // A WebSocket that could not open is retried at once over the fallback;
    // an expired token, at once with a fresh one.
    const tryFallbackNow = !opened && this.#transportName === "websocket" && this.#fallbackUrl;
    const refreshNow = opened && code === TOKEN_EXPIRED && Boolean(this.#options.token);
    const now = tryFallbackNow || refreshNow;
    if (!now) this.#attempt += 1;
    const willReconnect = !serverSaidStop && this.#attempt <= this.#options.maxAttempts;
    if (opened) this.#emit("close", { code, reason, wasClean, willReconnect });
    if (!willReconnect) {
      this.#setState("closed");
      if (!opened) {
        this.#emit("error", new Error(`xws: gave up after ${this.#attempt - 1} reconnection attempts`));
        this.#emit("close", { code, reason, wasClean, willReconnect: false });
      }
      return;
    }
    this.#setState(this.#opened || this.#attempt ? "reconnecting" : "connecting");
    const delay = now ? 0 : this.#delay();
    if (!now) this.#emit("reconnecting", { attempt: this.#attempt, delay });
    this.#retryTimer = setTimeout(() => this.#start(), delay);
  }

  #delay() {
    const { minDelay, maxDelay, factor, jitter } = this.#options;
    const full = Math.min(maxDelay, minDelay * factor ** (this.#attempt - 1));
    return Math.round(full * (1 - jitter * Math.random()));
  }

  #startHeartbeat() {
    this.#stopHeartbeat();
    const { pingInterval, pingTimeout } = this.#options;
    if (!(pingInterval > 0)) return;
    this.#pingTimer = setInterval(() => {
      if (this.#pongTimer || !this.#transport) return;
      this.#transport.send(APP_PING);
      this.#pongTimer = setTimeout(() => {
        this.#pongTimer = null;
        // Dead without the browser noticing: replace the connection.
        this.#transport?.abort("heartbeat timeout");
      }, pingTimeout);
    }, pingInterval);
  }

  #alive() {
    clearTimeout(this.#pongTimer);
    this.#pongTimer = null;
  }

  #stopHeartbeat() {
    clearInterval(this.#pingTimer);
    this.#alive();
    this.#pingTimer = null;
  }

  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit("state", state);
  }

  #emit(event, value) {
    for (const fn of [...(this.#listeners.get(event) ?? [])]) {
      try {
        fn(value);
      } catch (error) {
        // One failing listener must not stop the others nor the client.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}

function withScheme(url, kind) {
  const secure = url.protocol === "https:" || url.protocol === "wss:";
  url.protocol = kind === "ws" ? (secure ? "wss:" : "ws:") : secure ? "https:" : "http:";
  return url;
}

function encode(value, binaryAsText) {
  if (typeof value === "string") return value;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return binaryAsText ? BINARY_NOTICE_PREFIX + toBase64(value) + '"}' : value;
  }
  if (typeof Blob !== "undefined" && value instanceof Blob) {
    if (binaryAsText) throw new TypeError("xws: with binaryAsText, send an ArrayBuffer, not a Blob");
    return value;
  }
  return JSON.stringify(value);
}

/** A WebSocket as a transport: open, message, close once. */
function openWebSocket(url, protocols, openTimeout, handlers) {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  let opened = false;
  let done = false;
  const finish = (code, reason, wasClean) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    handlers.close({ code, reason, wasClean, opened });
  };
  const timer = setTimeout(() => {
    if (!opened) abort("open timed out");
  }, openTimeout);
  const abort = (reason) => {
    try {
      ws.close();
    } catch {
      // Already closing.
    }
    finish(1006, reason, false);
  };
  ws.onopen = () => {
    opened = true;
    clearTimeout(timer);
    handlers.open();
  };
  ws.onmessage = (event) => {
    const notice = closeNotice(event.data);
    if (!notice) return handlers.message(event.data);
    // The server closes after this notice with a code of its own (API
    // Gateway cannot send one): the notice's code is the close.
    try {
      ws.close();
    } catch {
      // Already closing.
    }
    finish(notice.code, notice.reason, true);
  };
  ws.onclose = (event) => finish(event.code, event.reason, event.wasClean);
  return {
    send(data) {
      if (done || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(data);
      return true;
    },
    close(code, reason) {
      try {
        ws.close(code, reason);
      } catch {
        ws.close();
      }
      finish(code, reason, true);
    },
    abort,
  };
}

/**
 * The SSE + POST fallback as a transport: messages arrive as SSE events,
 * each sent message is one POST (in order), DELETE says goodbye.
 */
function openEventSource(url, openTimeout, handlers) {
  const source = new EventSource(url);
  let session = null;
  let done = false;
  let chain = Promise.resolve();
  const finish = (code, reason, wasClean) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    source.close();
    handlers.close({ code, reason, wasClean, opened: session !== null });
  };
  const abort = (reason) => finish(1006, reason, false);
  const timer = setTimeout(() => {
    if (session === null) abort("open timed out");
  }, openTimeout);
  const sessionUrl = () => {
    const target = new URL(url);
    target.search = "";
    target.searchParams.set("session", session);
    return target;
  };
  const post = async (data) => {
    if (done) return handlers.requeue(data);
    const binary = typeof data !== "string";
    let response;
    try {
      response = await fetch(sessionUrl(), {
        method: "POST",
        body: data,
        headers: { "content-type": binary ? "application/octet-stream" : "text/plain;charset=utf-8" },
      });
    } catch {
      handlers.requeue(data);
      return abort("POST failed");
    }
    if (response.status === 404) {
      handlers.requeue(data);
      return abort("session ended");
    }
    if (!response.ok) {
      handlers.error(new Error(`xws: POST answered ${response.status}: ${await response.text()}`));
    }
  };
  source.addEventListener("xws-session", (event) => {
    session = event.data;
    clearTimeout(timer);
    handlers.open();
  });
  source.addEventListener("message", (event) => handlers.message(event.data));
  source.addEventListener("binary", (event) => handlers.message(fromBase64(event.data)));
  source.addEventListener("xws-close", (event) => {
    const { code, reason } = JSON.parse(event.data);
    finish(code, reason, true);
  });
  // EventSource would reconnect by itself into a new session; the client
  // decides instead, with its own backoff.
  source.onerror = () => finish(1006, "event stream failed", false);
  return {
    send(data) {
      if (done || session === null) return false;
      chain = chain.then(() => post(data));
      return true;
    },
    close(code, reason) {
      if (session !== null && !done) {
        fetch(sessionUrl(), { method: "DELETE", keepalive: true }).catch(() => {});
      }
      finish(code, reason, true);
    },
    abort,
  };
}

/** `{code, reason}` of a close notice (`xws::client::close_notice`), else null. */
function closeNotice(data) {
  if (typeof data !== "string" || !data.startsWith('{"xws":"close"')) return null;
  try {
    const { code, reason = "" } = JSON.parse(data);
    return Number.isInteger(code) ? { code, reason } : null;
  } catch {
    return null;
  }
}

/** What every binary notice (`xws::client::binary_notice`) starts with. */
const BINARY_NOTICE_PREFIX = '{"xws":"binary","data":"';

/** The ArrayBuffer a binary notice carries, else null. */
function binaryNotice(data) {
  if (!data.startsWith(BINARY_NOTICE_PREFIX) || !data.endsWith('"}')) return null;
  try {
    return fromBase64(data.slice(BINARY_NOTICE_PREFIX.length, -2));
  } catch {
    return null;
  }
}

function toBase64(value) {
  const bytes = value instanceof ArrayBuffer
    ? new Uint8Array(value)
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  let text = "";
  // In chunks: String.fromCharCode takes its bytes as arguments.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return bytes.buffer;
}
