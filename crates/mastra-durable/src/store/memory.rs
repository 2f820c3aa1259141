//! The in-process run-state store.

use super::{RunRecord, RunStore};
use crate::DurableError;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

/// Run states in a map, for one process.
#[derive(Debug, Default)]
pub struct InMemoryRunStore {
    records: Mutex<HashMap<String, RunRecord>>,
}

impl InMemoryRunStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, RunRecord>) -> T) -> T {
        // A poisoned lock only means a panic elsewhere mid-insert; the map is still usable.
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut records)
    }
}

#[async_trait]
impl RunStore for InMemoryRunStore {
    async fn save(&self, record: &RunRecord) -> Result<(), DurableError> {
        self.with(|r| r.insert(record.state.run_id.clone(), record.clone()));
        Ok(())
    }

    async fn load(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        Ok(self.with(|r| r.get(run_id).cloned()))
    }

    async fn take(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        Ok(self.with(|r| r.remove(run_id)))
    }

    async fn delete(&self, run_id: &str) -> Result<(), DurableError> {
        self.with(|r| r.remove(run_id));
        Ok(())
    }

    async fn list(&self) -> Result<Vec<String>, DurableError> {
        Ok(self.with(|r| r.keys().cloned().collect()))
    }
}
