//! Step ids: the sha1 of the user's id, with `:n` for its n-th repeat in one execution.

use sha1::{Digest, Sha1};
use std::collections::HashMap;

/// `hex(sha1(id))`, the id Inngest knows a step by.
pub fn hash_step_id(id: &str) -> String {
    hex::encode(Sha1::digest(id.as_bytes()))
}

/// A step id as the SDK reports it: hashed, with the user's id and its repeat index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepId {
    /// `hex(sha1(user_id))` or `hex(sha1(user_id:index))`.
    pub hashed: String,
    /// The id the user gave.
    pub user_id: String,
    /// How many earlier steps of this execution had the same user id (`None` for the first).
    pub index: Option<usize>,
}

/// Hands out step ids in call order. One per execution (Call Request): every step call
/// counts, memoized or new, and the count never resets inside an execution, so a loop
/// calling `step.run("model")` gets `model`, `model:1`, `model:2`, ...
#[derive(Debug, Default, Clone)]
pub struct StepCounter {
    seen: HashMap<String, usize>,
}

impl StepCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of the next step called `user_id`.
    pub fn next(&mut self, user_id: &str) -> StepId {
        let count = self.seen.entry(user_id.to_owned()).or_insert(0);
        let index = *count;
        *count += 1;
        let hashed = match index {
            0 => hash_step_id(user_id),
            n => hash_step_id(&format!("{user_id}:{n}")),
        };
        StepId {
            hashed,
            user_id: user_id.to_owned(),
            index: (index > 0).then_some(index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// inngest-protocol.md §1.8 and the hashed ids table of inngest-traces/README.md.
    const VECTORS: &[(&str, &str)] = &[
        ("my-step-id", "e7d8a2f140845095749d60246ff1110c9d01d76a"),
        ("my-step-id:1", "f47c6228c581af870aa285200cf95ec3ac59bb6a"),
        ("first step", "98bf98df193bcce7c33e6bc50927cf2ac21206cb"),
        ("sleep", "c3ca5f787365eae0dea86250e27d476406956478"),
        ("wait", "daaad336276d15594d0e765f96c17cd746bf4971"),
        ("after-approval", "216d532ab6e3973c804571e7beed48e9c65810a3"),
        ("after-par", "540a1626fa7d9fa762d35f76858c8192dd6738f5"),
        ("always-fails", "244934f706419630495b56bff0e93f5258073e9d"),
        ("approval", "59494695a3172b5212f0a47857b0546e54320776"),
        ("fatal", "b9a3a6db7a4012b1d0912d070d9a0361811db3bf"),
        ("finalize", "c983faa27b7d2e36a3274dba2c4500ed7a74c44a"),
        ("flaky", "0612bcf5b16a1ec368ef4ebb92d6be2f7040260b"),
        ("llm-call", "62e365d7e3b9003211955a95b18a0d66484b850b"),
        ("llm-call:1", "6d1cc7b8a03fe63d40d2bb3b8788116ef164d4c6"),
        ("model", "1d06a0d76f000e6edd18de492383983feefced4e"),
        ("model:1", "080510b66102a46db4dbb1b4c935e73e361b6754"),
        ("model:2", "fe4af67221c6fd60ed7938189a98693ca86dda11"),
        ("nap", "c2640f79b4ed481b838ce4ad75330aa3f825d4d9"),
        ("par-a", "42094f9baaae4a7553fa8a331fcf663c2f2134b9"),
        ("par-b", "1f0f99d7e1dcab0c03d412de944ad0eaf9e4b243"),
        ("tool", "1937c4c28f7261868974e9266a649152939f64b0"),
        ("tool:1", "4103a4766cdad7c38253c930a6d97d578372d93e"),
        ("tool:2", "a938d96312a6141b3ec4654f47c8118256d0452b"),
        ("complete", "0737c22d3bfae812339732d14d8c7dbd6dc4e09c"),
    ];

    #[test]
    fn hashes_match_every_vector() {
        for (id, hashed) in VECTORS {
            assert_eq!(hash_step_id(id), *hashed, "{id}");
        }
    }

    #[test]
    fn repeats_get_suffixes_across_the_whole_execution() {
        // The agent-loop trace: model, tool, model, tool, tool, model.
        let mut counter = StepCounter::new();
        let ids: Vec<_> = ["model", "tool", "model", "tool", "tool", "model"]
            .iter()
            .map(|id| counter.next(id))
            .collect();
        let hashed: Vec<_> = ids.iter().map(|s| s.hashed.as_str()).collect();
        assert_eq!(
            hashed,
            [
                hash_step_id("model"),
                hash_step_id("tool"),
                hash_step_id("model:1"),
                hash_step_id("tool:1"),
                hash_step_id("tool:2"),
                hash_step_id("model:2"),
            ]
        );
        assert_eq!(ids[0].index, None);
        assert_eq!(ids[4].index, Some(2));
        assert_eq!(ids[4].user_id, "tool");
    }
}
