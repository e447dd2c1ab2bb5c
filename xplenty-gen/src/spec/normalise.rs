use openapiv3::{MediaType, OpenAPI, ReferenceOr};

/// The media type the Xplenty API speaks.
pub const VENDOR_MEDIA_TYPE: &str = "application/vnd.xplenty+json";

/// Rewrites `application/vnd.xplenty+json` keys to `application/json`.
///
/// progenitor only types `application/json`: under the vendor key a response becomes raw
/// bytes and a request body is a generation error. The runtime sends the vendor `Accept`
/// header itself, so nothing is lost on the wire.
pub fn normalise_media_types(document: &mut OpenAPI) {
    fn fix(content: &mut indexmap::IndexMap<String, MediaType>) {
        if let Some(media) = content.shift_remove(VENDOR_MEDIA_TYPE) {
            content.entry("application/json".to_owned()).or_insert(media);
        }
    }
    for item in document.paths.paths.values_mut() {
        let ReferenceOr::Item(item) = item else { continue };
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            if let Some(ReferenceOr::Item(body)) = &mut operation.request_body {
                fix(&mut body.content);
            }
            for response in operation.responses.responses.values_mut().chain(operation.responses.default.iter_mut()) {
                if let ReferenceOr::Item(response) = response {
                    fix(&mut response.content);
                }
            }
        }
    }
    if let Some(components) = &mut document.components {
        for response in components.responses.values_mut() {
            if let ReferenceOr::Item(response) = response {
                fix(&mut response.content);
            }
        }
        for body in components.request_bodies.values_mut() {
            if let ReferenceOr::Item(body) = body {
                fix(&mut body.content);
            }
        }
    }
}
