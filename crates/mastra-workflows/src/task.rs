//! The work-queue messages: one `workflow.step.run` event per step to take, on the
//! `workflows` topic (wire-contract §1), consumed by a competing group of workers.

use mastra_pubsub::{Event, EventType};
use serde::{Deserialize, Serialize};

pub use mastra_durable::WORKFLOWS_TOPIC;

/// The `type` of a step-scheduling event.
pub const STEP_RUN: &str = "workflow.step.run";

/// The prefix of an evented agent's workflow id (`agent:<agentId>`).
pub const AGENT_WORKFLOW_PREFIX: &str = "agent:";

/// "Take step `step` of run `run_id` of workflow `workflow_id`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub workflow_id: String,
    pub run_id: String,
    /// How many steps of the run are complete when this one starts.
    pub step: u64,
}

impl Task {
    pub fn new(workflow_id: impl Into<String>, run_id: impl Into<String>, step: u64) -> Self {
        Self {
            workflow_id: workflow_id.into(),
            run_id: run_id.into(),
            step,
        }
    }

    /// The queue event carrying this task.
    pub fn to_event(&self) -> Result<Event, serde_json::Error> {
        let data = serde_json::to_value(self)?;
        Ok(Event::new(
            EventType::Other(STEP_RUN.to_owned()),
            self.run_id.clone(),
            data,
        ))
    }

    /// The task an event carries, if it is a step event.
    pub fn from_event(event: &Event) -> Option<Self> {
        (event.kind.as_str() == STEP_RUN)
            .then(|| Self::deserialize(&event.data).ok())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_travel_as_step_run_events() {
        let task = Task::new("agent:a", "r1", 3);
        let event = task.to_event().unwrap();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "workflow.step.run");
        assert_eq!(
            json["data"],
            serde_json::json!({"workflowId": "agent:a", "runId": "r1", "step": 3})
        );
        assert_eq!(Task::from_event(&event), Some(task));
    }
}
