//! Matching an error through the public API: the questions a caller asks of a 404 and a
//! 422, against a one-answer server on 127.0.0.1.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves one connection with `status` and the JSON `body`, then stops.
async fn answer_once(status: &'static str, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = vec![0; 8192];
        let _ = stream.read(&mut request).await;
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/vnd.xplenty+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(reply.as_bytes()).await;
    });
    format!("http://{address}")
}

fn client(base_url: &str) -> xplenty_api::Client {
    xplenty_api::Client::builder("acme-analytics", "k3y")
        .base_url(base_url)
        .retry_policy(xplenty_api::RetryPolicy::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_404_is_not_found_and_a_422_carries_its_message() {
    let base = answer_once("404 Not Found", r#"{"message": "Couldn't find Cluster"}"#).await;
    let missing = client(&base).get_cluster().cluster_id(7_u64).send().await.unwrap_err();
    assert!(missing.is_not_found() && !missing.is_validation() && !missing.is_unauthorized());
    assert_eq!(missing.status(), Some(404));

    let base = answer_once("422 Unprocessable Entity", r#"{"message": "nodes must be between 1 and 100"}"#).await;
    let body = xplenty_api::types::ClusterCreate::builder().nodes(2_u64);
    let invalid = client(&base).create_cluster().body(body).send().await.unwrap_err();
    assert!(invalid.is_validation() && !invalid.is_not_found() && !invalid.is_rate_limited());
    assert_eq!(invalid.validation_message(), Some("nodes must be between 1 and 100"));
    // As the crate docs open their error section: a `match` on what a caller asks.
    let said = match &invalid {
        e if e.is_not_found() => "gone".to_owned(),
        e if e.is_validation() => format!("refused: {}", e.validation_message().unwrap_or_default()),
        e => e.to_string(),
    };
    assert_eq!(said, "refused: nodes must be between 1 and 100");
}
