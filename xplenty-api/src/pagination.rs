//! Streams over every page of a list. The API pages with `offset` and `limit` and
//! points at the next page with `Link: <...>; rel="next"`; the stream follows the
//! offset and limit the server writes there, and computes them itself only when the
//! answer has no `Link` header at all.

use std::future::Future;
use std::num::NonZeroU64;

use futures::{Stream, StreamExt, TryStreamExt, stream};
use reqwest::header::{HeaderMap, LINK};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::Error;
use crate::call::{CallRecord, Generated};
use crate::meta::Operation;

/// The most items the API returns per page.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The offset and limit of one page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: u64,
    pub limit: u64,
}

/// The first page: the builder's own offset and limit, or 0 and [`MAX_PAGE_SIZE`].
#[doc(hidden)]
pub fn first_page(
    offset: Result<Option<u64>, String>,
    limit: Result<Option<NonZeroU64>, String>,
) -> Result<PageRequest, String> {
    Ok(PageRequest {
        offset: offset?.unwrap_or(0),
        limit: limit?.map_or(MAX_PAGE_SIZE, NonZeroU64::get).min(MAX_PAGE_SIZE),
    })
}

/// Streams the items of every page `fetch` returns, starting at `first`.
///
/// A page is decoded whole when it can be (the fast path); when one of its items does
/// not decode, the page is decoded item by item instead: each bad item yields one error
/// naming its offset, and the stream goes on with the next item and the next page.
#[doc(hidden)]
pub(crate) fn paginate<'a, T, F, Fut>(
    operation: &'static Operation,
    first: Result<PageRequest, String>,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Unpin + Send + 'a
where
    T: DeserializeOwned + Send + 'a,
    F: Fn(PageRequest) -> Fut + Send + 'a,
    Fut: Future<Output = Generated<Vec<T>>> + Send + 'a,
{
    let first = first.map_err(|message| Error::invalid_request(operation.id, message));
    stream::try_unfold((fetch, Some(first)), move |(fetch, next)| async move {
        let page = match next {
            None => return Ok(None),
            Some(page) => page?,
        };
        let items: Vec<Result<T, Error>> = match crate::call::recorded(operation, fetch(page)).await {
            (Ok(response), _) => {
                let next = next_page(joined_links(response.headers()).as_deref(), page, response.len()).map(Ok);
                let items: Vec<Result<T, Error>> = response.into_inner().into_iter().map(Ok).collect();
                return Ok(Some((stream::iter(items), (fetch, next))));
            }
            (Err(progenitor_client::Error::InvalidResponsePayload(body, error)), record) => {
                match item_by_item(operation.id, page, &body, &record) {
                    Some(items) => {
                        let next = next_page(record.link.as_deref(), page, items.len()).map(Ok);
                        return Ok(Some((stream::iter(items), (fetch, next))));
                    }
                    None => {
                        let error = progenitor_client::Error::InvalidResponsePayload(body, error);
                        vec![Err(Error::from_generated(operation.id, error, record))]
                    }
                }
            }
            (Err(error), record) => vec![Err(Error::from_generated(operation.id, error, record))],
        };
        // The page itself failed: report it once and end the stream.
        Ok(Some((stream::iter(items), (fetch, None))))
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
            serde_json::from_str::<T>(item.get())
                .map_err(|e| Error::item(operation, page.offset + i as u64, item.get().as_bytes(), e, record))
        })
        .collect();
    Some(items)
}

/// Every `Link` header value of an answer, joined as one list; `None` without any.
pub(crate) fn joined_links(headers: &HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok()).collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The page after `current`, which held `received` items and came with the `Link`
/// header values `links`; `None` at the end.
pub(crate) fn next_page(links: Option<&str>, current: PageRequest, received: usize) -> Option<PageRequest> {
    let received = received as u64;
    if received == 0 {
        return None;
    }
    let Some(joined) = links else {
        // No Link header at all: a full page may have a successor.
        return (received >= current.limit)
            .then(|| PageRequest { offset: current.offset + received, limit: current.limit });
    };
    let links = parse_link_header::parse_with_rel(joined).ok()?;
    let next = links.get("next")?;
    let number = |key: &str| next.queries.get(key).and_then(|v| v.trim().parse::<u64>().ok());
    let page = PageRequest {
        offset: number("offset").unwrap_or(current.offset + received),
        limit: number("limit").unwrap_or(current.limit).clamp(1, MAX_PAGE_SIZE),
    };
    // A next link that points at the page just read would never end.
    (page != current).then_some(page)
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
        assert_eq!(next_page(h.as_deref(), PAGE, 2), Some(PageRequest { offset: 1, limit: 2 }));
    }

    #[test]
    fn ends_without_next_or_on_an_empty_page() {
        let h = headers(r#"<https://x/api/clusters?offset=0&limit=2>; rel="prev""#);
        assert_eq!(next_page(h.as_deref(), PAGE, 2), None);
        let h = headers(r#"<https://x/api/clusters?offset=2&limit=2>; rel="next""#);
        assert_eq!(next_page(h.as_deref(), PAGE, 0), None);
    }

    #[test]
    fn without_any_link_header_counts_offsets() {
        assert_eq!(next_page(None, PAGE, 2), Some(PageRequest { offset: 2, limit: 2 }));
        assert_eq!(next_page(None, PAGE, 1), None);
    }

    #[test]
    fn a_next_link_to_the_same_page_ends_the_stream() {
        let h = headers(r#"<https://x/api/clusters?offset=0&limit=2>; rel="next""#);
        assert_eq!(next_page(h.as_deref(), PAGE, 2), None);
    }

    #[test]
    fn first_page_defaults_and_caps_the_limit() {
        assert_eq!(first_page(Ok(None), Ok(None)), Ok(PageRequest { offset: 0, limit: 100 }));
        assert_eq!(first_page(Ok(Some(5)), Ok(NonZeroU64::new(500))), Ok(PageRequest { offset: 5, limit: 100 }));
        assert!(first_page(Ok(None), Err("bad".into())).is_err());
    }

    proptest! {
        #[test]
        fn link_parsing_never_panics(link in "\\PC*", offset in any::<u64>(), limit in 1u64..=100, received in 0usize..200) {
            let mut h = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&link) {
                h.insert(LINK, value);
            }
            let h = joined_links(&h);
            let current = PageRequest { offset: offset / 2, limit };
            if let Some(next) = next_page(h.as_deref(), current, received) {
                prop_assert!(next.limit >= 1 && next.limit <= MAX_PAGE_SIZE);
                prop_assert_ne!(next, current);
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
