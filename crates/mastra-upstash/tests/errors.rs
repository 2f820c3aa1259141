//! Failures through the REST shim: a wrong token, malformed and oversized answers, a
//! refused request size, timeouts, an unreachable URL, a lost reply to an append. Each is
//! a clear `CacheError` with the right retryability, never a panic or a hang.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::error::Error as _;
use std::time::Duration;

use mastra_cache::{CacheError, ServerCache, Ttl};
use mastra_redis::RetryPolicy;
use mastra_upstash::{UpstashConfig, UpstashError, UpstashServerCache};
use serde_json::json;
use support::{Fault, Shim};

/// The `UpstashError` behind a terminal cache error.
fn upstash_error(error: &CacheError) -> &UpstashError {
    error
        .source()
        .and_then(|source| source.downcast_ref::<UpstashError>())
        .unwrap_or_else(|| panic!("not an Upstash error: {error:?}"))
}

#[tokio::test]
async fn a_wrong_token_is_a_clear_terminal_error_without_retries() {
    let shim = Shim::start();
    let mut config = shim.config();
    config.token = "not-the-token".into();
    let cache = UpstashServerCache::new(config).unwrap();

    let error = cache.get("k").await.unwrap_err();
    assert!(!error.is_retryable());
    assert!(matches!(
        upstash_error(&error),
        UpstashError::Unauthorized { status: 401, .. }
    ));
    let message = error.to_string();
    assert!(
        message.contains("refused the token (HTTP 401)"),
        "{message}"
    );
    assert!(message.contains("UPSTASH_REDIS_REST_TOKEN"), "{message}");
    assert!(
        !message.contains("not-the-token"),
        "the token is not echoed"
    );
    assert_eq!(shim.requests(), 1, "a refused token is not retried");

    let error = cache.append_indexed("log", "{}").await.unwrap_err();
    assert!(matches!(
        upstash_error(&error),
        UpstashError::Unauthorized { .. }
    ));
}

#[tokio::test]
async fn malformed_answers_are_clear_errors() {
    let shim = Shim::start();
    let cache = UpstashServerCache::new(shim.config()).unwrap();
    let malformed = [
        "<html><body>502 Bad Gateway</body></html>",
        "",
        r#"{"unexpected":true}"#,
        r#"{"result":"#,
        "[]",
    ];
    for body in malformed {
        shim.fail_next(Fault::Answer {
            status: 200,
            body: body.into(),
        });
        let error = cache.get("k").await.unwrap_err();
        assert!(!error.is_retryable(), "{body}: {error}");
        assert!(
            matches!(upstash_error(&error), UpstashError::Malformed(_)),
            "{body}: {error:?}"
        );
        assert!(
            error.to_string().contains("malformed Upstash response"),
            "{error}"
        );
    }

    // Well-formed JSON of the wrong type for the command.
    for (body, what) in [
        (r#"{"result":42}"#, "GET"),
        (r#"{"result":"many"}"#, "LLEN"),
    ] {
        shim.fail_next(Fault::Answer {
            status: 200,
            body: body.into(),
        });
        let error = if what == "GET" {
            cache.get("k").await.unwrap_err()
        } else {
            cache.list_len("k").await.unwrap_err()
        };
        assert!(!error.is_retryable());
        assert!(error.to_string().contains(what), "{error}");
    }
    shim.fail_next(Fault::Answer {
        status: 200,
        body: r#"{"result":["a",1]}"#.into(),
    });
    assert!(cache.list_range("k", 0, None).await.is_err());
    shim.fail_next(Fault::Answer {
        status: 200,
        body: r#"{"result":"not an index"}"#.into(),
    });
    assert!(cache.append_indexed("k", "{}").await.is_err());

    // A value that is not JSON is an encoding error, as with the TCP cache.
    shim.fail_next(Fault::Answer {
        status: 200,
        body: r#"{"result":"{not json"}"#.into(),
    });
    assert!(matches!(
        cache.get("k").await.unwrap_err(),
        CacheError::Encoding(_)
    ));

    // A pipeline answered by too few replies: the first SCAN page holds a key and more
    // is to come, so `clear` pipelines its DEL with the next SCAN.
    shim.fail_next(Fault::Answer {
        status: 200,
        body: r#"{"result":["7",["some-key"]]}"#.into(),
    });
    shim.fail_next(Fault::Answer {
        status: 200,
        body: r#"[{"result":0}]"#.into(),
    });
    let error = cache.clear().await.unwrap_err();
    assert!(!error.is_retryable());
    assert!(
        error
            .to_string()
            .contains("a pipeline of 2 commands got 1 answers"),
        "{error}"
    );
    cache.clear().await.unwrap();
}

#[tokio::test]
async fn http_errors_keep_their_meaning() {
    let shim = Shim::start();
    let cache = UpstashServerCache::new(shim.config().with_retry(RetryPolicy::new(
        1,
        Duration::ZERO,
        Duration::ZERO,
    )))
    .unwrap();

    shim.fail_next(Fault::Answer {
        status: 413,
        body: "Request Entity Too Large".into(),
    });
    let entry = format!(r#"{{"big":"{}"}}"#, "x".repeat(10_000));
    let error = cache.append_indexed("log", &entry).await.unwrap_err();
    assert!(!error.is_retryable());
    match upstash_error(&error) {
        UpstashError::RequestTooLarge { bytes } => assert!(*bytes > 10_000),
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().contains("HTTP 413"), "{error}");

    for status in [500, 502, 503, 429] {
        shim.fail_next(Fault::Answer {
            status,
            body: r#"{"error":"try later"}"#.into(),
        });
        let error = cache.get("k").await.unwrap_err();
        assert!(error.is_retryable(), "{status}");
        assert!(matches!(error, CacheError::Unavailable(_)), "{error:?}");
        assert!(error.to_string().contains(&status.to_string()), "{error}");
    }
    shim.fail_next(Fault::Answer {
        status: 404,
        body: "Not Found".into(),
    });
    let error = cache.get("k").await.unwrap_err();
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("HTTP 404"), "{error}");

    // A Redis error reply (HTTP 400) is the command's error, with Redis's words.
    cache.set("v", json!(1), Ttl::Default).await.unwrap();
    let error = cache.list_len("v").await.unwrap_err();
    assert!(matches!(error, CacheError::WrongType { .. }), "{error:?}");
    cache.clear().await.unwrap();
}

#[tokio::test]
async fn oversized_responses_are_refused() {
    let shim = Shim::start();
    let cache = UpstashServerCache::new(shim.config().with_max_response_bytes(4_096)).unwrap();
    let entry = format!(r#"{{"pad":"{}"}}"#, "x".repeat(500));
    for _ in 0..20 {
        cache.append_indexed("log", &entry).await.unwrap();
    }
    assert_eq!(cache.list_range("log", 0, Some(2)).await.unwrap().len(), 3);
    let error = cache.list_range("log", 0, None).await.unwrap_err();
    assert!(!error.is_retryable());
    assert!(matches!(
        upstash_error(&error),
        UpstashError::ResponseTooLarge { limit: 4_096 }
    ));
    assert!(error.to_string().contains("4096 bytes"), "{error}");
    cache.clear().await.unwrap();
}

#[tokio::test]
async fn timeouts_are_configurable_and_retryable() {
    let shim = Shim::start();
    let cache = UpstashServerCache::new(
        shim.config()
            .with_timeout(Duration::from_millis(150))
            .with_retry(RetryPolicy::new(
                2,
                Duration::from_millis(10),
                Duration::from_millis(10),
            )),
    )
    .unwrap();
    shim.fail_always(Some(Fault::Delay(Duration::from_secs(2))));
    // Each request would succeed after 2 s: only the 150 ms timeout makes it fail.
    let error = cache.get("k").await.unwrap_err();
    assert!(error.is_retryable());
    assert!(matches!(error, CacheError::Unavailable(_)), "{error:?}");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert_eq!(shim.requests(), 2, "tried twice");
    shim.fail_always(None);

    // A passing delay below the timeout is fine.
    shim.fail_next(Fault::Delay(Duration::from_millis(50)));
    assert_eq!(cache.get("k").await.unwrap(), None);
}

#[tokio::test]
async fn an_unreachable_url_is_retryable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = UpstashConfig::new(format!("http://127.0.0.1:{port}"), "t").with_retry(
        RetryPolicy::new(2, Duration::from_millis(5), Duration::from_millis(5)),
    );
    let cache = UpstashServerCache::new(config).unwrap();
    let error = cache.get("k").await.unwrap_err();
    assert!(error.is_retryable());
    assert!(
        error.to_string().contains("cannot reach Upstash"),
        "{error}"
    );
}

#[tokio::test]
async fn retries_recover_and_a_lost_append_reply_does_not_duplicate_the_entry() {
    let shim = Shim::start();
    let cache = UpstashServerCache::new(shim.config()).unwrap();

    shim.fail_next(Fault::Answer {
        status: 503,
        body: "unavailable".into(),
    });
    cache.set("v", json!("ok"), Ttl::Default).await.unwrap();
    assert_eq!(cache.get("v").await.unwrap(), Some(json!("ok")));

    // The append lands, but its reply is lost: the retry finds it and returns its index.
    assert_eq!(cache.append_indexed("log", r#"{"n":0}"#).await.unwrap(), 0);
    shim.fail_next(Fault::RunThenAnswer {
        status: 502,
        body: "Bad Gateway".into(),
    });
    assert_eq!(cache.append_indexed("log", r#"{"n":1}"#).await.unwrap(), 1);
    assert_eq!(cache.append_indexed("log", r#"{"n":2}"#).await.unwrap(), 2);
    assert_eq!(
        cache.list_range("log", 0, None).await.unwrap(),
        [
            r#"{"index":0,"n":0}"#,
            r#"{"index":1,"n":1}"#,
            r#"{"index":2,"n":2}"#
        ]
    );
    cache.clear().await.unwrap();
}

#[test]
fn configuration_errors_name_what_is_wrong() {
    let error = UpstashServerCache::new(UpstashConfig::new("redis://h:6379", "t")).unwrap_err();
    assert!(matches!(error, UpstashError::Config(_)));
    assert!(error.to_string().contains("https://"), "{error}");
    let error = UpstashServerCache::new(UpstashConfig::new("https://h", "bad\ntoken")).unwrap_err();
    assert!(error.to_string().contains("token"), "{error}");
}
