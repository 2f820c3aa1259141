//! Shared test parts: a deployment of instances over shared in-memory backends, a model
//! that answers by conversation round (so a re-run step gets the same answer) and can hang
//! mid-stream, and a tool that records its idempotency keys and can hang.
#![allow(dead_code, unreachable_pub)]

mod faults;

#[allow(unused_imports)]
pub use faults::{FreezingStore, Save, StoppableLeases};

use async_trait::async_trait;
use futures::StreamExt;
use mastra_cache::InMemoryServerCache;
use mastra_core::tool::tool;
use mastra_core::{
    Agent, FinishReason, LanguageModel, ModelError, ModelPart, ModelRequest, ModelStream, Role,
    Tool, ToolContext, Usage,
};
use mastra_durable::{DurableAgent, InMemoryRunStore};
use mastra_pubsub::{Event, EventEmitterPubSub, EventType, LeaseProvider, PubSub};
use mastra_workflows::{
    create_evented_agent, EventedEngine, EventedEngineBuilder, InMemoryWorkflowStore, WorkflowStore,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub const LEASE_TTL: Duration = Duration::from_millis(200);

/// A point where a model call or tool call stops until released (or forever).
#[derive(Debug, Default)]
pub struct Gate {
    /// The call number (0-based) that stops; `usize::MAX` for none.
    at: AtomicUsize,
    calls: AtomicUsize,
    pub reached: Notify,
    pub release: Notify,
}

impl Gate {
    pub fn new() -> Arc<Self> {
        let gate = Self::default();
        gate.at.store(usize::MAX, Ordering::SeqCst);
        Arc::new(gate)
    }

    pub fn stop_at(&self, call: usize) {
        self.at.store(call, Ordering::SeqCst);
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Counts a call; stops it when it is the chosen one.
    async fn pass(&self) {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if call == self.at.load(Ordering::SeqCst) {
            self.reached.notify_one();
            self.release.notified().await;
        }
    }
}

/// Round `r` (the number of tool turns in the conversation) answers `rounds[r]`: text
/// deltas, then a `lookup` tool call unless it is the last round.
#[derive(Debug, Clone)]
pub struct RoundModel {
    pub rounds: Arc<Vec<Vec<&'static str>>>,
    pub gate: Arc<Gate>,
}

impl RoundModel {
    pub fn two_tool_rounds() -> Self {
        Self {
            rounds: Arc::new(vec![
                vec!["Let me ", "look."],
                vec!["Once ", "more."],
                vec!["The answer ", "is 42."],
            ]),
            gate: Gate::new(),
        }
    }
}

pub fn round_usage() -> Usage {
    Usage::new(10, 5)
}

#[async_trait]
impl LanguageModel for RoundModel {
    fn provider(&self) -> &str {
        "test"
    }

    fn model_id(&self) -> &str {
        "rounds"
    }

    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ModelError> {
        let round = request
            .messages
            .iter()
            .filter(|m| m.role == Role::Tool)
            .count();
        let Some(texts) = self.rounds.get(round).cloned() else {
            return Err(ModelError::Other {
                message: "no round".into(),
                retryable: false,
            });
        };
        let last = round + 1 == self.rounds.len();
        let mut parts: Vec<ModelPart> = texts
            .iter()
            .map(|t| ModelPart::TextDelta((*t).to_owned()))
            .collect();
        if !last {
            parts.push(ModelPart::ToolCall {
                id: format!("call-{round}"),
                name: "lookup".into(),
                args: json!({ "round": round }).to_string(),
            });
        }
        let reason = if last {
            FinishReason::Stop
        } else {
            FinishReason::ToolCalls
        };
        parts.push(ModelPart::Finish {
            reason,
            usage: round_usage(),
        });
        let gate = self.gate.clone();
        // The first part goes out, then the gate may stop the stream mid-step.
        let stream = futures::stream::iter(parts.into_iter().enumerate()).then(move |(i, part)| {
            let gate = gate.clone();
            async move {
                if i == 1 {
                    gate.pass().await;
                }
                Ok(part)
            }
        });
        Ok(stream.boxed())
    }
}

/// Records every `lookup` call's idempotency key; its gate may stop a call.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    pub keys: Arc<Mutex<Vec<String>>>,
    pub gate: Arc<Gate>,
}

impl Lookups {
    pub fn new() -> Self {
        Self {
            keys: Default::default(),
            gate: Gate::new(),
        }
    }

    pub fn tool(&self) -> impl Tool {
        let this = self.clone();
        tool(
            "lookup",
            "Looks something up",
            move |args: Value, ctx: ToolContext| {
                let this = this.clone();
                async move {
                    this.keys.lock().unwrap().push(ctx.idempotency_key.clone());
                    this.gate.pass().await;
                    Ok::<Value, mastra_core::ToolError>(json!({ "found": args["round"] }))
                }
            },
        )
    }

    pub fn keys(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
    }
}

/// Backends shared by every instance of one deployment.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub pubsub: Arc<EventEmitterPubSub>,
    pub cache: Arc<InMemoryServerCache>,
    pub runs: Arc<InMemoryRunStore>,
    pub store: Arc<InMemoryWorkflowStore>,
    pub leases: Arc<dyn LeaseProvider>,
}

impl Deployment {
    pub fn new() -> Self {
        let pubsub = Arc::new(EventEmitterPubSub::new());
        let leases = pubsub.lease_provider().unwrap();
        Self {
            pubsub,
            cache: Arc::new(InMemoryServerCache::new()),
            runs: Arc::new(InMemoryRunStore::new()),
            store: Arc::new(InMemoryWorkflowStore::new()),
            leases,
        }
    }

    /// An engine of instance `id` over the shared backends, to finish configuring.
    pub fn engine(&self, id: &str) -> EventedEngineBuilder {
        let pubsub: Arc<dyn PubSub> = self.pubsub.clone();
        EventedEngine::builder(pubsub)
            .store(self.store.clone())
            .leases(self.leases.clone())
            .lease_ttl(LEASE_TTL)
            .instance_id(id)
    }

    /// `agent` made durable on `engine`, over the shared cache and run store.
    pub fn durable(&self, agent: Agent, engine: &EventedEngine) -> DurableAgent {
        let durable = create_evented_agent(agent, engine)
            .cache(self.cache.clone())
            .run_store(self.runs.clone())
            .build();
        engine.register(&durable);
        durable
    }

    /// One instance: its own engine and durable agent over the shared backends.
    pub fn instance(&self, id: &str, agent: Agent) -> (EventedEngine, DurableAgent) {
        let engine = self.engine(id).build();
        let durable = self.durable(agent, &engine);
        (engine, durable)
    }
}

pub fn agent(model: &RoundModel, lookups: &Lookups) -> Agent {
    Agent::builder("researcher", model.clone())
        .tool(lookups.tool())
        .build()
}

impl Deployment {
    /// An instance with its own view of the store and leases (fault injection).
    pub fn instance_with(
        &self,
        id: &str,
        agent: Agent,
        store: Arc<dyn WorkflowStore>,
        leases: Arc<dyn LeaseProvider>,
    ) -> (EventedEngine, DurableAgent) {
        let engine = self.engine(id).store(store).leases(leases).build();
        let durable = self.durable(agent, &engine);
        (engine, durable)
    }
}

/// Counts calls of a callback.
#[derive(Debug, Clone, Default)]
pub struct Counter(pub Arc<AtomicUsize>);

impl Counter {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Options whose `on_finish` bumps this counter.
    pub fn on_finish(&self) -> mastra_core::StreamOptions {
        let counter = self.0.clone();
        let mut options = mastra_core::StreamOptions::new();
        options.callbacks.on_finish = Some(Arc::new(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        options
    }

    /// Waits until the count is `n` (1 s at most), then a little longer to see it stay.
    pub async fn settles_at(&self, n: usize) -> usize {
        for _ in 0..100 {
            if self.get() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.get()
    }
}

/// Every envelope of the run from index 0 to its end, as an observer sees them.
pub async fn envelopes(durable: &DurableAgent, run_id: &str) -> Vec<Arc<Event>> {
    let mut events = durable.observe(run_id, 0).await.unwrap();
    let mut all = Vec::new();
    while let Some(event) = events.next().await {
        all.push(event.unwrap());
    }
    all
}

/// The text a client assembles from envelopes, applying `ownership-claimed`: the text
/// deltas from its `voidFrom` index on are dropped.
pub fn client_text(events: &[Arc<Event>]) -> String {
    let mut deltas: Vec<(u64, String)> = Vec::new();
    for event in events {
        if event.kind == EventType::OwnershipClaimed {
            if let Some(void_from) = event.data["voidFrom"].as_u64() {
                deltas.retain(|(index, _)| *index < void_from);
            }
        }
        if event.data["type"] == "text-delta" {
            let text = event.data["payload"]["text"].as_str().unwrap_or_default();
            deltas.push((event.index.unwrap(), text.to_owned()));
        }
    }
    deltas.into_iter().map(|(_, text)| text).collect()
}

pub fn count(events: &[Arc<Event>], kind: EventType) -> usize {
    events.iter().filter(|e| e.kind == kind).count()
}

pub const FULL_TEXT: &str = "Let me look.Once more.The answer is 42.";

/// Whether the engine's store holds no active run (the record goes right after the
/// terminal event is written; give it a moment).
pub async fn no_active_runs(engine: &EventedEngine) -> bool {
    for _ in 0..100 {
        if engine.list_active_runs().await.unwrap().is_empty() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}
