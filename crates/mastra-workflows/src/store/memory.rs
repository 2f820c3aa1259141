//! The in-process workflow store.

use super::{StoredRun, WorkflowStore};
use crate::WorkflowError;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

/// Runs in a map, for one process (or several engines sharing it in tests).
#[derive(Debug, Default)]
pub struct InMemoryWorkflowStore {
    runs: Mutex<HashMap<String, StoredRun>>,
}

impl InMemoryWorkflowStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, StoredRun>) -> T) -> T {
        // A poisoned lock only means a panic elsewhere mid-insert; the map is still usable.
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut runs)
    }
}

#[async_trait]
impl WorkflowStore for InMemoryWorkflowStore {
    async fn put(&self, run: &StoredRun) -> Result<(), WorkflowError> {
        self.with(|r| r.insert(run.run_id.clone(), run.clone()));
        Ok(())
    }

    async fn load(&self, run_id: &str) -> Result<Option<StoredRun>, WorkflowError> {
        Ok(self.with(|r| r.get(run_id).cloned()))
    }

    async fn save(&self, run: &StoredRun) -> Result<bool, WorkflowError> {
        Ok(self.save_reading_cancel(run).await?.is_some())
    }

    async fn save_reading_cancel(&self, run: &StoredRun) -> Result<Option<bool>, WorkflowError> {
        Ok(self.with(|r| match r.get_mut(&run.run_id) {
            Some(stored) if stored.generation <= run.generation => {
                let cancel = stored.cancel_requested;
                *stored = run.clone();
                stored.cancel_requested |= cancel;
                Some(stored.cancel_requested)
            }
            _ => None,
        }))
    }

    async fn fence(&self, run_id: &str, generation: u64) -> Result<bool, WorkflowError> {
        Ok(self.with(|r| match r.get_mut(run_id) {
            Some(stored) if stored.generation <= generation => {
                stored.generation = generation;
                true
            }
            _ => false,
        }))
    }

    async fn request_cancel(&self, run_id: &str) -> Result<bool, WorkflowError> {
        Ok(self.with(|r| match r.get_mut(run_id) {
            Some(stored) => {
                stored.cancel_requested = true;
                true
            }
            None => false,
        }))
    }

    async fn remove(&self, run_id: &str, generation: u64) -> Result<bool, WorkflowError> {
        Ok(self.with(|r| match r.get(run_id) {
            Some(stored) if stored.generation <= generation => r.remove(run_id).is_some(),
            _ => false,
        }))
    }

    async fn list(&self) -> Result<Vec<String>, WorkflowError> {
        Ok(self.with(|r| r.keys().cloned().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunPhase;

    fn run(generation: u64, step: u64) -> StoredRun {
        StoredRun {
            run_id: "r".into(),
            workflow_id: "w".into(),
            step,
            generation,
            phase: RunPhase::Active,
            cancel_requested: false,
            held: false,
            data: "null".into(),
        }
    }

    #[tokio::test]
    async fn older_generations_are_fenced_out() {
        let store = InMemoryWorkflowStore::new();
        assert!(!store.save(&run(1, 1)).await.unwrap(), "no record yet");
        store.put(&run(0, 0)).await.unwrap();
        assert!(store.save(&run(1, 1)).await.unwrap());
        assert!(store.fence("r", 3).await.unwrap());
        assert!(!store.save(&run(2, 2)).await.unwrap(), "superseded writer");
        assert!(!store.remove("r", 2).await.unwrap());
        assert!(store.request_cancel("r").await.unwrap());
        assert!(store.save(&run(3, 2)).await.unwrap());
        let stored = store.load("r").await.unwrap().unwrap();
        assert!(stored.cancel_requested, "a save keeps a cancel request");
        assert_eq!(stored.step, 2);
        assert!(store.remove("r", 3).await.unwrap());
        assert!(store.list().await.unwrap().is_empty());
    }
}
