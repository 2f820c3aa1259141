//! One execution of a function for one Call Request: replay, then run or report new steps.

use crate::opcode::Opcode;
use crate::step_tools::{Found, StepTools};
use crate::{CallRequest, FunctionInput, InngestFunction, StepError};
use serde_json::Value;
use std::future::Future;
use std::pin::pin;
use std::task::Poll;

/// How an execution ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The handler returned.
    Done(Result<Value, StepError>),
    /// Steps to report in a `206`.
    Steps(Vec<Opcode>),
}

/// Runs `function` against `request`. `target` is the hashed id from `stepId`, `None` for
/// discovery (`stepId=step`).
pub(crate) async fn execute(
    function: &InngestFunction,
    request: CallRequest,
    target: Option<&str>,
) -> Outcome {
    let final_attempt = request.is_final_attempt();
    let disable_immediate = request.ctx.disable_immediate_execution;
    let event = request
        .event
        .clone()
        .or_else(|| request.events.first().cloned())
        .unwrap_or_else(|| crate::Event::new("", Value::Null));
    let input = FunctionInput {
        events: if request.events.is_empty() {
            vec![event.clone()]
        } else {
            request.events
        },
        event,
        run_id: request.ctx.run_id,
        attempt: request.ctx.attempt,
    };
    let tools = StepTools::new(request.steps);
    let returned = {
        let mut handler = pin!(function.call(input, tools.clone()));
        // Poll until the handler returns or stalls on new steps (it then never resumes:
        // dropping it here is how a step "interrupts" the function).
        futures::future::poll_fn(|cx| match handler.as_mut().poll(cx) {
            Poll::Ready(result) => Poll::Ready(Some(result)),
            Poll::Pending if tools.has_found() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        })
        .await
    };
    let found = tools.take_found();
    match (returned, target) {
        (Some(result), None) => Outcome::Done(result),
        (_, Some(target)) => {
            let step = found.into_iter().find(|f| f.id().hashed == target);
            Outcome::Steps(vec![match step {
                Some(Found::Run(id, body)) => run_step(&id, body, final_attempt).await,
                Some(other) => report(other),
                None => Opcode::step_not_found(target),
            }])
        }
        (None, None) => {
            let immediate = !disable_immediate
                && found.len() == 1
                && matches!(found.first(), Some(Found::Run(..)));
            if immediate {
                if let Some(Found::Run(id, body)) = found.into_iter().next() {
                    return Outcome::Steps(vec![run_step(&id, body, final_attempt).await]);
                }
                return Outcome::Steps(Vec::new());
            }
            Outcome::Steps(found.into_iter().map(report).collect())
        }
    }
}

async fn run_step(
    id: &crate::step_id::StepId,
    body: crate::step_tools::StepBody,
    final_attempt: bool,
) -> Opcode {
    match body.await {
        Ok(output) => Opcode::step_run(id, output),
        Err(error) => Opcode::step_error(id, error, final_attempt),
    }
}

/// A found step reported without running it.
fn report(found: Found) -> Opcode {
    match found {
        Found::Run(id, _) => Opcode::step_planned(&id),
        Found::Sleep(id, duration) => Opcode::sleep(&id, &duration),
        Found::Wait(id, wait) => {
            Opcode::wait_for_event(&id, &wait.event, &wait.timeout, wait.condition.as_deref())
        }
    }
}
