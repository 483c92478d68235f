//! The chat's functions with `CHAT_JWKS_URL` on the local AWS stack: `cargo
//! xtask test-aws chat` deploys them with the URL of a server of xws-auth's
//! test keys (`xtask/src/aws.rs`) and runs this with the same variables.

#[tokio::test]
async fn jwks_tokens_open_as_their_sub() {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| panic!("{name}: run `cargo xtask test-aws chat`"))
    };
    let base = format!("http://{}", var("XWS_AWS_EMULATOR"));
    chat::scenarios::jwks_tokens_open_as_their_sub(&base, &var("CHAT_JWT_AUDIENCE"))
        .await
        .unwrap();
}
