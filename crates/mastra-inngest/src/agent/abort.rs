//! Aborts that reach a run between its steps.
//!
//! Inngest executes a run's steps one call at a time, in whatever process it calls; between
//! two calls no process executes the run, so an abort-request on the control topic reaches
//! nobody. The abort is therefore also recorded next to the run's log (key
//! `<log key>:abort`), before the request is published, and every step checks it once it
//! listens to the control topic: a step that started before the abort hears the request, a
//! step that starts after it finds the record. Either way the step that learns of the abort
//! writes the run's one aborted `finish`, and the function ends normally.

use mastra_cache::{ServerCache, Ttl};
use mastra_durable::agent::RunChannel;
use mastra_durable::engine::RunContext;
use mastra_durable::{agent_stream_topic, DurableError};
use serde_json::Value;
use std::sync::Arc;

/// Where the abort record of `run_id` lives: the cache holding its log, when it has one.
fn record(ctx: &RunContext, run_id: &str) -> Option<(Arc<dyn ServerCache>, String)> {
    match &ctx.channel {
        RunChannel::Logged(caching) => {
            let log = caching.log();
            let key = format!("{}:abort", log.key(&agent_stream_topic(run_id)));
            Some((log.cache().clone(), key))
        }
        // Without a log there is nothing shared to record the abort in: only a step that
        // is executing when it arrives hears it.
        _ => None,
    }
}

/// Records that `run_id` is to be aborted (kept for the cache's default TTL).
pub(super) async fn request(ctx: &RunContext, run_id: &str) -> Result<(), DurableError> {
    if let Some((cache, key)) = record(ctx, run_id) {
        cache.set(&key, Value::Bool(true), Ttl::Default).await?;
    }
    Ok(())
}

/// Whether an abort of `run_id` was recorded.
pub(super) async fn requested(ctx: &RunContext, run_id: &str) -> Result<bool, DurableError> {
    match record(ctx, run_id) {
        Some((cache, key)) => Ok(cache.get(&key).await?.is_some()),
        None => Ok(false),
    }
}

/// Whether the run's log already ends with its terminal event (a step retried after the
/// attempt that finished the run was lost must not write a second one).
pub(super) async fn already_ended(ctx: &RunContext, run_id: &str) -> Result<bool, DurableError> {
    let RunChannel::Logged(caching) = &ctx.channel else {
        return Ok(false);
    };
    let topic = agent_stream_topic(run_id);
    let len = caching.history_len(&topic).await?;
    let Some(last) = len.checked_sub(1) else {
        return Ok(false);
    };
    let tail = caching.log().read(&topic, last, Some(last)).await?;
    Ok(tail.last().is_some_and(|event| event.is_terminal()))
}
