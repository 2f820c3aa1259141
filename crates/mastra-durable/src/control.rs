//! Control messages on `agent.control.<runId>`: how a caller anywhere asks the process
//! executing a run to stop it (wire-contract §1).

use mastra_pubsub::{Event, EventType};
use serde_json::json;

/// The `type` of an abort request.
pub const ABORT_REQUEST: &str = "abort-request";

/// `{"type":"abort-request","runId":..,"data":{}}`.
pub fn abort_request(run_id: &str) -> Event {
    Event::new(
        EventType::Other(ABORT_REQUEST.to_owned()),
        run_id,
        json!({}),
    )
}

/// Whether `event` asks to abort its run.
pub fn abort_request_received(event: &Event) -> bool {
    event.kind.as_str() == ABORT_REQUEST
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abort_requests_have_the_upstream_shape() {
        let event = abort_request("r1");
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "abort-request");
        assert_eq!(json["runId"], "r1");
        assert_eq!(json["data"], json!({}));
        assert!(json.get("index").is_none());
        assert!(abort_request_received(&event));
    }
}
