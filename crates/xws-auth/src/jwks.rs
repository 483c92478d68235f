//! Keys from an identity provider's JWKS URL (its `jwks_uri`), fetched
//! when the verifier is built and again when a token names a key the set
//! lacks: providers rotate keys by publishing the new one first, so an
//! unknown `kid` means "fetch again", at most once per
//! [`JwksVerifier::min_refetch`] so that tokens with made-up key ids
//! cannot make the server hammer the provider.
//!
//! Fetching is a [`FetchJwks`]: [`HttpFetcher`] (feature `jwks-http`,
//! reqwest with rustls) where the runtime has sockets (Tokio, Lambda); on
//! a Worker, an implementation over `worker::Fetch` (the Cloudflare chat's
//! `WorkerFetcher`, examples/chat/cloudflare).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use web_time::Instant;
use xws::{MaybeSend, RequestInfo};

use crate::{AuthError, Authenticated, KeyError, Verifier};

/// Gets the JSON of a key set from a URL. Implement it with an `async fn`;
/// its future must be `Send` on native targets (a handler's hooks are), not
/// on wasm32, where a Worker's fetch is not.
pub trait FetchJwks {
    /// The body of `GET url`, or why there is none.
    fn fetch(&self, url: &str) -> impl Future<Output = Result<String, KeyError>> + MaybeSend;
}

/// What the verifier holds between fetches.
struct Keys {
    verifier: Arc<Verifier>,
    fetched_at: Instant,
}

/// A [`Verifier`] over the keys at a JWKS URL, refreshed on an unknown
/// `kid`.
pub struct JwksVerifier<F> {
    url: String,
    fetcher: F,
    configure: Box<dyn Fn(Verifier) -> Verifier + Send + Sync>,
    keys: Mutex<Keys>,
    min_refetch: Duration,
}

impl<F> std::fmt::Debug for JwksVerifier<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksVerifier")
            .field("url", &self.url)
            .field("min_refetch", &self.min_refetch)
            .finish_non_exhaustive()
    }
}

impl<F: FetchJwks> JwksVerifier<F> {
    /// Fetches the set at `url` now (a wrong URL fails here, at start-up,
    /// not at the first client); `configure` sets what every verifier of
    /// the set requires (audience, issuer, leeway, default topics).
    pub async fn new(
        url: impl Into<String>,
        fetcher: F,
        configure: impl Fn(Verifier) -> Verifier + Send + Sync + 'static,
    ) -> Result<Self, KeyError> {
        let url = url.into();
        let configure: Box<dyn Fn(Verifier) -> Verifier + Send + Sync> = Box::new(configure);
        let verifier = Self::load(&fetcher, &url, &configure).await?;
        Ok(Self {
            url,
            fetcher,
            configure,
            keys: Mutex::new(Keys {
                verifier: Arc::new(verifier),
                fetched_at: Instant::now(),
            }),
            min_refetch: Duration::from_secs(60),
        })
    }

    /// Fetches again on an unknown `kid` at most once per `interval`
    /// (default 60 s).
    pub fn min_refetch(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    async fn load(
        fetcher: &F,
        url: &str,
        configure: &(dyn Fn(Verifier) -> Verifier + Send + Sync),
    ) -> Result<Verifier, KeyError> {
        let json = fetcher.fetch(url).await?;
        Ok(configure(Verifier::from_jwks(&json)?))
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, Keys> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The verifier of the keys fetched last.
    pub fn current(&self) -> Arc<Verifier> {
        Arc::clone(&self.keys().verifier)
    }

    /// [`Verifier::authenticate_async`] with the current keys; a token whose key
    /// is not among them fetches the set again (if the last fetch is older
    /// than [`JwksVerifier::min_refetch`]) and is tried once more.
    pub async fn authenticate(&self, request: &RequestInfo) -> Result<Authenticated, AuthError> {
        match self.current().authenticate_async(request).await {
            Err(AuthError::UnknownKey(kid)) => {
                if !self.claim_refetch() {
                    return Err(AuthError::UnknownKey(kid));
                }
                match Self::load(&self.fetcher, &self.url, &*self.configure).await {
                    Ok(verifier) => self.keys().verifier = Arc::new(verifier),
                    // The keys held so far stay; the provider may be back later.
                    Err(error) => {
                        tracing::warn!(url = %self.url, %error, "refetching the JWKS failed")
                    }
                }
                self.current().authenticate_async(request).await
            }
            other => other,
        }
    }

    /// Whether this caller may fetch now; marks the fetch as started, so
    /// that concurrent misses fetch once.
    fn claim_refetch(&self) -> bool {
        let mut keys = self.keys();
        if keys.fetched_at.elapsed() < self.min_refetch {
            return false;
        }
        keys.fetched_at = Instant::now();
        true
    }
}

/// Fetches over HTTP(S) with reqwest and rustls (the system's roots), 10 s
/// at most.
#[cfg(feature = "jwks-http")]
#[derive(Clone, Debug)]
pub struct HttpFetcher {
    client: reqwest::Client,
}

#[cfg(feature = "jwks-http")]
impl HttpFetcher {
    /// A fetcher with its own client.
    pub fn new() -> Result<Self, KeyError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| KeyError(format!("JWKS client: {e}")))?;
        Ok(Self { client })
    }
}

#[cfg(feature = "jwks-http")]
impl FetchJwks for HttpFetcher {
    async fn fetch(&self, url: &str) -> Result<String, KeyError> {
        let failed = |e: reqwest::Error| KeyError(format!("JWKS at {url}: {e}"));
        let response = self.client.get(url).send().await.map_err(failed)?;
        let response = response.error_for_status().map_err(failed)?;
        response.text().await.map_err(failed)
    }
}
