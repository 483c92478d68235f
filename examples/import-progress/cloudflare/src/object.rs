//! The Durable Object class `UserImports`: one user's connections and
//! imports. The imports are kept in storage and advanced one batch per
//! alarm, so they continue when the object hibernates between alarms.

use import_progress::{Import, ImportEvent, ImportHandler, STEP_DELAY, StartImport};
use worker::{DurableObject, Env, Method, Request, Response, State, durable_object};
use xws_cloudflare::Object;

use crate::{START_ROUTE, json_error};

/// The storage key of the user's running imports.
const IMPORTS_KEY: &str = "imports";

/// One user's object; `wrangler.toml` binds the class as `IMPORTS`.
#[durable_object]
pub struct UserImports {
    object: Object<ImportHandler>,
}

impl UserImports {
    /// `POST /api/start-import?token=T`: stores the import and sets the
    /// alarm that runs its first batch.
    async fn start(&self, mut request: Request) -> worker::Result<Response> {
        let token = xws_cloudflare::query_param(&request, "token")?;
        // The Worker checked the token before forwarding; the length is
        // checked before the body is read.
        if xws_cloudflare::declared_length(&request)? > import_progress::BODY_LIMIT {
            let error = import_progress::StartError::TooLarge;
            return json_error(&error.to_string(), error.status());
        }
        let body = request.bytes().await?;
        let import = match StartImport::parse(token.as_deref(), &body) {
            Ok(import) => import,
            Err(error) => return json_error(&error.to_string(), error.status()),
        };
        let mut imports = self.imports().await?;
        imports.push(import.clone());
        self.save(&imports).await?;
        if self.object.storage().get_alarm().await?.is_none() {
            self.object.storage().set_alarm(STEP_DELAY).await?;
        }
        Ok(Response::from_json(&import.accepted_json())?.with_status(202))
    }

    /// The running imports, oldest first.
    async fn imports(&self) -> worker::Result<Vec<Import>> {
        match self.object.storage().get::<String>(IMPORTS_KEY).await? {
            Some(json) => serde_json::from_str(&json).map_err(to_worker),
            None => Ok(Vec::new()),
        }
    }

    async fn save(&self, imports: &[Import]) -> worker::Result<()> {
        let storage = self.object.storage();
        if imports.is_empty() {
            storage.delete(IMPORTS_KEY).await?;
            return Ok(());
        }
        let json = serde_json::to_string(imports).map_err(to_worker)?;
        storage.put(IMPORTS_KEY, json).await
    }
}

impl DurableObject for UserImports {
    fn new(state: State, _env: Env) -> Self {
        Self {
            object: Object::new(state, ImportHandler, crate::config()),
        }
    }

    async fn fetch(&self, request: Request) -> worker::Result<Response> {
        if self.object.handles(&request) {
            return self.object.fetch(request).await;
        }
        match (request.method(), request.path().as_str()) {
            (Method::Post, START_ROUTE) => self.start(request).await,
            _ => Response::error("not found", 404),
        }
    }

    /// One batch of every running import, each published to the user's
    /// connections through the object's own hub; a completed import is
    /// dropped after its completion event, and the next alarm is set while
    /// any import runs.
    async fn alarm(&self) -> worker::Result<Response> {
        let hub = self.object.hub();
        let mut running = Vec::new();
        for mut import in self.imports().await? {
            let event = import.step();
            if let Err(error) = import_progress::publish(&hub, &import, &event).await {
                worker::console_error!("publishing import progress failed: {error}");
            }
            if !matches!(event, ImportEvent::ImportComplete { .. }) {
                running.push(import);
            }
        }
        self.save(&running).await?;
        if !running.is_empty() {
            self.object.storage().set_alarm(STEP_DELAY).await?;
        }
        Response::empty()
    }

    xws_cloudflare::websocket_events!(object);
}

fn to_worker(error: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(error.to_string())
}
