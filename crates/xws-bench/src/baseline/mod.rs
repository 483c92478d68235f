//! Pieces shared by the two baseline servers (`baseline-tungstenite`, `baseline-fastwebsockets`).
//!
//! Each baseline is what a competent author would write with that library alone: echo on every
//! path but [`crate::protocol::CHAT_PATH`], the chat protocol on that path, one task per
//! connection plus one writer task for chat peers, published messages serialized once.

pub mod chat_session;
pub mod listener;
pub mod rooms;
