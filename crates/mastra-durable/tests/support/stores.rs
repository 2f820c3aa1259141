//! Run-state store doubles: one that keeps nothing but JSON text, one that is slow to save.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use mastra_durable::{DurableError, InMemoryRunStore, RunRecord, RunStore};

/// A run-state store that keeps each record only as JSON text, as a database would: a
/// paused run survives it only if its whole state serializes.
#[derive(Debug, Default)]
pub(crate) struct JsonRunStore {
    records: Mutex<HashMap<String, String>>,
}

impl JsonRunStore {
    /// The stored text of a run.
    pub(crate) fn raw(&self, run_id: &str) -> Option<String> {
        self.records.lock().unwrap().get(run_id).cloned()
    }
}

fn parse(text: Option<String>) -> Result<Option<RunRecord>, DurableError> {
    text.map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(DurableError::from)
}

#[async_trait]
impl RunStore for JsonRunStore {
    async fn save(&self, record: &RunRecord) -> Result<(), DurableError> {
        let text = serde_json::to_string(record)?;
        let run_id = record.state.run_id.clone();
        self.records.lock().unwrap().insert(run_id, text);
        Ok(())
    }

    async fn load(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        parse(self.raw(run_id))
    }

    async fn take(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        parse(self.records.lock().unwrap().remove(run_id))
    }

    async fn delete(&self, run_id: &str) -> Result<(), DurableError> {
        self.records.lock().unwrap().remove(run_id);
        Ok(())
    }

    async fn list(&self) -> Result<Vec<String>, DurableError> {
        Ok(self.records.lock().unwrap().keys().cloned().collect())
    }
}

/// The in-memory run store, slow to save: a paused run's state lands a while after the
/// executor decided to pause, as with a remote database.
#[derive(Debug, Default)]
pub(crate) struct SlowSaveStore {
    inner: InMemoryRunStore,
    pub(crate) delay: Duration,
}

impl SlowSaveStore {
    pub(crate) fn new(delay: Duration) -> Self {
        Self {
            inner: Default::default(),
            delay,
        }
    }
}

#[async_trait]
impl RunStore for SlowSaveStore {
    async fn save(&self, record: &RunRecord) -> Result<(), DurableError> {
        tokio::time::sleep(self.delay).await;
        self.inner.save(record).await
    }

    async fn load(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        self.inner.load(run_id).await
    }

    async fn take(&self, run_id: &str) -> Result<Option<RunRecord>, DurableError> {
        self.inner.take(run_id).await
    }

    async fn delete(&self, run_id: &str) -> Result<(), DurableError> {
        self.inner.delete(run_id).await
    }

    async fn list(&self) -> Result<Vec<String>, DurableError> {
        self.inner.list().await
    }
}
