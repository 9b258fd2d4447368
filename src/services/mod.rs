//! The rules of the data, one home each. Only services talk to the database. Each public
//! function is async, owns its transaction, takes the app state (and the acting `Principal` where
//! someone acts), and returns one `services::Error`.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod demo;
mod error;
pub mod health;
pub mod housekeeping;
pub mod keys;
pub mod lifecycle;
pub mod login;
pub mod mail;
pub mod overview;
pub mod password_reset;
pub mod refresh;
pub mod roles;
pub mod search;
pub mod sessions;
pub mod throttle;

pub use error::{Error, Result, log_chain};

/// The furthest page any listing serves: beyond it page arithmetic could overflow, and no one
/// pages that far by hand.
pub const MAX_PAGE: i64 = 1_000_000;

/// Which page of a listing, 1-based and bounded.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub page: i64,
    pub per_page: i64,
}

impl Paging {
    pub fn new(page: Option<i64>, per_page: i64) -> Self {
        Self {
            page: page.unwrap_or(1).clamp(1, MAX_PAGE),
            per_page: per_page.max(1),
        }
    }

    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// Cuts a page fetched with one row too many: the rows to show, and whether more follow.
    pub fn split<T>(self, mut rows: Vec<T>) -> (Vec<T>, bool) {
        let more = rows.len() as i64 > self.per_page;
        rows.truncate(usize::try_from(self.per_page).unwrap_or(0));
        (rows, more)
    }
}

/// A page of a listing that is not counted: the rows, and whether an older page exists.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_bounded() {
        assert_eq!(Paging::new(None, 20).page, 1);
        assert_eq!(Paging::new(Some(-5), 20).page, 1);
        assert_eq!(Paging::new(Some(i64::MAX), 20).page, MAX_PAGE);
        assert_eq!(Paging::new(Some(3), 20).offset(), 40);
    }

    #[test]
    fn a_page_fetched_one_long_says_more_follow() {
        let p = Paging::new(Some(1), 2);
        assert_eq!(p.split(vec![1, 2, 3]), (vec![1, 2], true));
        assert_eq!(p.split(vec![1, 2]), (vec![1, 2], false));
    }
}
