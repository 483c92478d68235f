//! The Lua scripts: each is one atomic step in Redis.
//!
//! Why scripts: the next offset, the append and the announcement must be
//! one step. Two nodes publishing to one topic then never share an offset,
//! and because the `PUBLISH` runs inside the step, every node hears of the
//! topic's publications in offset order (Redis runs scripts one at a time
//! and delivers a connection's pub/sub messages in order).
//!
//! The publication itself (topic, publisher, kind, payload) is sealed by
//! the publishing node with the broker's secret (HMAC-SHA256) before the
//! script sees it; the log keeps it sealed and the feed carries it sealed,
//! after its position in clear (`P\noffset\nepoch\ntime\n` + seal). Nodes
//! open the seal on the feed and on every history read, so neither a
//! stranger publishing on the channel nor one writing the keys can make a
//! node deliver content no node sealed. Presence events (`S` + seal) are
//! sealed by the node that joined the member; the leave event is sealed
//! at join time and kept in `…:leaving`, so the script can announce it
//! when the member lapses.
//!
//! Keys per topic: `…:meta` (a hash: `epoch`, `offset`, and `run`, the
//! Redis `run_id` that wrote them), `…:log` (a Redis Stream whose entry ids
//! are `{offset}-0`, so `XRANGE (N-0 +` reads everything after offset N,
//! with fields `t` (Redis time, ms) and `d` (the sealed publication)),
//! `…:members` (a hash: peer id → info JSON), `…:expiry` (a sorted set:
//! peer id → when its membership lapses unless refreshed) and `…:leaving`
//! (peer id → its sealed leave event).
//!
//! The epoch changes when the meta hash is gone (expired, or Redis lost its
//! data) *or* was written by another Redis run: after a restart or a
//! failover, Redis may have come back with an older copy of the stream
//! (RDB, AOF every second, asynchronous replicas), and reusing its offsets
//! could hand a client a different publication under a position it
//! already has. A new epoch makes clients refetch instead.

use redis::Script;

/// Opens the stream of a topic in the current epoch, starting a new epoch
/// (with `ARGV[1]` as its name) when needed. Defines `epoch`, `run`, `now`.
const OPEN: &str = r"
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'run')
local epoch = meta[1]
if (not epoch) or meta[2] ~= run then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0, 'run', run)
end
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
";

/// Appends a publication: KEYS meta, log; ARGV epoch candidate, size,
/// ttl ms, meta ttl ms, feed channel, sealed publication.
/// Returns `{offset, epoch, now}`.
const APPEND: &str = r"
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], offset .. '-0', 't', now, 'd', ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[5], 'P\n' .. offset .. '\n' .. epoch .. '\n' .. now .. '\n' .. ARGV[6])
return {offset, epoch, now}
";

/// Reads a topic's history: KEYS meta, log; ARGV epoch candidate,
/// `after` or `latest`, the offset or count, meta ttl ms.
/// Returns `{offset, epoch, now, entries}`.
const READ: &str = r"
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local offset = tonumber(redis.call('HGET', KEYS[1], 'offset'))
local entries = {}
if ARGV[2] == 'after' then
  entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[3] .. '-0', '+')
elseif tonumber(ARGV[3]) > 0 then
  entries = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[3])
end
return {offset, epoch, now, entries}
";

/// Adds or refreshes a member: KEYS members, expiry, leaving; ARGV feed
/// channel, peer, info, ttl ms, sealed join event, sealed leave event.
/// Runs after `EXPIRE`, so every refresh also announces the members that
/// lapsed meanwhile. The keys live twice the TTL: long enough for a lapsed
/// member to be found and announced. Announces a new member. Returns 1 if
/// new.
const JOIN: &str = r"
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[2])
local new = redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[6])
for _, key in ipairs(KEYS) do
  redis.call('PEXPIRE', key, 2 * tonumber(ARGV[4]))
end
if new == 1 then
  redis.call('PUBLISH', ARGV[1], 'S' .. ARGV[5])
end
return new
";

/// Removes one member (KEYS members, expiry, leaving), announcing its
/// stored leave event on `channel`; whether it was a member.
const REMOVE: &str = r"
local function remove(peer, channel)
  local was = redis.call('HDEL', KEYS[1], peer)
  redis.call('ZREM', KEYS[2], peer)
  local leaving = redis.call('HGET', KEYS[3], peer)
  redis.call('HDEL', KEYS[3], peer)
  if was == 1 and leaving then
    redis.call('PUBLISH', channel, 'S' .. leaving)
  end
  return was
end
";

/// Removes members whose membership lapsed (their node stopped refreshing
/// them), announcing each as leaving. ARGV[1] is the feed channel. Runs
/// first in joins and member reads; defines `now`.
const EXPIRE: &str = r"
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
for _, peer in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  remove(peer, ARGV[1])
end
";

/// Removes a member: KEYS members, expiry, leaving; ARGV feed channel,
/// peer. Returns 1 if it was a member.
const LEAVE: &str = r"
return remove(ARGV[2], ARGV[1])
";

/// The members: KEYS members, expiry, leaving; ARGV feed channel.
/// Returns `HGETALL` (peer, info, peer, info, …).
const MEMBERS: &str = r"
return redis.call('HGETALL', KEYS[1])
";

/// The member count: KEYS members, expiry, leaving; ARGV feed channel.
const COUNT: &str = r"
return redis.call('HLEN', KEYS[1])
";

/// Every script, compiled once.
pub(crate) struct Scripts {
    pub(crate) append: Script,
    pub(crate) read: Script,
    pub(crate) join: Script,
    pub(crate) leave: Script,
    pub(crate) members: Script,
    pub(crate) count: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        Self {
            append: Script::new(&format!("{OPEN}{APPEND}")),
            read: Script::new(&format!("{OPEN}{READ}")),
            join: Script::new(&format!("{REMOVE}{EXPIRE}{JOIN}")),
            leave: Script::new(&format!("{REMOVE}{LEAVE}")),
            members: Script::new(&format!("{REMOVE}{EXPIRE}{MEMBERS}")),
            count: Script::new(&format!("{REMOVE}{EXPIRE}{COUNT}")),
        }
    }

    pub(crate) fn all(&self) -> [&Script; 6] {
        [
            &self.append,
            &self.read,
            &self.join,
            &self.leave,
            &self.members,
            &self.count,
        ]
    }
}
