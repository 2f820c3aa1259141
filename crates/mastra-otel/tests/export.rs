//! Spans of durable runs exported over OTLP/HTTP (protobuf) to an in-process collector: an
//! axum receiver on 127.0.0.1:0 that decodes `ExportTraceServiceRequest`s with prost.
//!
//! The subscriber is process-global (runs execute on spawned tasks, on any thread), so the
//! tests of this binary share one collector and tell their spans apart by run id.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use futures::StreamExt;
use mastra_cache::InMemoryServerCache;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::tool::tool;
use mastra_core::{Agent, StreamOptions, ToolError};
use mastra_durable::{create_durable_agent, DurableAgent, InMemoryRunStore};
use mastra_otel::{parse_traceparent, OtelConfig, OtelGuard};
use mastra_pubsub::{EventEmitterPubSub, InProcessLeases};
use mastra_workflows::{create_evented_agent, EventedEngine, InMemoryWorkflowStore};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use serde_json::{json, Value};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

/// One exported span, as the collector decoded it.
#[derive(Debug, Clone)]
struct Received {
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    attributes: HashMap<String, String>,
    service: Option<String>,
}

type Spans = Arc<Mutex<Vec<Received>>>;

struct Setup {
    spans: Spans,
    guard: OtelGuard,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(value: Option<&AnyValue>) -> String {
    match value {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

async fn receive(State(spans): State<Spans>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf body");
    let mut received = spans.lock().unwrap();
    for resource_spans in request.resource_spans {
        let service = resource_spans.resource.and_then(|r| {
            r.attributes
                .into_iter()
                .find(|kv| kv.key == "service.name")
                .map(|kv| text(kv.value.and_then(|v| v.value).as_ref()))
        });
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                received.push(Received {
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    attributes: span
                        .attributes
                        .into_iter()
                        .map(|kv| (kv.key, text(kv.value.and_then(|v| v.value).as_ref())))
                        .collect(),
                    service: service.clone(),
                });
            }
        }
    }
    Vec::new() // an empty ExportTraceServiceResponse
}

/// The collector (on a runtime of its own, shared by the tests) and the global subscriber.
fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let spans = Spans::default();
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let state = spans.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                address_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new()
                    .route("/v1/traces", post(receive))
                    .with_state(state);
                axum::serve(listener, app).await.unwrap();
            });
        });
        let address = address_rx.recv().unwrap();
        let config = OtelConfig::endpoint(&format!("http://{address}"))
            .unwrap()
            .service_name("otel-test");
        let (layer, guard) = mastra_otel::layer(&config).unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(subscriber).unwrap();
        Setup { spans, guard }
    })
}

/// The exported spans of `run_id`, once `count` of them arrived.
async fn spans_of(setup: &Setup, run_id: &str, count: usize) -> Vec<Received> {
    spans_until(setup, run_id, |spans| spans.len() >= count).await
}

/// The exported spans of `run_id`, once `done` holds for them.
async fn spans_until(
    setup: &Setup,
    run_id: &str,
    done: impl Fn(&[Received]) -> bool,
) -> Vec<Received> {
    let mut spans = Vec::new();
    for _ in 0..100 {
        setup.guard.flush().await.unwrap();
        spans = setup
            .spans
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.attributes.get("run_id").map(String::as_str) == Some(run_id))
            .cloned()
            .collect();
        if done(&spans) {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the collector never got the expected spans of run {run_id}: {spans:#?}");
}

fn named<'a>(spans: &'a [Received], name: &str) -> Vec<&'a Received> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn echo_agent() -> Agent {
    let echo = tool("echo", "echoes", |args: Value, _ctx| async move {
        Ok::<_, ToolError>(args)
    });
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("echo", json!({"say": "hi"})),
        ScriptedResponse::text("done"),
    ]);
    Agent::builder("echoer", model).tool(echo).build()
}

/// Two durable agents on one pubsub, log cache and run store, as two processes would be.
fn two_instances() -> (DurableAgent, DurableAgent) {
    let pubsub = Arc::new(EventEmitterPubSub::new());
    let cache = Arc::new(InMemoryServerCache::new());
    let store = Arc::new(InMemoryRunStore::new());
    // One agent (one scripted model, whose script both instances consume in turn).
    let agent = echo_agent();
    let build = || {
        create_durable_agent(agent.clone())
            .pubsub(pubsub.clone())
            .cache(cache.clone())
            .run_store(store.clone())
            .build()
    };
    (build(), build())
}

async fn read_to_end(mut stream: mastra_durable::DurableStream) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = stream.next().await {
            chunk.unwrap();
        }
    })
    .await
    .expect("the stream ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_run_resumed_elsewhere_stays_in_one_trace() {
    let setup = setup();
    let (first, second) = two_instances();
    let options = StreamOptions {
        require_tool_approval: true,
        ..StreamOptions::new()
    };
    let stream = first.stream("say hi", options).await.unwrap();
    let run_id = stream.run_id().to_owned();
    let mut paused = None;
    for _ in 0..500 {
        paused = first.paused_state(&run_id).await.unwrap();
        if paused.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(stream); // the first caller hangs up; the run waits for its answer
    let paused = paused.expect("the run pauses for the approval");
    let traceparent = paused.traceparent.expect("the run's trace context");
    let trace_id = parse_traceparent(&traceparent)
        .unwrap()
        .trace_id()
        .to_string();

    // The answer reaches the other instance, which continues the run.
    let resumed = second.approve_tool_call(&run_id, "call_0").await.unwrap();
    read_to_end(resumed).await;

    let spans = spans_of(setup, &run_id, 5).await;
    let runs = named(&spans, "agent.run");
    let models = named(&spans, "agent.model_step");
    let tools = named(&spans, "agent.tool_call");
    assert_eq!(runs.len(), 2, "one agent.run per stretch: {spans:#?}");
    assert_eq!(models.len(), 2, "{spans:#?}");
    assert_eq!(tools.len(), 1, "{spans:#?}");

    // One trace, whatever instance executed the stretch.
    for span in &spans {
        assert_eq!(span.trace_id, trace_id, "{span:#?}");
        assert_eq!(span.service.as_deref(), Some("otel-test"));
        assert_eq!(span.attributes["traceparent"], traceparent);
    }
    // Each stretch hangs off the run's trace context; steps and tools nest in their stretch.
    let root = &traceparent[36..52];
    for run in &runs {
        assert_eq!(run.parent_span_id, root, "{run:#?}");
        assert_eq!(run.attributes["agent_id"], "echoer");
    }
    let mut model_steps: Vec<&str> = models
        .iter()
        .map(|s| s.attributes["step"].as_str())
        .collect();
    model_steps.sort();
    assert_eq!(model_steps, ["0", "1"]);
    let tool = tools[0];
    assert_eq!(tool.attributes["tool"], "echo");
    assert_eq!(tool.attributes["tool_call_id"], "call_0");
    assert_eq!(tool.attributes["step"], "0");
    let run_ids: Vec<&str> = runs.iter().map(|r| r.span_id.as_str()).collect();
    for child in models.iter().chain(tools.iter()) {
        assert!(
            run_ids.contains(&child.parent_span_id.as_str()),
            "{child:#?}"
        );
    }
    // The tool ran in the second stretch, with the second model step.
    let second_stretch = runs
        .iter()
        .find(|r| r.attributes["step"] == "0" && r.span_id == tool.parent_span_id);
    assert!(second_stretch.is_some(), "{spans:#?}");
    let last_model = models.iter().find(|m| m.attributes["step"] == "1").unwrap();
    assert_eq!(last_model.parent_span_id, tool.parent_span_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_started_in_a_traced_request_joins_its_trace() {
    let setup = setup();
    let (durable, _) = two_instances();
    let request = tracing::info_span!("http.request");
    let (run_id, stream) = async {
        let stream = durable
            .stream("say hi", StreamOptions::new())
            .await
            .unwrap();
        (stream.run_id().to_owned(), stream)
    }
    .instrument(request.clone())
    .await;
    read_to_end(stream).await;
    drop(request);

    let spans = spans_of(setup, &run_id, 4).await;
    setup.guard.flush().await.unwrap();
    let all = setup.spans.lock().unwrap().clone();
    let requests: Vec<&Received> = all.iter().filter(|s| s.name == "http.request").collect();
    let request = requests
        .iter()
        .find(|r| spans.iter().any(|s| s.trace_id == r.trace_id))
        .expect("the request's span is exported, in the run's trace");
    for span in &spans {
        assert_eq!(span.trace_id, request.trace_id, "{span:#?}");
    }
    let run = named(&spans, "agent.run")[0];
    assert_eq!(run.parent_span_id, request.span_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evented_run_taken_by_another_instance_carries_its_generation() {
    let setup = setup();
    let pubsub = Arc::new(EventEmitterPubSub::new());
    let store = Arc::new(InMemoryWorkflowStore::new());
    let leases = Arc::new(InProcessLeases::new());
    let cache = Arc::new(InMemoryServerCache::new());
    let engine = |instance: &str| {
        EventedEngine::builder(pubsub.clone())
            .store(store.clone())
            .leases(leases.clone())
            .instance_id(instance)
            // Every step queued (none continued by the worker that took the previous
            // one), so that each is claimed anew.
            .continuation(Duration::ZERO)
            .build()
    };
    let (api, worker) = (engine("api"), engine("worker"));
    let agent = echo_agent();
    let starter = create_evented_agent(agent.clone(), &api)
        .cache(cache.clone())
        .build();
    worker.register(&create_evented_agent(agent, &worker).cache(cache).build());
    let _workers = worker.start_workers(1).await.unwrap();

    let stream = starter
        .stream("say hi", StreamOptions::new())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    read_to_end(stream).await;

    // Four queued steps (model call, tool call, model call, the last step's empty tool
    // pass), each a workflow.step with its agent.run; every step is claimed anew.
    let spans = spans_of(setup, &run_id, 4 + 4 + 3).await;
    let steps = named(&spans, "workflow.step");
    let runs = named(&spans, "agent.run");
    assert_eq!(steps.len(), 4, "{spans:#?}");
    assert_eq!(runs.len(), 4, "{spans:#?}");
    assert_eq!(named(&spans, "agent.model_step").len(), 2, "{spans:#?}");
    assert_eq!(named(&spans, "agent.tool_call").len(), 1, "{spans:#?}");
    for step in &steps {
        assert_eq!(step.attributes["owner"], "worker/0");
        assert_eq!(step.attributes["workflow_id"], "agent:echoer", "{step:#?}");
    }
    let mut generations: Vec<&str> = runs
        .iter()
        .map(|r| r.attributes["generation"].as_str())
        .collect();
    generations.sort();
    assert_eq!(generations, ["1", "2", "3", "4"]);
    let in_run: Vec<&Received> = spans.iter().filter(|s| s.name != "workflow.step").collect();
    let trace_id = &in_run[0].trace_id;
    for span in &in_run {
        assert_eq!(&span.trace_id, trace_id, "{span:#?}");
        if span.name != "agent.run" {
            let run = runs
                .iter()
                .find(|r| r.span_id == span.parent_span_id)
                .unwrap();
            assert_eq!(span.attributes["generation"], run.attributes["generation"]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_recovered_after_its_worker_died_stays_in_one_trace() {
    let setup = setup();
    let pubsub = Arc::new(EventEmitterPubSub::new());
    let store = Arc::new(InMemoryWorkflowStore::new());
    let leases = Arc::new(InProcessLeases::new());
    let cache = Arc::new(InMemoryServerCache::new());
    let engine = |instance: &str| {
        EventedEngine::builder(pubsub.clone())
            .store(store.clone())
            .leases(leases.clone())
            .lease_ttl(Duration::from_millis(200))
            .instance_id(instance)
            .build()
    };
    // The tool hangs the first time (its worker dies in it), then answers.
    let reached = Arc::new(tokio::sync::Notify::new());
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (seen, count) = (reached.clone(), calls.clone());
    let hanging = tool("echo", "echoes", move |args: Value, _ctx| {
        let (seen, count) = (seen.clone(), count.clone());
        async move {
            if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                seen.notify_one();
                std::future::pending::<()>().await;
            }
            Ok::<_, ToolError>(args)
        }
    });
    let model = ScriptedModel::new([
        ScriptedResponse::new().tool_call("echo", json!({"say": "hi"})),
        ScriptedResponse::text("done"),
    ]);
    let agent = Agent::builder("recoverer", model).tool(hanging).build();
    let (a, b) = (engine("a"), engine("b"));
    let durable = create_evented_agent(agent.clone(), &a)
        .cache(cache.clone())
        .build();
    b.register(&create_evented_agent(agent, &b).cache(cache).build());
    let workers_a = a.start_workers(1).await.unwrap();
    let stream = durable
        .stream("say hi", StreamOptions::new())
        .await
        .unwrap();
    let run_id = stream.run_id().to_owned();
    tokio::time::timeout(Duration::from_secs(10), reached.notified())
        .await
        .expect("the tool call starts");
    let _workers_b = b.start_workers(1).await.unwrap();
    workers_a.abort();
    read_to_end(stream).await;

    // The interrupted tool call and its re-run (under a newer generation), in one trace.
    let spans = spans_until(setup, &run_id, |spans| {
        named(spans, "agent.tool_call").len() == 2 && named(spans, "agent.model_step").len() == 2
    })
    .await;
    let tools = named(&spans, "agent.tool_call");
    let in_run: Vec<&Received> = spans.iter().filter(|s| s.name != "workflow.step").collect();
    for span in &in_run {
        assert_eq!(span.trace_id, in_run[0].trace_id, "{span:#?}");
    }
    let generation = |span: &Received| span.attributes["generation"].parse::<u64>().unwrap();
    let (first, second) = (generation(tools[0]), generation(tools[1]));
    assert_ne!(first, second, "{tools:#?}");
    let owners: Vec<&str> = named(&spans, "workflow.step")
        .iter()
        .map(|s| s.attributes["owner"].as_str())
        .collect();
    assert!(
        owners.contains(&"a/0") && owners.contains(&"b/0"),
        "{owners:?}"
    );
}
