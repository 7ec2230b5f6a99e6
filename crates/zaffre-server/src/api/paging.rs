//! Zendesk's two pagination styles, parsed from the query string and
//! rendered into list responses.
//!
//! Offset pagination: `?page=2&per_page=25` → `next_page`, `previous_page`
//! (full URLs or null) and `count`. Cursor pagination: `?page[size]=25` and
//! `page[after]=<cursor>` → `meta: {has_more, after_cursor, before_cursor}`
//! and `links: {next, prev}`. Cursors are opaque to clients (URL-safe base64
//! of the last row's id) and page in id order.

use axum::http::Uri;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use zaffre_domain::search::Page;

use crate::error::ApiError;
use crate::shapes::BaseUrl;

/// Zendesk's default page size.
pub const DEFAULT_PER_PAGE: u32 = 100;
/// Zendesk's largest page size.
pub const MAX_PER_PAGE: u32 = 100;

/// Which page a list request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    Offset { page: u64, per_page: u32 },
    Cursor { size: u32, after: Option<i64> },
}

impl PageRequest {
    /// Reads `page`, `per_page`, `page[size]` and `page[after]` from a raw query string.
    pub fn from_query(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|e| ApiError::bad_param(format!("Invalid query parameters: {e}")))?;
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let number = |key: &str, max: u64| -> Result<Option<u64>, ApiError> {
            match get(key) {
                None | Some("") => Ok(None),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n >= 1 && n <= max => Ok(Some(n)),
                    _ => Err(ApiError::bad_param(format!(
                        "{key} must be a whole number from 1 to {max}"
                    ))),
                },
            }
        };
        if let Some(size) = number("page[size]", u64::from(MAX_PER_PAGE))? {
            let after = match get("page[after]") {
                None | Some("") => None,
                Some(cursor) => Some(decode_cursor(cursor)?),
            };
            return Ok(PageRequest::Cursor {
                size: size as u32,
                after,
            });
        }
        let page = number("page", u64::from(u32::MAX))?.unwrap_or(1);
        let per_page =
            number("per_page", u64::from(MAX_PER_PAGE))?.map_or(DEFAULT_PER_PAGE, |n| n as u32);
        Ok(PageRequest::Offset { page, per_page })
    }

    /// The store's page for this request.
    pub fn store_page(&self, descending: bool) -> Page {
        match *self {
            PageRequest::Offset { page, per_page } => Page::Offset {
                offset: (page - 1) * u64::from(per_page),
                limit: per_page,
            },
            PageRequest::Cursor { size, after } => Page::Cursor {
                after,
                limit: size,
                descending,
            },
        }
    }

    /// Adds the pagination fields to a list body. `uri` is the request's URI,
    /// whose paging parameters are replaced in the links; `last_id`
    /// the id of the last row returned (for cursors); `total`/`has_more` from the store.
    pub fn decorate(
        &self,
        body: &mut Map<String, Value>,
        base: &BaseUrl,
        uri: &Uri,
        total: Option<u64>,
        has_more: bool,
        last_id: Option<i64>,
    ) {
        let (path, query) = (uri.path(), uri.query());
        let kept: Vec<(String, String)> =
            serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or(""))
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "page" | "per_page" | "page[size]" | "page[after]"
                    )
                })
                .collect();
        let url_with = |extra: Vec<(String, String)>| -> String {
            let all: Vec<(String, String)> = kept.iter().cloned().chain(extra).collect();
            let encoded = serde_urlencoded::to_string(&all).unwrap_or_default();
            format!("{}{path}?{encoded}", base.0)
        };
        match *self {
            PageRequest::Offset { page, per_page } => {
                let total = total.unwrap_or(0);
                let shown = page.saturating_mul(u64::from(per_page));
                let next = (shown < total).then(|| {
                    url_with(vec![
                        ("page".into(), (page + 1).to_string()),
                        ("per_page".into(), per_page.to_string()),
                    ])
                });
                let prev = (page > 1).then(|| {
                    url_with(vec![
                        ("page".into(), (page - 1).to_string()),
                        ("per_page".into(), per_page.to_string()),
                    ])
                });
                body.insert("next_page".into(), json!(next));
                body.insert("previous_page".into(), json!(prev));
                body.insert("count".into(), json!(total));
            }
            PageRequest::Cursor { size, .. } => {
                let after = last_id.map(encode_cursor);
                let next = match (&after, has_more) {
                    (Some(cursor), true) => Some(url_with(vec![
                        ("page[size]".into(), size.to_string()),
                        ("page[after]".into(), cursor.clone()),
                    ])),
                    _ => None,
                };
                body.insert(
                    "meta".into(),
                    json!({"has_more": has_more, "after_cursor": after, "before_cursor": null}),
                );
                body.insert("links".into(), json!({"next": next, "prev": null}));
            }
        }
    }
}

fn encode_cursor(id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.to_string())
}

fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse::<i64>().ok())
        .ok_or_else(|| ApiError::bad_param("page[after] is not a cursor this server issued"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_the_default_and_limits_are_checked() {
        assert_eq!(
            PageRequest::from_query(None).unwrap(),
            PageRequest::Offset {
                page: 1,
                per_page: 100
            }
        );
        assert_eq!(
            PageRequest::from_query(Some("page=3&per_page=10"))
                .unwrap()
                .store_page(false),
            Page::Offset {
                offset: 20,
                limit: 10
            }
        );
        for bad in [
            "page=0",
            "per_page=101",
            "page=x",
            "page%5Bsize%5D=0",
            "page%5Bsize%5D=5&page%5Bafter%5D=%%%",
        ] {
            assert!(PageRequest::from_query(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_links_keep_other_parameters() {
        let req = PageRequest::from_query(Some("page%5Bsize%5D=2&sort_by=id")).unwrap();
        let mut body = Map::new();
        req.decorate(
            &mut body,
            &BaseUrl("http://h".into()),
            &Uri::from_static("/api/v2/tickets.json?page%5Bsize%5D=2&sort_by=id"),
            None,
            true,
            Some(42),
        );
        let next = body["links"]["next"].as_str().unwrap();
        assert!(
            next.starts_with("http://h/api/v2/tickets.json?sort_by=id&"),
            "{next}"
        );
        let query = next.split_once('?').unwrap().1;
        assert_eq!(
            PageRequest::from_query(Some(query)).unwrap(),
            PageRequest::Cursor {
                size: 2,
                after: Some(42)
            }
        );
    }

    #[test]
    fn offset_links_stop_at_the_end() {
        let req = PageRequest::Offset {
            page: 2,
            per_page: 10,
        };
        let mut body = Map::new();
        req.decorate(
            &mut body,
            &BaseUrl("http://h".into()),
            &Uri::from_static("/x"),
            Some(20),
            false,
            None,
        );
        assert!(body["next_page"].is_null());
        assert_eq!(body["previous_page"], "http://h/x?page=1&per_page=10");
        assert_eq!(body["count"], 20);
    }
}
