//! Callbacks are live objects: they stay in the instance that started the run. Steps taken
//! here call them as usual; when another instance ends the run, the terminal callback
//! (`on_finish`, `on_abort` or `on_error`) fires here once the terminal event is logged.
//! Either way it fires exactly once.

use futures::StreamExt;
use mastra_core::chunk::FinishPayload;
use mastra_core::{AgentError, AgentOutput, Callback, Callbacks, ChunkKind, FinishReason};
use mastra_durable::engine::RunContext;
use mastra_durable::{event_chunk, DurableError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Wraps the terminal callbacks so that only the first of the local step and the log
/// watcher fires them, and starts the watcher.
pub(super) async fn relay_terminal(
    ctx: &RunContext,
    run_id: &str,
    callbacks: Callbacks,
) -> Result<Callbacks, DurableError> {
    let terminal = (
        callbacks.on_finish.clone(),
        callbacks.on_abort.clone(),
        callbacks.on_error.clone(),
    );
    if terminal.0.is_none() && terminal.1.is_none() && terminal.2.is_none() {
        return Ok(callbacks);
    }
    let fired = Arc::new(AtomicBool::new(false));
    let offset = ctx.channel.log_len(run_id).await?;
    let mut events = ctx.channel.observe(run_id, offset, None, false).await?;
    let watcher_fired = fired.clone();
    let (on_finish, on_abort, on_error) = terminal.clone();
    let id = run_id.to_owned();
    tokio::spawn(async move {
        while let Some(Ok(event)) = events.next().await {
            if !event.is_terminal() {
                continue;
            }
            if watcher_fired.swap(true, Ordering::SeqCst) {
                return;
            }
            match event_chunk(&event).map(|c| c.kind) {
                Some(ChunkKind::Finish(finish)) => {
                    let output = AgentOutput::from_finish(&id, &finish);
                    let callback = if is_abort(&finish) {
                        &on_abort
                    } else {
                        &on_finish
                    };
                    if let Some(callback) = callback {
                        callback(&output);
                    }
                }
                Some(ChunkKind::Error(error)) => {
                    if let Some(on_error) = &on_error {
                        on_error(&AgentError::Remote(error.error));
                    }
                }
                _ => {}
            }
            return;
        }
    });
    Ok(Callbacks {
        on_finish: once(terminal.0, &fired),
        on_abort: once(terminal.1, &fired),
        on_error: once(terminal.2, &fired),
        ..callbacks
    })
}

fn is_abort(finish: &FinishPayload) -> bool {
    finish.step_result.reason == FinishReason::Abort
}

fn once<T: 'static>(callback: Option<Callback<T>>, fired: &Arc<AtomicBool>) -> Option<Callback<T>> {
    let callback = callback?;
    let fired = fired.clone();
    Some(Arc::new(move |value: &T| {
        if !fired.swap(true, Ordering::SeqCst) {
            callback(value);
        }
    }))
}
