//! `CHAT_JWKS_URL` on a Worker: the identity provider's key set fetched
//! through `worker::Fetch` (a Worker has no sockets for reqwest), once per
//! isolate and again when a token names a key the set lacks (at most once
//! a minute, [`xws_auth::JwksVerifier`]).

use std::cell::RefCell;
use std::sync::Arc;

use worker::{Env, Fetch, Method, Request};
use xws_auth::{FetchJwks, JwksVerifier, KeyError};

/// Fetches a key set with the Workers runtime's `fetch`.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkerFetcher;

impl FetchJwks for WorkerFetcher {
    async fn fetch(&self, url: &str) -> Result<String, KeyError> {
        let failed = |e: worker::Error| KeyError(format!("JWKS at {url}: {e}"));
        // The runtime's `Request` parses the URL: `url::Url` would add its
        // parser to the module.
        let request =
            Request::new(url, Method::Get).map_err(|e| KeyError(format!("JWKS URL {url}: {e}")))?;
        let mut response = Fetch::Request(request).send().await.map_err(failed)?;
        let status = response.status_code();
        if !(200..300).contains(&status) {
            return Err(KeyError(format!("JWKS at {url}: HTTP {status}")));
        }
        response.text().await.map_err(failed)
    }
}

type Shared = Arc<JwksVerifier<WorkerFetcher>>;

/// What a verifier was built from, so that other settings build another.
#[derive(PartialEq)]
struct Settings {
    url: String,
    audience: Option<String>,
}

thread_local! {
    /// The isolate's verifier: requests (and the object) share its keys
    /// instead of fetching the set each time.
    static VERIFIER: RefCell<Option<(Settings, Shared)>> = const { RefCell::new(None) };
}

fn settings(env: &Env) -> Option<Settings> {
    let url = crate::setting(env, "CHAT_JWKS_URL").filter(|u| !u.is_empty())?;
    Some(Settings {
        url,
        audience: crate::setting(env, "CHAT_JWT_AUDIENCE"),
    })
}

fn cached(settings: &Settings) -> Option<Shared> {
    VERIFIER.with_borrow(|held| {
        held.as_ref()
            .filter(|(of, _)| of == settings)
            .map(|(_, verifier)| Arc::clone(verifier))
    })
}

/// With `CHAT_JWKS_URL` set, the isolate's verifier of that set, fetched
/// now if this isolate has none yet; `Ok(None)` without the setting.
pub async fn verifier(env: &Env) -> Result<Option<Shared>, KeyError> {
    let Some(settings) = settings(env) else {
        return Ok(None);
    };
    if let Some(verifier) = cached(&settings) {
        return Ok(Some(verifier));
    }
    let verifier = JwksVerifier::new(
        settings.url.clone(),
        WorkerFetcher,
        chat::jwks_audience(settings.audience.clone()),
    )
    .await?;
    let verifier = Arc::new(verifier);
    VERIFIER.set(Some((settings, Arc::clone(&verifier))));
    Ok(Some(verifier))
}

/// The isolate's verifier if it has fetched one for `CHAT_JWKS_URL`, for
/// the object's constructor, which cannot wait for a fetch (the Worker
/// entry, not the object, runs the `upgrade` hook).
pub fn fetched(env: &Env) -> Option<Shared> {
    settings(env).and_then(|settings| cached(&settings))
}
