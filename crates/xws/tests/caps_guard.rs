//! The compile-time guard: every mismatch fails with a message naming the
//! target, the capability and the alternative (expected output checked in as
//! `tests/caps/fail/*.stderr`; refresh with `TRYBUILD=overwrite`), and the
//! matching combinations build.

#[test]
fn deployment_guard() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/caps/fail/*.rs");
    cases.pass("tests/caps/pass/*.rs");
}
