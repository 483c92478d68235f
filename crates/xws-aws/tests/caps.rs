//! `Xws::new` checks the handler's needs against the API Gateway column of
//! the capability table: a mismatch does not compile (expected output in
//! `tests/caps/*.stderr`; refresh with `TRYBUILD=overwrite`).

#[test]
fn a_handler_needing_what_api_gateway_lacks_does_not_compile() {
    trybuild::TestCases::new().compile_fail("tests/caps/*.rs");
}
