//! Opcodes: what a `206` response reports about the steps found in one execution.

use crate::step_id::StepId;
use crate::StepError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The opcode names Inngest knows (`pkg/enums/opcode.go`); only those this SDK sends or
/// may meet are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Op {
    StepRun,
    StepPlanned,
    StepError,
    StepFailed,
    Sleep,
    WaitForEvent,
    InvokeFunction,
    StepNotFound,
    RunComplete,
}

/// The un-hashed id and repeat index (`userland`), as the JS SDK reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Userland {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

/// One reported step (`state.GeneratorOpcode`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Opcode {
    pub id: String,
    pub op: Op,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(default)]
    pub opts: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userland: Option<Userland>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
}

impl Opcode {
    fn for_step(step: &StepId, op: Op) -> Self {
        Self {
            id: step.hashed.clone(),
            op,
            name: step.user_id.clone(),
            display_name: step.user_id.clone(),
            opts: Map::new(),
            userland: Some(Userland {
                id: step.user_id.clone(),
                index: step.index,
            }),
            data: None,
            error: None,
        }
    }

    /// A step.run executed in this request, with its output.
    pub fn step_run(step: &StepId, output: Value) -> Self {
        Self {
            data: Some(output),
            ..Self::for_step(step, Op::StepRun)
        }
    }

    /// A step.run found but not executed: the server calls back with `stepId=<id>`.
    pub fn step_planned(step: &StepId) -> Self {
        Self::for_step(step, Op::StepPlanned)
    }

    /// A step.run that threw: `StepError` while retries remain, else `StepFailed`.
    pub fn step_error(step: &StepId, error: StepError, final_attempt: bool) -> Self {
        let op = if final_attempt || error.non_retriable {
            Op::StepFailed
        } else {
            Op::StepError
        };
        Self {
            error: Some(error),
            ..Self::for_step(step, op)
        }
    }

    /// `step.sleep(id, duration)`. The duration goes in `opts.duration` and in `name`
    /// (the JS SDK sends only `name`; the executor reads either).
    pub fn sleep(step: &StepId, duration: &str) -> Self {
        let mut opcode = Self::for_step(step, Op::Sleep);
        opcode.name = duration.to_owned();
        opcode.opts.insert("duration".into(), duration.into());
        opcode
    }

    /// `step.waitForEvent(id, {event, timeout, if?})`; the event name also goes in `name`.
    pub fn wait_for_event(
        step: &StepId,
        event: &str,
        timeout: &str,
        condition: Option<&str>,
    ) -> Self {
        let mut opcode = Self::for_step(step, Op::WaitForEvent);
        opcode.name = event.to_owned();
        opcode.opts.insert("event".into(), event.into());
        opcode.opts.insert("timeout".into(), timeout.into());
        if let Some(condition) = condition {
            opcode.opts.insert("if".into(), condition.into());
        }
        opcode
    }

    /// A targeted step the code never reached.
    pub fn step_not_found(hashed_id: &str) -> Self {
        Self {
            id: hashed_id.to_owned(),
            op: Op::StepNotFound,
            name: String::new(),
            display_name: String::new(),
            opts: Map::new(),
            userland: None,
            data: None,
            error: None,
        }
    }

    /// Whether the server must not retry after this opcode (`X-Inngest-No-Retry`), if the
    /// header applies to it at all.
    pub fn no_retry(&self) -> Option<bool> {
        match self.op {
            Op::StepError => Some(false),
            Op::StepFailed => Some(true),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step_id::StepCounter;
    use serde_json::json;

    fn ids() -> StepCounter {
        StepCounter::new()
    }

    #[test]
    fn step_run_matches_the_three_steps_trace() {
        let mut counter = ids();
        counter.next("llm-call");
        let second = counter.next("llm-call");
        let opcode = Opcode::step_run(&second, json!({"text": "second answer", "turn": 2}));
        assert_eq!(
            serde_json::to_value(&opcode).unwrap(),
            json!({
                "id": "6d1cc7b8a03fe63d40d2bb3b8788116ef164d4c6",
                "op": "StepRun",
                "name": "llm-call",
                "displayName": "llm-call",
                "opts": {},
                "userland": {"id": "llm-call", "index": 1},
                "data": {"text": "second answer", "turn": 2}
            })
        );
    }

    #[test]
    fn errors_planned_sleep_and_wait() {
        let mut counter = ids();
        let flaky = counter.next("flaky");
        let error = StepError::new("flaky failure on attempt 0");
        let opcode = Opcode::step_error(&flaky, error.clone(), false);
        assert_eq!(opcode.op, Op::StepError);
        assert_eq!(opcode.no_retry(), Some(false));
        assert_eq!(
            serde_json::to_value(&opcode).unwrap()["error"],
            json!({"name": "Error", "message": "flaky failure on attempt 0"})
        );
        assert_eq!(Opcode::step_error(&flaky, error, true).op, Op::StepFailed);
        let fatal = Opcode::step_error(&flaky, StepError::non_retriable("no"), false);
        assert_eq!((fatal.op, fatal.no_retry()), (Op::StepFailed, Some(true)));

        let planned = Opcode::step_planned(&counter.next("par-a"));
        assert_eq!(
            serde_json::to_value(&planned).unwrap(),
            json!({"id": "42094f9baaae4a7553fa8a331fcf663c2f2134b9", "op": "StepPlanned",
                   "name": "par-a", "displayName": "par-a", "opts": {}, "userland": {"id": "par-a"}})
        );
        assert_eq!(planned.no_retry(), None);

        let nap = Opcode::sleep(&counter.next("nap"), "1s");
        let nap = serde_json::to_value(&nap).unwrap();
        assert_eq!(nap["id"], "c2640f79b4ed481b838ce4ad75330aa3f825d4d9");
        assert_eq!(
            (&nap["op"], &nap["name"], &nap["opts"]),
            (&json!("Sleep"), &json!("1s"), &json!({"duration": "1s"}))
        );

        let cond = "async.data.runId == event.data.runId";
        let wait =
            Opcode::wait_for_event(&counter.next("approval"), "test/approve", "30s", Some(cond));
        let wait = serde_json::to_value(&wait).unwrap();
        assert_eq!(wait["id"], "59494695a3172b5212f0a47857b0546e54320776");
        assert_eq!(wait["name"], "test/approve");
        assert_eq!(
            wait["opts"],
            json!({"event": "test/approve", "timeout": "30s", "if": cond})
        );
    }

    #[test]
    fn reads_the_js_sdk_opcodes() {
        // Shapes from the traces, with the JS-only fields (`timing`, `__serialized`).
        let failed: Opcode = serde_json::from_value(json!({
            "id": "b9a3a6db7a4012b1d0912d070d9a0361811db3bf", "op": "StepFailed", "name": "fatal",
            "opts": {}, "displayName": "fatal", "userland": {"id": "fatal"},
            "error": {"name": "NonRetriableError", "message": "m", "stack": "s", "__serialized": true},
            "timing": {"a": 1, "b": 0}, "data": {"__serialized": true}
        }))
        .unwrap();
        assert_eq!(failed.op, Op::StepFailed);
        assert_eq!(failed.error.unwrap().name, "NonRetriableError");
    }
}
