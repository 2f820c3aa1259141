//! Topic names of wire-contract §1 and the cache key layout of §5.

/// Prefix of a run's event topic: `agent.stream.<runId>` (the only cached topic).
pub const AGENT_STREAM_PREFIX: &str = "agent.stream.";
/// Prefix of a run's control topic: `agent.control.<runId>` (cross-process abort).
pub const AGENT_CONTROL_PREFIX: &str = "agent.control.";
/// The evented engine's step-scheduling topic.
pub const WORKFLOWS_TOPIC: &str = "workflows";
/// Prefix of log keys inside the cache (the cache adds its own, e.g. `mastra:cache:`).
pub const DEFAULT_KEY_PREFIX: &str = "pubsub:";

/// The topic that carries every event of `run_id`.
pub fn agent_stream_topic(run_id: &str) -> String {
    concat(AGENT_STREAM_PREFIX, run_id)
}

/// The topic on which callers ask the executor of `run_id` to abort.
pub fn agent_control_topic(run_id: &str) -> String {
    concat(AGENT_CONTROL_PREFIX, run_id)
}

/// `prefix` followed by `name`, in one allocation. Topic and key names are built for every
/// published event, where `format!`'s machinery costs several times the copy.
pub(crate) fn concat(prefix: &str, name: &str) -> String {
    let mut joined = String::with_capacity(prefix.len() + name.len());
    joined.push_str(prefix);
    joined.push_str(name);
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_match_the_wire_contract() {
        assert_eq!(agent_stream_topic("r1"), "agent.stream.r1");
        assert_eq!(agent_control_topic("r1"), "agent.control.r1");
    }
}
