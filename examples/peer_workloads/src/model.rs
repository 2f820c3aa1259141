//! The mock model of the peer workloads: every call streams `deltas` text deltas of 20 bytes,
//! then finishes, with no delay (upstream's side uses the AI SDK's `MockLanguageModelV2` with
//! the same parts).

use mastra_core::Usage;
use mastra_core::{FinishReason, LanguageModel, ModelError, ModelPart, ModelRequest, ModelStream};

/// The text of one delta: 20 bytes, as on upstream's side.
pub(crate) const DELTA: &str = "abcdefghijklmnopqrs ";

/// Answers every call with the same `deltas` text deltas.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeltaModel {
    deltas: usize,
}

impl DeltaModel {
    pub(crate) fn new(deltas: usize) -> Self {
        Self { deltas }
    }
}

#[async_trait::async_trait]
impl LanguageModel for DeltaModel {
    fn provider(&self) -> &str {
        "peer-bench"
    }

    fn model_id(&self) -> &str {
        "deltas"
    }

    async fn stream(&self, _request: ModelRequest) -> Result<ModelStream, ModelError> {
        let mut parts = Vec::with_capacity(self.deltas + 1);
        parts.extend((0..self.deltas).map(|_| Ok(ModelPart::TextDelta(DELTA.to_owned()))));
        parts.push(Ok(ModelPart::Finish {
            reason: FinishReason::Stop,
            usage: Usage::new(10, self.deltas as u64),
        }));
        Ok(Box::pin(futures::stream::iter(parts)))
    }
}
