//! An SSE handler cannot deploy to Netlify: Rust is not a Netlify function
//! language, and only JavaScript/TypeScript functions stream.

use xws::caps::Needs;

struct Feed;

impl xws::Handler for Feed {
    type Context = ();
    const NEEDS: Needs = Needs::SSE;
}

xws::assert_deployable!(xws::caps::Netlify, Feed);

fn main() {}
