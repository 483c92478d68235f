//! `Last-Event-ID` is a header any client sets: parsing never panics, and
//! it accepts exactly the decimal sequence numbers xws writes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xws::sse::parse_last_event_id;

fuzz_target!(|header: &str| {
    let digits = header.trim();
    let well_formed = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    match parse_last_event_id(header) {
        Some(n) => {
            assert!(
                well_formed && digits.len() <= 20,
                "{header:?} parsed as {n}"
            );
            assert_eq!(digits.parse::<u64>().ok(), Some(n));
            assert_eq!(parse_last_event_id(&n.to_string()), Some(n));
        }
        None => assert!(
            !well_formed || digits.len() > 20 || digits.parse::<u64>().is_err(),
            "{header:?} was refused"
        ),
    }
});
