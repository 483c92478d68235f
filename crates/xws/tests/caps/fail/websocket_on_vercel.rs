//! A WebSocket handler (the default needs) cannot deploy to Vercel.

use xws::caps::Needs;

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::WEBSOCKET;
}

xws::assert_deployable!(xws::caps::Vercel, App);

fn main() {}
