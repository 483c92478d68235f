//! One column of the capability table per deployment target.
//!
//! Each file states what the *platform* allows, with a source. Whether xws
//! delivers it today is the column's [`AdapterStatus`](super::AdapterStatus)
//! plus each cell's `proved_by` conformance scenario: a cell without one is a
//! platform fact that no xws test backs yet.

pub mod aws_api_gateway;
pub mod aws_lambda_url;
pub mod cloudflare_durable_object;
pub mod cloudflare_worker;
pub mod netlify;
mod shared;
pub mod tokio;
pub mod vercel;
