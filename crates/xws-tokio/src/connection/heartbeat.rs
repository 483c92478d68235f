//! Protocol ping/pong: find peers that stopped answering.

use tokio::time::Instant;

/// What the heartbeat wants done when it wakes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Send a ping now.
    Ping,
    /// Nothing to do yet.
    Wait,
    /// No frame since the last ping for longer than the timeout.
    Dead,
}

/// Heartbeat state of one connection. The configuration is the server's,
/// passed in rather than copied into every connection.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    next_ping: Instant,
    ping_sent: Option<Instant>,
}

impl Heartbeat {
    pub(crate) fn new(config: &xws::Heartbeat, now: Instant) -> Self {
        Self {
            next_ping: now + config.interval,
            ping_sent: None,
        }
    }

    /// When to wake next.
    pub(crate) fn deadline(&self, config: &xws::Heartbeat) -> Instant {
        match self.ping_sent {
            Some(sent) => (sent + config.timeout).min(self.next_ping),
            None => self.next_ping,
        }
    }

    /// Decides at `now`, given when the last frame of any kind arrived.
    pub(crate) fn wake(
        &mut self,
        config: &xws::Heartbeat,
        now: Instant,
        last_seen: Instant,
    ) -> Beat {
        if let Some(sent) = self.ping_sent {
            if last_seen >= sent {
                self.ping_sent = None;
            } else if now >= sent + config.timeout {
                return Beat::Dead;
            }
        }
        if now >= self.next_ping && self.ping_sent.is_none() {
            self.ping_sent = Some(now);
            self.next_ping = now + config.interval;
            return Beat::Ping;
        }
        Beat::Wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config() -> xws::Heartbeat {
        xws::Heartbeat {
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn a_silent_peer_is_dead_after_interval_plus_timeout() {
        let (config, t0) = (config(), Instant::now());
        let mut hb = Heartbeat::new(&config, t0);
        assert_eq!(hb.deadline(&config), t0 + Duration::from_secs(10));
        assert_eq!(
            hb.wake(&config, t0 + Duration::from_secs(10), t0),
            Beat::Ping
        );
        assert_eq!(hb.deadline(&config), t0 + Duration::from_secs(15));
        assert_eq!(
            hb.wake(&config, t0 + Duration::from_secs(15), t0),
            Beat::Dead
        );
    }

    #[test]
    fn an_answering_peer_stays_alive() {
        let (config, t0) = (config(), Instant::now());
        let mut hb = Heartbeat::new(&config, t0);
        let ping_at = t0 + Duration::from_secs(10);
        assert_eq!(hb.wake(&config, ping_at, t0), Beat::Ping);
        let pong_at = ping_at + Duration::from_millis(20);
        assert_eq!(
            hb.wake(&config, ping_at + Duration::from_secs(5), pong_at),
            Beat::Wait
        );
        assert_eq!(
            hb.wake(&config, ping_at + Duration::from_secs(10), pong_at),
            Beat::Ping
        );
    }
}
