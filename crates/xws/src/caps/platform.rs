//! Deployment targets as types, and the compile-time check of a handler's needs.

use super::{Capability, DeploymentTarget, Needs, Support};
use crate::{Error, Handler};

/// A deployment target as a type, so that the compiler can check a handler
/// against it. Each implementor is a zero-sized marker naming one column of
/// the table.
pub trait Platform: 'static {
    /// The column of the capability table this platform reads.
    const TARGET: DeploymentTarget;
}

macro_rules! platforms {
    ($($(#[$doc:meta])* $name:ident => $target:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Platform for $name {
            const TARGET: DeploymentTarget = DeploymentTarget::$target;
        }
    )*};
}

platforms! {
    /// A long-running Tokio server (`xws-tokio`): VPS, container, Kubernetes.
    Tokio => Tokio;
    /// A Cloudflare Durable Object (`xws-cloudflare`).
    CloudflareDurableObject => CloudflareDurableObject;
    /// A plain Cloudflare Worker, without a Durable Object.
    CloudflareWorker => CloudflareWorker;
    /// AWS API Gateway WebSocket + Lambda (`xws-aws`).
    AwsApiGateway => AwsApiGateway;
    /// An AWS Lambda function URL with response streaming.
    AwsLambdaUrl => AwsLambdaUrl;
    /// Vercel functions.
    Vercel => Vercel;
    /// Netlify functions.
    Netlify => Netlify;
}

/// Fails const evaluation when `P` cannot give what `H` needs.
///
/// Called from a `const` item ([`assert_deployable!`](crate::assert_deployable))
/// it fails `cargo check`; from an inline `const` block
/// ([`Deployment::new`](super::Deployment::new)) it fails `cargo build`.
pub const fn check<P: Platform, H: Handler>() {
    check_needs(P::TARGET, H::NEEDS)
}

/// Fails const evaluation when `target` cannot give one of `needs`; the
/// message names the target, the capability and the alternative.
pub const fn check_needs(target: DeploymentTarget, needs: Needs) {
    let mut i = 0;
    while i < Capability::COUNT {
        let capability = Capability::ALL[i];
        if needs.contains(capability)
            && let Support::None { alternative } = target.cell(capability).support
        {
            let message = Message::unsupported(target.name(), capability.name(), alternative);
            panic!("{}", message.as_str());
        }
        i += 1;
    }
}

impl DeploymentTarget {
    /// The run-time form of the check: what an adapter answers when asked
    /// for something its target cannot do.
    ///
    /// ```
    /// use xws::caps::{Capability, DeploymentTarget};
    /// let err = DeploymentTarget::Vercel.require(Capability::WebSocket).unwrap_err();
    /// assert!(err.to_string().starts_with("WebSocket is not supported on Vercel functions: use SSE"));
    /// ```
    pub const fn require(self, capability: Capability) -> Result<(), Error> {
        match self.cell(capability).support {
            Support::None { alternative } => Err(Error::Unsupported {
                target: self.name(),
                capability: capability.name(),
                alternative,
            }),
            _ => Ok(()),
        }
    }
}

/// A message assembled in const evaluation, where `format!` is not available.
struct Message {
    bytes: [u8; Message::CAPACITY],
    len: usize,
}

impl Message {
    const CAPACITY: usize = 512;

    const fn unsupported(target: &str, capability: &str, alternative: &str) -> Message {
        Message {
            bytes: [0; Message::CAPACITY],
            len: 0,
        }
        .push("xws: ")
        .push(target)
        .push(" cannot provide ")
        .push(capability)
        .push(". Alternative: ")
        .push(alternative)
        .push(". See adapters-matrix.md.")
    }

    const fn push(mut self, part: &str) -> Message {
        let part = part.as_bytes();
        let mut i = 0;
        // Truncating keeps whole UTF-8 characters only if parts are ASCII;
        // `as_str` stops at the last valid boundary otherwise.
        while i < part.len() && self.len < Message::CAPACITY {
            self.bytes[self.len] = part[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    const fn as_str(&self) -> &str {
        let (text, _) = self.bytes.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(text) => text,
            Err(error) => {
                let (valid, _) = text.split_at(error.valid_up_to());
                match core::str::from_utf8(valid) {
                    Ok(valid) => valid,
                    Err(_) => "xws: unsupported capability",
                }
            }
        }
    }
}
