//! The last checkpoint each run stored from this instance, kept decoded. A run's next step
//! mostly runs in the same instance (its workers share the engine), and would otherwise
//! parse again the JSON it just wrote: a parse that grows with the conversation, and the
//! main extra cost of long runs. The kept checkpoint is used only when the record loaded
//! for the step holds exactly the text that was saved with it, so a step taken elsewhere
//! in between (or any other write) simply means a parse, never a stale state.

use super::{lock, Checkpoint};
use std::collections::HashMap;
use std::sync::Mutex;

/// Runs kept at most; beyond, the map starts over (runs that moved to other instances
/// would otherwise stay forever).
const CAPACITY: usize = 4096;

/// Decoded checkpoints by run id, with the text they were saved as.
#[derive(Default)]
pub(super) struct Checkpoints {
    kept: Mutex<HashMap<String, (String, Checkpoint)>>,
}

impl Checkpoints {
    /// Keeps `checkpoint`, stored as `data`, for the run's next step.
    pub(super) fn keep(&self, run_id: &str, data: String, checkpoint: Checkpoint) {
        let mut kept = lock(&self.kept);
        if kept.len() >= CAPACITY && !kept.contains_key(run_id) {
            kept.clear();
        }
        kept.insert(run_id.to_owned(), (data, checkpoint));
    }

    /// The checkpoint stored as `data`: the kept one when it was saved as exactly that
    /// text, else `data` parsed.
    pub(super) fn decode(&self, run_id: &str, data: &str) -> Result<Checkpoint, serde_json::Error> {
        let kept = lock(&self.kept).remove(run_id);
        match kept {
            Some((saved, checkpoint)) if saved == data => Ok(checkpoint),
            _ => serde_json::from_str(data),
        }
    }

    /// Drops what is kept for the run (it ended or paused).
    pub(super) fn forget(&self, run_id: &str) {
        drop(lock(&self.kept).remove(run_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mastra_core::RunState;

    fn checkpoint(text: &str) -> Checkpoint {
        let mut state: RunState = serde_json::from_value(serde_json::json!({
            "runId": "r", "agentId": "a", "messages": [], "maxSteps": 5
        }))
        .unwrap();
        state.text = text.to_owned();
        Checkpoint {
            state,
            log_len: Some(3),
        }
    }

    #[test]
    fn only_the_exact_saved_text_reuses_the_kept_checkpoint() {
        let checkpoints = Checkpoints::default();
        let kept = checkpoint("kept");
        let data = serde_json::to_string(&kept).unwrap();
        checkpoints.keep("r", data.clone(), kept);
        assert_eq!(checkpoints.decode("r", &data).unwrap().state.text, "kept");
        // Taken out by the decode: the next one parses.
        let other = serde_json::to_string(&checkpoint("written elsewhere")).unwrap();
        checkpoints.keep("r", data.clone(), checkpoint("kept"));
        let decoded = checkpoints.decode("r", &other).unwrap();
        assert_eq!(
            decoded.state.text, "written elsewhere",
            "a stale entry was used"
        );
        checkpoints.keep("r", data.clone(), checkpoint("kept"));
        checkpoints.forget("r");
        assert!(lock(&checkpoints.kept).is_empty());
    }
}
