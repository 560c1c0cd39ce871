//! RESP bytes as redis-rs parses them, read the way the probe and the census read replies:
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotscope::refresh::conn::reply::{value_error, value_int, value_text};

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = redis::parse_redis_value(data) {
        let _ = value_text(&v);
        let _ = value_int(&v);
        let _ = value_error(&v);
        if let redis::Value::Array(items) = &v {
            for i in items {
                let _ = value_text(i);
                let _ = value_error(i);
            }
        }
    }
});
