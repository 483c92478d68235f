//! The `tower` service shape shared by the xws endpoints.

/// Implements `Clone` and `tower_service::Service<Request<B>>` for an
/// endpoint struct holding `xws: Xws<H>`, answering with `$respond(xws,
/// request).await`.
macro_rules! endpoint_service {
    ($service:ident, $respond:path) => {
        impl<H: ::xws::Handler> Clone for $service<H> {
            fn clone(&self) -> Self {
                Self {
                    xws: self.xws.clone(),
                }
            }
        }

        impl<H: ::xws::Handler> $service<H> {
            pub(crate) fn new(xws: $crate::Xws<H>) -> Self {
                Self { xws }
            }
        }

        impl<H: ::xws::Handler, B: Send + 'static> tower_service::Service<http::Request<B>>
            for $service<H>
        {
            type Response = http::Response<$crate::Body>;
            type Error = ::std::convert::Infallible;
            type Future = ::std::pin::Pin<
                Box<dyn ::std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
            >;

            fn poll_ready(
                &mut self,
                _: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<Result<(), Self::Error>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: http::Request<B>) -> Self::Future {
                let xws = self.xws.clone();
                Box::pin(async move { Ok($respond(xws, request).await) })
            }
        }
    };
}

pub(crate) use endpoint_service;
