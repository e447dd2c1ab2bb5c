//! Streams over every page of a list. The API pages with `offset` and `limit` and
//! points at the next page with `Link: <...>; rel="next"`; the stream follows the
//! offset and limit the server writes there, and computes them itself only when the
//! answer has no `Link` header at all.

use std::future::Future;
use std::num::NonZeroU64;

use futures::{Stream, StreamExt, TryStreamExt, stream};
use reqwest::header::{HeaderMap, LINK};

use crate::{Error, ResponseValue, types};

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
#[doc(hidden)]
pub fn paginate<'a, T, F, Fut>(
    operation: &'static str,
    first: Result<PageRequest, String>,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Unpin + Send + 'a
where
    T: Send + 'a,
    F: Fn(PageRequest) -> Fut + Send + 'a,
    Fut: Future<Output = Result<ResponseValue<Vec<T>>, progenitor_client::Error<types::Error>>> + Send + 'a,
{
    let first = first.map_err(|message| Error::invalid_request(operation, message));
    stream::try_unfold((fetch, Some(first)), move |(fetch, next)| async move {
        let page = match next {
            None => return Ok(None),
            Some(page) => page?,
        };
        let response = crate::call::send(operation, fetch(page)).await?;
        let next = next_page(response.headers(), page, response.len()).map(Ok);
        let items = response.into_inner().into_iter().map(Ok::<T, Error>);
        Ok(Some((stream::iter(items), (fetch, next))))
    })
    .try_flatten()
    .boxed()
}

/// The page after `current`, which held `received` items; `None` at the end.
pub(crate) fn next_page(headers: &HeaderMap, current: PageRequest, received: usize) -> Option<PageRequest> {
    let received = received as u64;
    if received == 0 {
        return None;
    }
    let mut values = headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok()).peekable();
    if values.peek().is_none() {
        // No Link header at all: a full page may have a successor.
        return (received >= current.limit)
            .then(|| PageRequest { offset: current.offset + received, limit: current.limit });
    }
    let joined = values.collect::<Vec<_>>().join(", ");
    let links = parse_link_header::parse_with_rel(&joined).ok()?;
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

    fn headers(link: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(LINK, HeaderValue::from_str(link).unwrap());
        h
    }

    const PAGE: PageRequest = PageRequest { offset: 0, limit: 2 };

    #[test]
    fn follows_the_offset_the_server_writes() {
        let h = headers(
            r#"<https://x/api/clusters?offset=1&limit=2>; rel="next", <https://x/api/clusters?offset=0&limit=2>; rel="prev""#,
        );
        assert_eq!(next_page(&h, PAGE, 2), Some(PageRequest { offset: 1, limit: 2 }));
    }

    #[test]
    fn ends_without_next_or_on_an_empty_page() {
        let h = headers(r#"<https://x/api/clusters?offset=0&limit=2>; rel="prev""#);
        assert_eq!(next_page(&h, PAGE, 2), None);
        let h = headers(r#"<https://x/api/clusters?offset=2&limit=2>; rel="next""#);
        assert_eq!(next_page(&h, PAGE, 0), None);
    }

    #[test]
    fn without_any_link_header_counts_offsets() {
        assert_eq!(next_page(&HeaderMap::new(), PAGE, 2), Some(PageRequest { offset: 2, limit: 2 }));
        assert_eq!(next_page(&HeaderMap::new(), PAGE, 1), None);
    }

    #[test]
    fn a_next_link_to_the_same_page_ends_the_stream() {
        let h = headers(r#"<https://x/api/clusters?offset=0&limit=2>; rel="next""#);
        assert_eq!(next_page(&h, PAGE, 2), None);
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
            let current = PageRequest { offset: offset / 2, limit };
            if let Some(next) = next_page(&h, current, received) {
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
            let _ = next_page(&h, PAGE, 2);
        }
    }
}
