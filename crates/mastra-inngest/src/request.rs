//! The Call Request body the executor POSTs (`driver.SDKRequest`).

use crate::Event;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `{event, events, steps, ctx, version, use_api}`; unknown fields (`defers`, ...) are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRequest {
    #[serde(default)]
    pub event: Option<Event>,
    #[serde(default)]
    pub events: Vec<Event>,
    /// Memoized steps by hashed id: `{data}`, `{error}`, a bare event, or `null`.
    #[serde(default)]
    pub steps: Map<String, Value>,
    #[serde(default)]
    pub ctx: CallContext,
    /// `-1` on the first request of a run.
    #[serde(default)]
    pub version: i64,
    /// Deprecated top-level copy of `ctx.use_api`.
    #[serde(default)]
    pub use_api: bool,
}

/// `ctx`: the run, the attempt and how the server wants steps handled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallContext {
    #[serde(default)]
    pub run_id: String,
    /// 0-based; resets after each completed step.
    #[serde(default)]
    pub attempt: u32,
    #[serde(default)]
    pub max_attempts: Option<u32>,
    #[serde(default)]
    pub fn_id: String,
    /// Always `"step"` in practice, even on targeted requests (use the query's `stepId`).
    #[serde(default)]
    pub step_id: String,
    #[serde(default)]
    pub disable_immediate_execution: bool,
    #[serde(default)]
    pub use_api: bool,
    #[serde(default)]
    pub stack: Stack,
    #[serde(default)]
    pub env: String,
}

/// Hashed ids of completed steps in completion order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stack {
    #[serde(default)]
    pub stack: Vec<String>,
    #[serde(default)]
    pub current: usize,
}

impl CallRequest {
    /// Whether the server trimmed the body and the SDK must fetch events and steps.
    pub fn needs_api(&self) -> bool {
        self.ctx.use_api || self.use_api
    }

    /// Whether this is the last attempt the server will make for a failing step.
    pub fn is_final_attempt(&self) -> bool {
        self.ctx
            .max_attempts
            .is_some_and(|max| self.ctx.attempt + 1 >= max)
    }
}
