//! Reading redis-rs reply values: strings, integers, and error replies inside a pipeline.

use redis::Value;

use super::error::CommandError;

/// The text of a string-like reply (bulk, simple, verbatim).
///
/// # Errors
/// [`CommandError::Protocol`] for any other reply type.
pub fn value_text(v: &Value) -> Result<String, CommandError> {
    match v {
        Value::BulkString(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) | Value::VerbatimString { text: s, .. } => Ok(s.clone()),
        Value::Okay => Ok("OK".into()),
        other => Err(CommandError::Protocol(format!(
            "expected a string reply, got {}",
            value_kind(other)
        ))),
    }
}

/// [`value_text`] of a reply no longer needed: a bulk string of valid UTF-8 (every text reply a
/// server sends) becomes the text without a copy, so a large reply is not held twice.
///
/// # Errors
/// As [`value_text`].
pub fn value_into_text(v: Value) -> Result<String, CommandError> {
    match v {
        Value::BulkString(b) => Ok(String::from_utf8(b)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())),
        other => value_text(&other),
    }
}

/// The integer of an integer reply.
///
/// # Errors
/// [`CommandError::Protocol`] for any other reply type.
pub fn value_int(v: &Value) -> Result<i64, CommandError> {
    match v {
        Value::Int(n) => Ok(*n),
        other => Err(CommandError::Protocol(format!(
            "expected an integer reply, got {}",
            value_kind(other)
        ))),
    }
}

/// An error reply inside a pipeline result, as a [`CommandError::Server`].
#[must_use]
pub fn value_error(v: &Value) -> Option<CommandError> {
    match v {
        Value::ServerError(e) => Some(CommandError::Server {
            code: e.code().to_owned(),
            message: e.details().unwrap_or_default().to_owned(),
        }),
        _ => None,
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Int(_) => "integer",
        Value::BulkString(_) => "bulk string",
        Value::Array(_) => "array",
        Value::SimpleString(_) => "status",
        Value::Okay => "OK",
        Value::Map(_) => "map",
        Value::Set(_) => "set",
        Value::Double(_) => "double",
        Value::Boolean(_) => "boolean",
        Value::ServerError(_) => "error",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_helpers() {
        assert_eq!(
            value_text(&Value::BulkString(b"abc".to_vec())).unwrap(),
            "abc"
        );
        assert_eq!(
            value_text(&Value::SimpleString("PONG".into())).unwrap(),
            "PONG"
        );
        assert!(value_text(&Value::Int(1)).is_err());
        assert_eq!(value_int(&Value::Int(7)).unwrap(), 7);
        assert!(value_int(&Value::Nil).is_err());
        assert!(value_error(&Value::Nil).is_none());
        // Taken by value: the same text, invalid UTF-8 replaced as value_text does.
        for v in [
            Value::BulkString(b"abc".to_vec()),
            Value::BulkString(b"a\xffc".to_vec()),
            Value::SimpleString("PONG".into()),
            Value::Okay,
        ] {
            assert_eq!(value_into_text(v.clone()).unwrap(), value_text(&v).unwrap());
        }
        assert_eq!(
            value_into_text(Value::BulkString(b"a\xffc".to_vec())).unwrap(),
            "a\u{fffd}c"
        );
        assert!(value_into_text(Value::Int(1)).is_err());
    }
}
