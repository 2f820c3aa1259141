//! Signatures (cloud mode: required, checked with the signing key or its fallback, stale
//! ones rejected), introspection, and the API calls made with the bearer token (`use_api`
//! payload fetching, Realtime publish).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::executor::Run;
use support::executor::RunEnd;
use support::trace_app::APP_ID;
use support::{cloud, trigger, FALLBACK, KEY};
#[tokio::test]
async fn signatures_are_required_and_checked_in_cloud_mode() {
    let (_, mut executor) = cloud().await;
    let mut run = Run::new("traces-app-three-steps", trigger("three-steps"), 1);
    // Unsigned, then signed with a wrong key: rejected before any step runs.
    let end = executor.run_to_end(&mut run).await;
    assert!(
        matches!(end, RunEnd::Failed { status: 500, ref body } if body["name"] == "SignatureError"),
        "{end:?}"
    );
    executor.signing_key = Some("signkey-test-00ff".into());
    let mut run = Run::new("traces-app-three-steps", trigger("three-steps"), 1);
    assert!(matches!(
        executor.run_to_end(&mut run).await,
        RunEnd::Failed { status: 500, .. }
    ));
    assert!(run.steps.is_empty());
    // The right key, and the fallback key, are accepted.
    for key in [KEY, FALLBACK] {
        executor.signing_key = Some(key.into());
        let mut run = Run::new("traces-app-three-steps", trigger("three-steps"), 1);
        let end = executor.run_to_end(&mut run).await;
        assert!(matches!(end, RunEnd::Completed(_)), "{key}: {end:?}");
    }
}

#[tokio::test]
async fn a_stale_signature_is_rejected_and_introspection_reports_auth() {
    let (_, executor) = cloud().await;
    let http = reqwest::Client::new();
    let body = serde_json::to_vec(
        &json!({"event": {"name": "traces/three-steps", "data": {}}, "steps": {}}),
    )
    .unwrap();
    let url = format!(
        "{}?fnId=traces-app-three-steps&stepId=step",
        executor.serve_url
    );
    let stale =
        mastra_inngest::signature::signature_header(&body, KEY, support::executor::now() - 301);
    let response = http
        .post(&url)
        .header("X-Inngest-Signature", stale)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let fresh = mastra_inngest::signature::signature_header(&body, KEY, support::executor::now());
    let response = http
        .post(&url)
        .header("X-Inngest-Signature", fresh)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);

    let get = |signature: Option<String>| {
        let mut request = http.get(&executor.serve_url);
        if let Some(signature) = signature {
            request = request.header("X-Inngest-Signature", signature);
        }
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let open = get(None).await;
    assert_eq!(open["authentication_succeeded"], Value::Null);
    assert_eq!(
        (open["mode"].as_str(), open["function_count"].as_u64()),
        (Some("cloud"), Some(7))
    );
    assert_eq!(open["has_signing_key_fallback"], true);
    assert!(open.get("app_id").is_none());
    let wrong = get(Some(mastra_inngest::signature::signature_header(
        b"",
        "signkey-test-00",
        support::executor::now(),
    )))
    .await;
    assert_eq!(wrong["authentication_succeeded"], false);
    let signed = get(Some(mastra_inngest::signature::signature_header(
        b"",
        KEY,
        support::executor::now(),
    )))
    .await;
    assert_eq!(signed["authentication_succeeded"], true);
    assert_eq!(signed["app_id"], APP_ID);
    assert_eq!(
        signed["signing_key_hash"],
        "signkey-test-ed30c63423735b44011c49a38c01a8062833420cfb299072e0263c986242556a"
    );
    assert_eq!(signed["schema_version"], "2024-05-24");
}

#[tokio::test]
async fn use_api_fetches_the_trimmed_payload_with_the_bearer() {
    let (_, mut executor) = cloud().await;
    executor.signing_key = Some(KEY.into());
    let mut run = Run::new("traces-app-three-steps", trigger("three-steps"), 3);
    run.use_api = true;
    let RunEnd::Completed(output) = executor.run_to_end(&mut run).await else {
        panic!()
    };
    assert_eq!(
        output["c"],
        json!({"joined": "first answer + second answer"})
    );
    assert_eq!(
        output["input"],
        json!({"fn": "three-steps", "runId": "rid-1"})
    );
    let state = executor.fake.state.lock().unwrap();
    assert_eq!(
        state.api_headers.len(),
        8,
        "batch and actions on each of 4 requests"
    );
    assert_eq!(
        state.api_headers[0]["authorization"],
        "Bearer signkey-test-ed30c63423735b44011c49a38c01a8062833420cfb299072e0263c986242556a"
    );
}

#[tokio::test]
async fn realtime_publish_posts_with_the_bearer() {
    let (inngest, executor) = cloud().await;
    let chunk = json!({"type": "text-delta", "payload": {"text": "hi"}});
    inngest
        .realtime_publish("agent:run-1", "agent-stream", &chunk)
        .await
        .unwrap();
    let state = executor.fake.state.lock().unwrap();
    let (query, auth, body) = &state.published[0];
    assert_eq!(
        query.as_deref(),
        Some("channel=agent%3Arun-1&topic=agent-stream")
    );
    assert_eq!(
        auth.as_deref(),
        Some(
            "Bearer signkey-test-ed30c63423735b44011c49a38c01a8062833420cfb299072e0263c986242556a"
        )
    );
    assert_eq!(body, &chunk);
}
