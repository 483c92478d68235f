//! What a handler needs from its deployment target, as a const bitset.

use super::Capability;

/// The capabilities a handler needs, declared as [`Handler::NEEDS`](crate::Handler::NEEDS).
///
/// ```
/// use xws::caps::{Capability, Needs};
///
/// const CHAT: Needs = Needs::WEBSOCKET
///     .and(Capability::PubSubInstance)
///     .and(Capability::PublishFromOutside);
/// assert!(CHAT.contains(Capability::PubSubInstance));
/// assert!(!CHAT.contains(Capability::Sse));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Needs(u32);

// One bit per capability; the assertion fails the build if the table grows past it.
const _: () = assert!(Capability::COUNT <= u32::BITS as usize);

impl Needs {
    /// Needs nothing: runs anywhere.
    pub const NOTHING: Needs = Needs(0);
    /// WebSocket connections: the default of every handler.
    pub const WEBSOCKET: Needs = Needs::NOTHING.and(Capability::WebSocket);
    /// Server-Sent Events only: runs on serverless functions too.
    pub const SSE: Needs = Needs::NOTHING.and(Capability::Sse);

    /// These needs plus `capability`.
    pub const fn and(self, capability: Capability) -> Needs {
        Needs(self.0 | 1 << capability as u32)
    }

    /// The needs listed in `capabilities`.
    pub const fn of(capabilities: &[Capability]) -> Needs {
        let mut needs = Needs::NOTHING;
        let mut i = 0;
        while i < capabilities.len() {
            needs = needs.and(capabilities[i]);
            i += 1;
        }
        needs
    }

    /// Whether `capability` is needed.
    pub const fn contains(self, capability: Capability) -> bool {
        self.0 & (1 << capability as u32) != 0
    }

    /// The needed capabilities, in table order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |capability| self.contains(*capability))
    }
}

impl Default for Needs {
    fn default() -> Self {
        Needs::WEBSOCKET
    }
}
