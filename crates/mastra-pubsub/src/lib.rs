//! Event envelope, pubsub and lease contracts, with the in-process [`EventEmitterPubSub`].
//!
//! Every event of a durable run travels in an [`Event`] envelope (wire-contract §2). A
//! [`PubSub`] moves envelopes between processes: fan-out [`Subscription`]s see every event
//! published after they subscribed, consumer groups ([`PubSub::subscribe_group`]) share
//! them with one delivery per group and ack/nack. A [`LeaseProvider`] gives a run one owner
//! at a time. This crate knows nothing about run logs: the caching layer in
//! `mastra-durable` puts an index on each event and lets observers replay from any offset.
//!
//! ```
//! use mastra_pubsub::{Delivery, Event, EventEmitterPubSub, EventType, PubSub, PublishOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mastra_pubsub::PubSubError> {
//! let pubsub = EventEmitterPubSub::new();
//! let mut subscription = pubsub.subscribe("agent.stream.run-1").await?;
//!
//! let event = Event::new(EventType::Chunk, "run-1", serde_json::json!({"text": "hi"}));
//! pubsub.publish("agent.stream.run-1", event, PublishOptions::default()).await?;
//!
//! match subscription.next().await {
//!     Some(Delivery::Event(event)) => assert_eq!(event.data["text"], "hi"),
//!     other => panic!("expected an event, got {other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A reader that falls too far behind receives [`Delivery::Lagged`] with the number of
//! events it missed, never a silent gap. This crate has no feature flags.

mod emitter;
mod error;
mod event;
mod group;
pub mod json;
mod lease;
mod pubsub;
mod subscription;

pub use emitter::{EventEmitterPubSub, InProcessLeases, DEFAULT_CAPACITY};
pub use error::PubSubError;
pub use event::{format_created_at, Event, EventType};
pub use group::{Acknowledger, GroupMessage, GroupSubscription};
pub use lease::{Lease, LeaseProvider};
pub use pubsub::{PubSub, PublishOptions};
pub use subscription::{Delivery, Subscription};
