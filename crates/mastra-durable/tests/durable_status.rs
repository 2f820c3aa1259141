//! Where a durable run stands (`run_status`) through its life: running, paused, running
//! again once resumed (even while the task that paused it is still winding down), and gone
//! once finished.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mastra_core::scripted::{ScriptedModel, ScriptedResponse};
use mastra_core::{Agent, StreamOptions};
use mastra_durable::{create_durable_agent, RunStatus};
use mastra_pubsub::{
    Event, EventEmitterPubSub, EventType, GroupSubscription, LeaseProvider, PubSub, PubSubError,
    PublishOptions, Subscription,
};
use serde_json::json;
use support::*;

/// The in-process transport, except that publishing a `suspended` envelope returns only
/// after a pause: the executor that paused a run is still finishing when a reader has seen
/// the envelope and resumed the run.
#[derive(Debug)]
struct SlowAfterSuspended {
    inner: EventEmitterPubSub,
    pause: Duration,
}

#[async_trait]
impl PubSub for SlowAfterSuspended {
    async fn publish(
        &self,
        topic: &str,
        event: Event,
        options: PublishOptions,
    ) -> Result<(), PubSubError> {
        let suspended = event.kind == EventType::Suspended;
        self.inner.publish(topic, event, options).await?;
        if suspended {
            tokio::time::sleep(self.pause).await;
        }
        Ok(())
    }

    async fn subscribe(&self, topic: &str) -> Result<Subscription, PubSubError> {
        self.inner.subscribe(topic).await
    }

    async fn subscribe_group(
        &self,
        topic: &str,
        group: &str,
    ) -> Result<GroupSubscription, PubSubError> {
        self.inner.subscribe_group(topic, group).await
    }

    async fn flush(&self) -> Result<(), PubSubError> {
        self.inner.flush().await
    }

    async fn clear_topic(&self, topic: &str) -> Result<(), PubSubError> {
        self.inner.clear_topic(topic).await
    }

    fn lease_provider(&self) -> Option<Arc<dyn LeaseProvider>> {
        self.inner.lease_provider()
    }
}

#[tokio::test]
async fn a_run_resumed_while_its_old_task_winds_down_is_still_reported_running() {
    let pause = Duration::from_millis(40);
    let pubsub = Arc::new(SlowAfterSuspended {
        inner: EventEmitterPubSub::new(),
        pause,
    });
    let model = ScriptedModel::new([
        ScriptedResponse::new()
            .text_deltas(["a"])
            .delay(Duration::from_millis(20))
            .tool_call("pay", json!({"amount": 4})),
        ScriptedResponse::new()
            .text_deltas(["b", "c", "d", "e"])
            .delay(Duration::from_millis(40)),
    ]);
    let agent = Agent::builder("payer", model)
        .tool(pay_tool(Counter::default()))
        .build();
    let durable = create_durable_agent(agent).pubsub(pubsub).build();

    let stream = durable.stream("pay", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    assert_eq!(
        durable.run_status(&run_id).await.unwrap(),
        Some(RunStatus::Running)
    );
    let mut events = durable.observe(&run_id, 0).await.unwrap();
    events_until(&mut events, "suspended").await;

    // Resume at once, while the task that paused the run is still inside its last publish.
    let resumed = durable.approve_tool_call(&run_id, "call_1").await.unwrap();
    tokio::time::sleep(pause * 2).await;
    assert_eq!(
        durable.run_status(&run_id).await.unwrap(),
        Some(RunStatus::Running),
        "the old task must not forget the resumed execution"
    );
    let chunks = read_chunks(resumed).await;
    assert_eq!(text_of(&chunks), "bcde");
    within("the run leaves the engine", async {
        while durable.run_status(&run_id).await.unwrap().is_some() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    drop(stream);
}

#[tokio::test]
async fn status_follows_a_run_from_running_to_paused_to_gone() {
    let model = ScriptedModel::new([
        ScriptedResponse::new()
            .tool_call("pay", json!({"amount": 4}))
            .delay(Duration::from_millis(5)),
        ScriptedResponse::text("done"),
    ]);
    let agent = Agent::builder("payer", model)
        .tool(pay_tool(Counter::default()))
        .build();
    let durable = create_durable_agent(agent).build();
    let mut stream = durable.stream("pay", StreamOptions::new()).await.unwrap();
    let run_id = stream.run_id().to_owned();
    assert_eq!(
        durable.run_status(&run_id).await.unwrap(),
        Some(RunStatus::Running)
    );
    read_until(&mut stream, "tool-call-approval").await;
    within("the run pauses", async {
        while durable.run_status(&run_id).await.unwrap() != Some(RunStatus::Suspended) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    let output = durable
        .approve_tool_call(&run_id, "call_0")
        .await
        .unwrap()
        .output()
        .await
        .unwrap();
    assert_eq!(output.text, "done");
    within("the run leaves the engine", async {
        while durable.run_status(&run_id).await.unwrap().is_some() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    assert_eq!(durable.run_status("never-started").await.unwrap(), None);
}
