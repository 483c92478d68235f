//! Verifying a token: its signature, algorithm, expiry, audience, issuer.

use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{AlgorithmParameters, EllipticCurve, JwkSet},
};
use xws::{Accept, RequestInfo};

use crate::{AuthError, Claims, Credentials, Identity, KeyError, TopicPatterns};

/// One key a token may be signed with, and the one algorithm it is for.
#[derive(Clone)]
struct VerifyKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Verifies JWTs and turns their claims into an [`Identity`].
///
/// Each key is bound to one algorithm (HS256, RS256 or ES256): a token
/// whose header names another algorithm is refused, which rules out the
/// classic "RS256 public key used as an HS256 secret" forgery and `none`.
/// `exp` and `sub` are required, and `exp` is checked without leeway unless
/// [`Verifier::leeway`] says otherwise.
///
/// ```
/// use xws::RequestInfo;
/// use xws_auth::{Claims, Issuer, Verifier, now_seconds};
///
/// let verifier = Verifier::hs256(b"a secret of at least 32 bytes....");
/// let issuer = Issuer::hs256(b"a secret of at least 32 bytes....");
/// let token = issuer
///     .issue(&Claims::new("ada", now_seconds() + 60).with_topics(["user:{sub}"]))
///     .unwrap();
///
/// let request = RequestInfo::new("/api/ws", Some(&format!("token={token}")));
/// let who = verifier.authenticate(&request).unwrap().identity;
/// assert_eq!(who.user, "ada");
/// assert!(who.allows("user:ada") && !who.allows("user:bob"));
///
/// let forged = Issuer::hs256(b"another secret, also 32 bytes long")
///     .issue(&Claims::new("ada", now_seconds() + 60))
///     .unwrap();
/// assert_eq!(verifier.verify(&forged).unwrap_err(), xws_auth::AuthError::BadSignature);
/// ```
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<VerifyKey>,
    audience: Option<Vec<String>>,
    issuer: Option<Vec<String>>,
    leeway: u64,
    default_topics: Option<Vec<String>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys.len())
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

/// A token accepted at the upgrade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// What the peer keeps: user, topics, expiry.
    pub identity: Identity,
    /// Every claim xws reads.
    pub claims: Claims,
    /// The subprotocol the upgrade must answer with, when the token came
    /// as one (see [`Credentials`]).
    pub protocol: Option<String>,
}

impl Authenticated {
    /// Accepts the upgrade with `context`, selecting the subprotocol the
    /// client expects, if any.
    pub fn accept<C>(&self, context: C) -> Accept<C> {
        let accept = Accept::new(context);
        match &self.protocol {
            Some(protocol) => accept.protocol(protocol.clone()),
            None => accept,
        }
    }
}

impl Verifier {
    fn with_keys(keys: Vec<VerifyKey>) -> Self {
        Self {
            keys,
            audience: None,
            issuer: None,
            leeway: 0,
            default_topics: None,
        }
    }

    /// Tokens signed with HMAC-SHA256 and the shared `secret`.
    pub fn hs256(secret: &[u8]) -> Self {
        Self::with_keys(vec![VerifyKey {
            kid: None,
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(secret)
                .unwrap_or_else(|_| unreachable!("any bytes are an HMAC key")),
        }])
    }

    /// Tokens signed with RS256 by the private half of this PEM public key
    /// (`-----BEGIN PUBLIC KEY-----` or `BEGIN RSA PUBLIC KEY`).
    pub fn rs256_pem(public_key_pem: &[u8]) -> Result<Self, KeyError> {
        Ok(Self::with_keys(vec![VerifyKey {
            kid: None,
            algorithm: Algorithm::RS256,
            key: DecodingKey::from_rsa_pem(public_key_pem)?,
        }]))
    }

    /// Tokens signed with ES256 (P-256) by the private half of this PEM
    /// public key.
    pub fn es256_pem(public_key_pem: &[u8]) -> Result<Self, KeyError> {
        Ok(Self::with_keys(vec![VerifyKey {
            kid: None,
            algorithm: Algorithm::ES256,
            key: DecodingKey::from_ec_pem(public_key_pem)?,
        }]))
    }

    /// Tokens signed by any key of a JSON Web Key Set (RFC 7517), as an
    /// identity provider publishes it at its `jwks_uri`; the token's `kid`
    /// picks the key. [`JwksVerifier`](crate::JwksVerifier) fetches the
    /// set from its URL and again on rotation; keys of other algorithms
    /// than HS256, RS256 and ES256 are skipped.
    pub fn from_jwks(jwks_json: &str) -> Result<Self, KeyError> {
        // From bytes, as jsonwebtoken reads tokens: one serde_json reader
        // in a Worker's module.
        let set: JwkSet = serde_json::from_slice(jwks_json.as_bytes())
            .map_err(|e| KeyError(format!("JWKS: {e}")))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let algorithm = match jwk.common.key_algorithm {
                Some(declared) => Algorithm::try_from(declared).ok(),
                None => match &jwk.algorithm {
                    AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
                    AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                        Some(Algorithm::ES256)
                    }
                    _ => None,
                },
            };
            let Some(algorithm) = algorithm.filter(|a| SUPPORTED.contains(a)) else {
                continue;
            };
            keys.push(VerifyKey {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key: DecodingKey::from_jwk(jwk)?,
            });
        }
        if keys.is_empty() {
            return Err(KeyError("JWKS has no HS256, RS256 or ES256 key".into()));
        }
        Ok(Self::with_keys(keys))
    }

    /// Requires the token's `aud` to be `audience`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(vec![audience.into()]);
        self
    }

    /// Requires the token's `iss` to be `issuer`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(vec![issuer.into()]);
        self
    }

    /// Accepts `exp` and `nbf` up to `seconds` off (clock skew between the
    /// issuer and the server). Default: 0.
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The topic patterns of a token without a `topics` claim (such as
    /// `["user:{sub}"]`). Default: every topic.
    pub fn default_topics<I>(mut self, patterns: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.default_topics = Some(patterns.into_iter().map(Into::into).collect());
        self
    }

    /// Verifies a compact JWT and returns its claims.
    ///
    /// On wasm32 only HS256 tokens: a Worker checks RS256 and ES256
    /// signatures with the runtime's WebCrypto, which is asynchronous, so
    /// they need [`verify_async`](Self::verify_async), the portable one.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        crate::crypto_provider::install();
        let (key, validation) = self.prepare(token)?;
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)?;
        Ok(data.claims)
    }

    /// [`verify`](Self::verify) on every target: the same checks and errors;
    /// on wasm32 the signature is checked by the runtime's WebCrypto
    /// (`crypto.subtle.verify`) instead of RustCrypto compiled to wasm
    /// (HS256 stays in Rust).
    pub async fn verify_async(&self, token: &str) -> Result<Claims, AuthError> {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.verify(token)
        }
        #[cfg(target_arch = "wasm32")]
        {
            let (key, validation) = self.prepare(token)?;
            crate::webcrypto::decode(token, key.algorithm, &key.key, &validation).await
        }
    }

    /// The key for `token`'s header and what its claims must satisfy.
    fn prepare(&self, token: &str) -> Result<(&VerifyKey, Validation), AuthError> {
        let header = jsonwebtoken::decode_header(token)?;
        let key = self.key_for(header.kid.as_deref(), header.alg)?;
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.leeway;
        // jsonwebtoken checks `aud` and `iss` only when present: a token
        // without them would pass, so they are required once configured.
        let mut required = vec!["exp", "sub"];
        match &self.audience {
            Some(audience) => {
                validation.set_audience(audience);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(issuer);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Ok((key, validation))
    }

    /// Finds the token of `request` (see [`Credentials`]), verifies it and
    /// maps its claims to an [`Identity`]. On `Err`, answer the upgrade
    /// with [`AuthError::reject`] (401).
    ///
    /// On wasm32 only HS256 tokens (see [`verify`](Self::verify)):
    /// [`authenticate_async`](Self::authenticate_async) is the portable one.
    pub fn authenticate(&self, request: &RequestInfo) -> Result<Authenticated, AuthError> {
        let credentials = Credentials::from_request(request).ok_or(AuthError::Missing)?;
        let claims = self.verify(&credentials.token)?;
        Ok(self.authenticated(claims, credentials))
    }

    /// [`authenticate`](Self::authenticate) on every target, the signature
    /// checked as [`verify_async`](Self::verify_async) does.
    pub async fn authenticate_async(
        &self,
        request: &RequestInfo,
    ) -> Result<Authenticated, AuthError> {
        let credentials = Credentials::from_request(request).ok_or(AuthError::Missing)?;
        let claims = self.verify_async(&credentials.token).await?;
        Ok(self.authenticated(claims, credentials))
    }

    fn authenticated(&self, claims: Claims, credentials: Credentials) -> Authenticated {
        Authenticated {
            identity: self.identity(&claims),
            claims,
            protocol: credentials.protocol,
        }
    }

    /// The identity verified `claims` give.
    pub fn identity(&self, claims: &Claims) -> Identity {
        let topics = match claims.topics.as_ref().or(self.default_topics.as_ref()) {
            Some(patterns) => TopicPatterns::parse(patterns, &claims.sub),
            None => TopicPatterns::All,
        };
        Identity::new(claims.sub.clone(), topics, claims.exp)
    }

    fn key_for(&self, kid: Option<&str>, algorithm: Algorithm) -> Result<&VerifyKey, AuthError> {
        let key = match kid {
            Some(kid) if self.keys.iter().any(|k| k.kid.is_some()) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or_else(|| AuthError::UnknownKey(Some(kid.to_owned())))?,
            _ => self
                .keys
                .iter()
                .find(|k| k.algorithm == algorithm)
                .or(self.keys.first())
                .ok_or(AuthError::UnknownKey(None))?,
        };
        if key.algorithm != algorithm {
            return Err(AuthError::WrongAlgorithm);
        }
        Ok(key)
    }
}

/// The algorithms xws verifies.
pub const SUPPORTED: [Algorithm; 3] = [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256];
