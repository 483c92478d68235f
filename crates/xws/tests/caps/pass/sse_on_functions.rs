//! A handler that only needs SSE builds for Vercel and a Lambda function URL.

use xws::caps::{AwsLambdaUrl, Deployment, Needs, Vercel};

struct Feed;

impl xws::Handler for Feed {
    type Context = ();
    const NEEDS: Needs = Needs::SSE;
}

xws::assert_deployable!(Vercel, Feed);
xws::assert_deployable!(AwsLambdaUrl, Feed);

fn main() {
    let _ = Deployment::<Vercel, _>::new(Feed);
    let _ = Deployment::<AwsLambdaUrl, _>::new(Feed);
}
