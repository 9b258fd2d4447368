//! The dashboard's template filters. Askama looks a filter up as `filters::NAME` where the
//! template struct is, so a page that shows times has `use super::filters;` next to its struct.

use askama::Values;
use chrono::{DateTime, Utc};

/// Times as the tables show them: UTC, to the minute.
const FORMAT: &str = "%Y-%m-%d %H:%M UTC";

/// `{{ t|when }}`: a time as the tables show it.
#[askama::filter_fn]
pub fn when(t: &DateTime<Utc>, _: &dyn Values) -> askama::Result<String> {
    Ok(t.format(FORMAT).to_string())
}

/// `{{ t|when_or_dash }}`: a time that may not have come (never signed in, not revoked), "—" then.
#[askama::filter_fn]
pub fn when_or_dash(t: &Option<DateTime<Utc>>, _: &dyn Values) -> askama::Result<String> {
    Ok(t.map_or_else(|| "—".to_owned(), |t| t.format(FORMAT).to_string()))
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use chrono::{DateTime, TimeZone, Utc};

    use crate::dashboard::filters;

    #[derive(Template)]
    #[template(
        source = "{{ at|when }} | {{ seen|when_or_dash }} | {{ never|when_or_dash }}",
        ext = "html"
    )]
    struct Probe {
        at: DateTime<Utc>,
        seen: Option<DateTime<Utc>>,
        never: Option<DateTime<Utc>>,
    }

    #[test]
    fn times_show_to_the_minute_in_utc_and_a_dash_when_absent() {
        let at = Utc.with_ymd_and_hms(2024, 3, 9, 7, 5, 59).unwrap();
        let page = Probe {
            at,
            seen: Some(at + chrono::Duration::days(300)),
            never: None,
        };
        assert_eq!(
            page.render().unwrap(),
            "2024-03-09 07:05 UTC | 2025-01-03 07:05 UTC | —"
        );
    }
}
