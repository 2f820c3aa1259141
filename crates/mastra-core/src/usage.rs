//! Token usage, summed over model steps.

use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign};

/// Token counts as upstream reports them: `{inputTokens, outputTokens, totalTokens}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

impl Usage {
    /// Usage with the total derived from input and output.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens + output_tokens,
        }
    }
}

impl Add for Usage {
    type Output = Usage;
    fn add(self, rhs: Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens + rhs.input_tokens,
            output_tokens: self.output_tokens + rhs.output_tokens,
            total_tokens: self.total_tokens + rhs.total_tokens,
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, rhs: Usage) {
        *self = *self + rhs;
    }
}

/// Why a model step or a whole run ended. Serialized as upstream spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    Error,
    Abort,
    Suspended,
    Other,
    #[serde(other)]
    Unknown,
}

impl FinishReason {
    /// The wire spelling (`"tool-calls"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ToolCalls => "tool-calls",
            Self::ContentFilter => "content-filter",
            Self::Error => "error",
            Self::Abort => "abort",
            Self::Suspended => "suspended",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_sums_and_serializes_camel_case() {
        let total = Usage::new(3, 4) + Usage::new(10, 1);
        assert_eq!(total, Usage::new(13, 5));
        assert_eq!(
            serde_json::to_string(&total).unwrap(),
            r#"{"inputTokens":13,"outputTokens":5,"totalTokens":18}"#
        );
    }

    #[test]
    fn finish_reason_wire_names() {
        assert_eq!(
            serde_json::to_string(&FinishReason::ToolCalls).unwrap(),
            r#""tool-calls""#
        );
        let r: FinishReason = serde_json::from_str(r#""something-new""#).unwrap();
        assert_eq!(r, FinishReason::Unknown);
        assert_eq!(FinishReason::Abort.as_str(), "abort");
    }
}
