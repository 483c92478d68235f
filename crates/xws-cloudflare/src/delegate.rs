//! The WebSocket events every `#[durable_object]` struct hands to its
//! [`Object`](crate::Object), written once.

/// Expands, inside `impl DurableObject for …`, to the `websocket_message`,
/// `websocket_close` and `websocket_error` events, each forwarded to the
/// [`Object`](crate::Object) in field `$object` (a name, or `0`):
///
/// ```ignore
/// impl DurableObject for ChatRoom {
///     fn new(state: State, env: Env) -> Self { /* … */ }
///     async fn fetch(&self, request: Request) -> worker::Result<Response> {
///         self.object.fetch(request).await
///     }
///     xws_cloudflare::websocket_events!(object);
/// }
/// ```
#[macro_export]
macro_rules! websocket_events {
    ($object:tt) => {
        async fn websocket_message(
            &self,
            ws: ::worker::WebSocket,
            message: ::worker::WebSocketIncomingMessage,
        ) -> ::worker::Result<()> {
            self.$object.websocket_message(ws, message).await
        }

        async fn websocket_close(
            &self,
            ws: ::worker::WebSocket,
            code: usize,
            reason: ::std::string::String,
            was_clean: bool,
        ) -> ::worker::Result<()> {
            self.$object
                .websocket_close(ws, code, reason, was_clean)
                .await
        }

        async fn websocket_error(
            &self,
            ws: ::worker::WebSocket,
            error: ::worker::Error,
        ) -> ::worker::Result<()> {
            self.$object.websocket_error(ws, error).await
        }
    };
}
