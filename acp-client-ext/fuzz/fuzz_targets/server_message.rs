//! The error-body parser on arbitrary bytes and statuses: it never panics and its message is
//! bounded (1000 characters and an ellipsis) whatever the body.
//!
//! Input layout: two bytes of status (taken modulo the valid range 100..=999), then the body.

#![no_main]

use acp_client_ext::server_message;
use libfuzzer_sys::fuzz_target;
use reqwest::StatusCode;

fuzz_target!(|data: &[u8]| {
    let [s0, s1, body @ ..] = data else {
        return;
    };
    let code = 100 + u16::from_le_bytes([*s0, *s1]) % 900;
    let status = StatusCode::from_u16(code).expect("100..=999 is a valid status");
    let message = server_message(status, body);
    assert!(
        message.chars().count() <= 1001,
        "unbounded message: {} characters",
        message.chars().count()
    );
});
