//! Running a hook so that an error or a panic stays with its peer.

use futures_util::FutureExt;
use std::{any::Any, future::Future, panic::AssertUnwindSafe};

use crate::{Error, HookResult};

/// Runs a hook, turning a returned error or a panic into an [`Error`].
///
/// A panic is caught where the target unwinds; `wasm32` builds abort on
/// panic, so there the runtime ends the whole invocation instead.
pub(crate) async fn guarded(hook: impl Future<Output = HookResult>) -> Result<(), Error> {
    // After a panic the hook's state is dropped with its peer, so no broken
    // invariant is observed again: asserting unwind safety is sound.
    match AssertUnwindSafe(hook).catch_unwind().await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Error::Handler(error)),
        Err(panic) => Err(Error::Panic(panic_message(&*panic))),
    }
}

/// Runs a hook that returns nothing, logging a panic instead of unwinding
/// into the adapter.
pub(crate) async fn contained(hook: impl Future<Output = ()>) {
    if let Err(panic) = AssertUnwindSafe(hook).catch_unwind().await {
        let panic = panic_message(&*panic);
        tracing::error!(%panic, "a handler hook panicked");
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}
