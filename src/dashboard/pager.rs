//! Page links that keep the current filters.

use crate::services::Paging;

pub struct Pager {
    pub page: i64,
    pub pages: Option<i64>,
    pub has_prev: bool,
    pub has_next: bool,
    pub prev_href: String,
    pub next_href: String,
}

impl Pager {
    /// `base` is the path with its filters as query pairs (already encoded), without `page`.
    pub fn new(
        base: &str,
        filters: &[(&str, &str)],
        paging: Paging,
        has_next: bool,
        total: Option<i64>,
    ) -> Self {
        let Paging { page, per_page } = paging;
        let href = |p: i64| {
            let mut q = form_query(filters);
            if !q.is_empty() {
                q.push('&');
            }
            format!("{base}?{q}page={p}")
        };
        Self {
            page,
            pages: total.map(|t| ((t + per_page - 1) / per_page).max(1)),
            has_prev: page > 1,
            has_next,
            prev_href: href(page - 1),
            next_href: href(page + 1),
        }
    }
}

/// `a=b&c=d`, percent-encoded, empty values left out.
pub fn form_query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_filters_and_encode_them() {
        let p = Pager::new(
            "/admin/users",
            &[("q", "a&b c"), ("role", "")],
            Paging::new(Some(2), 20),
            true,
            Some(41),
        );
        assert_eq!(p.prev_href, "/admin/users?q=a%26b%20c&page=1");
        assert_eq!(p.next_href, "/admin/users?q=a%26b%20c&page=3");
        assert_eq!(p.pages, Some(3));
        assert!(p.has_prev && p.has_next);
    }
}
