//! Streams over every page of a list. The API pages with `offset` and `limit` and
//! points at the next page with `Link: <...>; rel="next"`; the stream follows the
//! offset and limit the server writes there, and computes them itself only when the
//! answer has no `Link` header at all.

use futures::{Stream, StreamExt, TryStreamExt, stream};
use reqwest::header::{HeaderMap, LINK};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::call::{Built, CallRecord};
use crate::meta::Operation;
use crate::{Client, Error};

/// The most items the API returns per page.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The offset and limit of one page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: u64,
    pub limit: u64,
}

/// The first page: the offset and limit the builder put in its request (read from the
/// request itself, not the builder's fields), or 0 and [`MAX_PAGE_SIZE`].
fn first_page(request: &reqwest::Request) -> PageRequest {
    let number =
        |key: &str| request.url().query_pairs().find(|(k, _)| k == key).and_then(|(_, v)| v.trim().parse::<u64>().ok());
    PageRequest {
        offset: number("offset").unwrap_or(0),
        limit: number("limit").filter(|&l| l > 0).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
    }
}

/// Where the stream has been: the offset it last read from and every `next` URL it has
/// followed. A next page must start further on and come from a URL not seen before;
/// otherwise the server's links go round and the stream ends with one error.
#[derive(Default)]
struct Visited {
    offset: Option<u64>,
    urls: std::collections::HashSet<String>,
}

impl Visited {
    /// `Ok(Some(page))` to go on, `Ok(None)` at the end, `Err(why)` for a cycle.
    fn check(&mut self, next: Result<Option<Next>, String>) -> Result<Option<PageRequest>, String> {
        let Some(next) = next? else { return Ok(None) };
        if let Some(url) = next.url
            && !self.urls.insert(url.clone())
        {
            return Err(format!("the next page's link {url:?} was already followed"));
        }
        if self.offset.is_some_and(|read| next.page.offset <= read) {
            return Err(format!("the next page's offset {} was already read", next.page.offset));
        }
        self.offset = Some(next.page.offset);
        Ok(Some(next.page))
    }
}

/// Streams the items of every page of `operation`. `request(None)` is the builder's own
/// request, which says where the first page starts; `request(Some(page))` asks for
/// `page`.
///
/// A page is decoded whole when it can be (the fast path); when one of its items does
/// not decode, the page is decoded item by item instead: each bad item yields one error
/// naming its offset, and the stream goes on with the next item and the next page. A
/// next page that was already read ends the stream with an [`ErrorKind::Pagination`]
/// error.
///
/// [`ErrorKind::Pagination`]: crate::ErrorKind::Pagination
pub(crate) fn paginate<'a, T, F>(
    client: &'a Client,
    operation: &'static Operation,
    request: F,
) -> impl Stream<Item = Result<T, Error>> + Unpin + Send + 'a
where
    T: DeserializeOwned + Send + 'a,
    F: Fn(Option<PageRequest>) -> Built + Send + 'a,
{
    let first = request(None).map(|built| first_page(&built)).map_err(|e| Error::unsent(operation.id, e));
    let mut visited = Visited::default();
    if let Ok(page) = &first {
        visited.offset = Some(page.offset);
    }
    stream::try_unfold((request, Some(first), visited), move |(request, next, mut visited)| async move {
        let page = match next {
            None => return Ok(None),
            Some(page) => page?,
        };
        let (answer, record) = match crate::call::exchange(client, operation, request(Some(page))).await {
            Ok(exchanged) => exchanged,
            // The page itself failed: report it once and end the stream.
            Err(error) => return Ok(Some((stream::iter(vec![Err(error)]), (request, None, visited)))),
        };
        // The items of this page, then what comes after it.
        let mut items: Vec<Result<T, Error>> = match serde_json::from_slice::<Vec<T>>(&answer.body) {
            Ok(items) => items.into_iter().map(Ok).collect(),
            Err(error) => match item_by_item(operation.id, page, &answer.body, &record) {
                Some(items) => items,
                None => {
                    let failed = vec![Err(Error::decode(operation.id, &answer.body, error, record))];
                    return Ok(Some((stream::iter(failed), (request, None, visited))));
                }
            },
        };
        let received = items.len();
        let next = match visited.check(next_page(record.link.as_deref(), page, received)) {
            Ok(next) => next.map(Ok),
            Err(why) => {
                items.push(Err(Error::pagination(operation.id, why, &record)));
                None
            }
        };
        Ok(Some((stream::iter(items), (request, next, visited))))
    })
    .try_flatten()
    .boxed()
}

/// Decodes a page's items one at a time; `None` when the body is not an array at all.
fn item_by_item<T: DeserializeOwned>(
    operation: &'static str,
    page: PageRequest,
    body: &[u8],
    record: &CallRecord,
) -> Option<Vec<Result<T, Error>>> {
    let raw: Vec<&RawValue> = serde_json::from_slice(body).ok()?;
    let items = raw
        .iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_str::<T>(item.get()).map_err(|e| {
                Error::item(operation, page.offset.saturating_add(i as u64), item.get().as_bytes(), e, record)
            })
        })
        .collect();
    Some(items)
}

/// Every `Link` header value of an answer, joined as one list; `None` without any.
pub(crate) fn joined_links(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok()).collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The next page to read, and the `next` URL it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Next {
    pub(crate) page: PageRequest,
    pub(crate) url: Option<String>,
}

/// The page after `current`, which held `received` items and came with the `Link`
/// header values `links`; `Ok(None)` at the end, `Err` when the next offset would pass
/// the largest number.
pub(crate) fn next_page(links: Option<&str>, current: PageRequest, received: usize) -> Result<Option<Next>, String> {
    let received = received as u64;
    if received == 0 {
        return Ok(None);
    }
    let after = || {
        current
            .offset
            .checked_add(received)
            .ok_or_else(|| format!("the page after offset {} would start past the largest offset", current.offset))
    };
    let Some(joined) = links else {
        // No Link header at all: a full page may have a successor.
        if received < current.limit {
            return Ok(None);
        }
        return Ok(Some(Next { page: PageRequest { offset: after()?, limit: current.limit }, url: None }));
    };
    let Ok(links) = parse_link_header::parse_with_rel(joined) else { return Ok(None) };
    let Some(next) = links.get("next") else { return Ok(None) };
    let number = |key: &str| next.queries.get(key).and_then(|v| v.trim().parse::<u64>().ok());
    let offset = match number("offset") {
        Some(offset) => offset,
        None => after()?,
    };
    let limit = number("limit").unwrap_or(current.limit).clamp(1, MAX_PAGE_SIZE);
    Ok(Some(Next { page: PageRequest { offset, limit }, url: Some(next.raw_uri.clone()) }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use reqwest::header::HeaderValue;

    fn headers(link: &str) -> Option<String> {
        let mut h = HeaderMap::new();
        h.insert(LINK, HeaderValue::from_str(link).unwrap());
        joined_links(&h)
    }

    const PAGE: PageRequest = PageRequest { offset: 0, limit: 2 };

    #[test]
    fn follows_the_offset_the_server_writes() {
        let h = headers(
            r#"<https://x/api/clusters?offset=1&limit=2>; rel="next", <https://x/api/clusters?offset=0&limit=2>; rel="prev""#,
        );
        let next = next_page(h.as_deref(), PAGE, 2).unwrap().unwrap();
        assert_eq!(next.page, PageRequest { offset: 1, limit: 2 });
        assert_eq!(next.url.as_deref(), Some("https://x/api/clusters?offset=1&limit=2"));
    }

    #[test]
    fn ends_without_next_or_on_an_empty_page() {
        let h = headers(r#"<https://x/api/clusters?offset=0&limit=2>; rel="prev""#);
        assert_eq!(next_page(h.as_deref(), PAGE, 2), Ok(None));
        let h = headers(r#"<https://x/api/clusters?offset=2&limit=2>; rel="next""#);
        assert_eq!(next_page(h.as_deref(), PAGE, 0), Ok(None));
    }

    #[test]
    fn without_any_link_header_counts_offsets() {
        let next = next_page(None, PAGE, 2).unwrap().unwrap();
        assert_eq!((next.page, next.url), (PageRequest { offset: 2, limit: 2 }, None));
        assert_eq!(next_page(None, PAGE, 1), Ok(None));
    }

    #[test]
    fn offsets_near_the_largest_number_do_not_overflow() {
        let last = PageRequest { offset: u64::MAX - 1, limit: 2 };
        assert!(next_page(None, last, 2).is_err());
        let h = headers(r#"<https://x/api/clusters?limit=2>; rel="next""#);
        assert!(next_page(h.as_deref(), last, 2).is_err());
        let h = headers(r#"<https://x/api/clusters?offset=18446744073709551615&limit=2>; rel="next""#);
        assert_eq!(next_page(h.as_deref(), last, 2).unwrap().unwrap().page.offset, u64::MAX);
    }

    #[test]
    fn a_next_link_back_or_seen_before_is_a_cycle() {
        let mut visited = Visited { offset: Some(0), ..Visited::default() };
        let same = headers(r#"<https://x/api/clusters?offset=0&limit=2>; rel="next""#);
        assert!(visited.check(next_page(same.as_deref(), PAGE, 2)).unwrap_err().contains("offset 0"));
        let mut visited = Visited { offset: Some(0), ..Visited::default() };
        let no_offset = headers(r#"<https://x/api/clusters?limit=2>; rel="next""#);
        assert_eq!(visited.check(next_page(no_offset.as_deref(), PAGE, 2)).unwrap().unwrap().offset, 2);
        let second = PageRequest { offset: 2, limit: 2 };
        assert!(visited.check(next_page(no_offset.as_deref(), second, 2)).unwrap_err().contains("already followed"));
    }

    #[test]
    fn first_page_reads_the_request_defaults_and_caps_the_limit() {
        let request = |url: &str| reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap());
        assert_eq!(first_page(&request("http://x/api/jobs")), PageRequest { offset: 0, limit: 100 });
        assert_eq!(first_page(&request("http://x/api/jobs?limit=500&offset=5")), PageRequest { offset: 5, limit: 100 });
        assert_eq!(first_page(&request("http://x/api/jobs?offset=7&limit=3")), PageRequest { offset: 7, limit: 3 });
    }

    proptest! {
        #[test]
        fn link_parsing_never_panics(link in "\\PC*", offset in any::<u64>(), limit in 1u64..=100, received in 0usize..200) {
            let mut h = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&link) {
                h.insert(LINK, value);
            }
            let h = joined_links(&h);
            let current = PageRequest { offset, limit };
            let mut visited = Visited { offset: Some(current.offset), ..Visited::default() };
            if let Ok(Some(next)) = visited.check(next_page(h.as_deref(), current, received)) {
                prop_assert!(next.limit >= 1 && next.limit <= MAX_PAGE_SIZE);
                prop_assert!(next.offset > current.offset);
            }
        }

        #[test]
        fn link_parsing_of_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut h = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                h.insert(LINK, value);
            }
            let h = joined_links(&h);
            let _ = next_page(h.as_deref(), PAGE, 2);
        }
    }
}
