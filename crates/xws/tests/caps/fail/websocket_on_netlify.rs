//! A WebSocket handler cannot deploy to Netlify.

use xws::caps::Needs;

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::WEBSOCKET;
}

xws::assert_deployable!(xws::caps::Netlify, App);

fn main() {}
