//! The process's logger: env_logger, filtered by `RUST_LOG` (default `info`), writing to standard
//! error either as plain lines or (`AUTHD_LOG_FORMAT=json`) as one JSON object per line, access
//! lines included: `{"ts","level","target","msg", ...their key-value fields}`.

use std::io::Write;

use log::kv::{self, Key, Value, VisitSource};
use serde_json::{Map, Value as Json};

use crate::config::LogFormat;

/// Installs the logger; once per process (later calls do nothing).
pub fn init(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            let line = json_line(&buf.timestamp_millis().to_string(), record);
            writeln!(buf, "{line}")
        });
    }
    let _ = builder.try_init();
}

/// One record as one line of JSON.
pub fn json_line(ts: &str, record: &log::Record<'_>) -> String {
    let mut fields = Map::new();
    fields.insert("ts".into(), ts.into());
    fields.insert("level".into(), record.level().as_str().into());
    fields.insert("target".into(), record.target().into());
    fields.insert("msg".into(), record.args().to_string().into());
    let mut collect = Fields(&mut fields);
    // A field that cannot be read is left out rather than losing the line.
    let _ = record.key_values().visit(&mut collect);
    Json::Object(fields).to_string()
}

struct Fields<'a>(&'a mut Map<String, Json>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), kv::Error> {
        let json = if let Some(n) = value.to_u64() {
            Json::from(n)
        } else if let Some(n) = value.to_i64() {
            Json::from(n)
        } else if let Some(b) = value.to_bool() {
            Json::from(b)
        } else if let Some(x) = value.to_f64() {
            // NaN and infinities have no JSON number: null.
            serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
        } else {
            Json::from(value.to_string())
        };
        // The fixed fields keep their meaning whatever a caller names its own.
        let name = key.as_str();
        let name = if matches!(name, "ts" | "level" | "target" | "msg") {
            format!("field_{name}")
        } else {
            name.to_owned()
        };
        self.0.insert(name, json);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_with_fields_is_one_line_of_json() {
        let kvs: &[(&str, Value<'_>)] = &[
            ("status", Value::from(404u16)),
            ("duration_ms", Value::from(1.25f64)),
            ("path", Value::from("/x?a=\"b\"\n")),
            ("msg", Value::from("shadow")),
        ];
        let record = log::Record::builder()
            .args(format_args!("request"))
            .level(log::Level::Info)
            .target("authd::access")
            .key_values(&kvs)
            .build();
        let line = json_line("2026-01-01T00:00:00.000Z", &record);
        assert!(!line.contains('\n'));
        let parsed: Json = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["msg"], "request");
        assert_eq!(parsed["level"], "INFO");
        assert_eq!(parsed["target"], "authd::access");
        assert_eq!(parsed["status"], 404);
        assert_eq!(parsed["duration_ms"], 1.25);
        assert_eq!(parsed["path"], "/x?a=\"b\"\n");
        assert_eq!(parsed["field_msg"], "shadow");
    }
}
