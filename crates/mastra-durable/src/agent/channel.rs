//! Where a durable agent's runs are written and read: a logged channel (resumable from any
//! offset) or, with `no_cache()`, a live-only one.

use crate::engine::metrics::{self, OpenObserver};
use crate::{agent_stream_topic, CachingPubSub, DurableError, ObserveOptions};
use futures::stream::{BoxStream, StreamExt};
use mastra_pubsub::{Delivery, Event, PubSub, PublishOptions};
use std::sync::Arc;
use std::time::Duration;

/// A stream of a run's envelopes.
pub type EventStream = BoxStream<'static, Result<Arc<Event>, DurableError>>;

/// The run channel of a durable agent.
#[derive(Debug, Clone)]
pub enum RunChannel {
    /// Every event is logged with its index, then published: observers join at any offset.
    Logged(CachingPubSub),
    /// Events are only published live: observers see what happens after they subscribe.
    LiveOnly(Arc<dyn PubSub>),
}

impl RunChannel {
    /// The transport underneath, for control messages.
    pub fn transport(&self) -> Arc<dyn PubSub> {
        match self {
            Self::Logged(caching) => caching.inner().clone(),
            Self::LiveOnly(pubsub) => pubsub.clone(),
        }
    }

    /// Whether runs can be observed from an offset.
    pub fn is_resumable(&self) -> bool {
        matches!(self, Self::Logged(_))
    }

    /// A non-waiting, ordered writer of the run's events, when the channel pipelines its
    /// log appends (see [`CachingPubSub::sender`]).
    pub fn sender(&self, run_id: &str) -> Option<crate::TopicSender> {
        match self {
            Self::Logged(caching) => caching.sender(&agent_stream_topic(run_id)),
            Self::LiveOnly(_) => None,
        }
    }

    /// Writes one event of `run_id`; returns its index when it was logged.
    pub async fn publish(&self, run_id: &str, event: Event) -> Result<Option<u64>, DurableError> {
        let topic = agent_stream_topic(run_id);
        match self {
            Self::Logged(caching) => {
                let index = caching
                    .publish_event(&topic, event, PublishOptions::default())
                    .await?;
                metrics::event_written(index.is_some());
                Ok(index)
            }
            Self::LiveOnly(pubsub) => {
                pubsub
                    .publish(&topic, event, PublishOptions::default())
                    .await?;
                metrics::event_written(false);
                Ok(None)
            }
        }
    }

    /// The run's events from `offset`, ending after the terminal event. With
    /// `require_existing`, an unknown, expired or cleared run fails at once.
    pub async fn observe(
        &self,
        run_id: &str,
        offset: u64,
        idle_timeout: Option<Duration>,
        require_existing: bool,
    ) -> Result<EventStream, DurableError> {
        let topic = agent_stream_topic(run_id);
        match self {
            Self::Logged(caching) => {
                let mut options = ObserveOptions::from_offset(offset);
                options.idle_timeout = idle_timeout;
                options.require_existing = require_existing;
                let events = caching.observe(&topic, options).await?.into_stream();
                Ok(drop_superseded(events))
            }
            Self::LiveOnly(pubsub) => {
                let subscription = pubsub.subscribe(&topic).await?;
                Ok(drop_superseded(live_only(
                    subscription,
                    topic,
                    idle_timeout,
                )))
            }
        }
    }

    /// How many events of the run are logged (0 on a live-only channel).
    pub async fn log_len(&self, run_id: &str) -> Result<u64, DurableError> {
        match self {
            Self::Logged(caching) => caching.history_len(&agent_stream_topic(run_id)).await,
            Self::LiveOnly(_) => Ok(0),
        }
    }

    /// Removes the run's log and whatever the transport keeps for it.
    pub async fn clear(&self, run_id: &str) -> Result<(), DurableError> {
        let topic = agent_stream_topic(run_id);
        match self {
            Self::Logged(caching) => PubSub::clear_topic(caching, &topic).await?,
            Self::LiveOnly(pubsub) => pubsub.clear_topic(&topic).await?,
        }
        Ok(())
    }
}

/// Drops the events of a superseded executor: once an event of generation `g` (a run
/// ownership claim) was seen, events stamped with an older generation are stale. Events
/// without a generation (engines that do not fence) always pass. The stream counts as an
/// open observer until it is dropped.
fn drop_superseded(events: EventStream) -> EventStream {
    let mut newest = 0;
    let observer = OpenObserver::open();
    events
        .filter(move |item| {
            let _counted = &observer;
            let keep = match item.as_ref().map(|event| event.generation) {
                Ok(Some(generation)) if generation < newest => false,
                Ok(Some(generation)) => {
                    newest = generation;
                    true
                }
                _ => true,
            };
            futures::future::ready(keep)
        })
        .boxed()
}

/// Live deliveries until the terminal event. A lag cannot be repaired without a log, so it
/// ends the stream with an error rather than a silent gap.
fn live_only(
    subscription: mastra_pubsub::Subscription,
    topic: String,
    idle: Option<Duration>,
) -> EventStream {
    futures::stream::unfold(Some(subscription), move |state| {
        let topic = topic.clone();
        async move {
            let mut subscription = state?;
            let next = match idle {
                Some(idle) => match tokio::time::timeout(idle, subscription.next()).await {
                    Ok(next) => next,
                    Err(_) => return Some((Err(DurableError::IdleTimeout { topic, idle }), None)),
                },
                None => subscription.next().await,
            };
            match next? {
                Delivery::Event(event) => {
                    let more = (!event.is_terminal()).then_some(subscription);
                    Some((Ok(event), more))
                }
                Delivery::Lagged { missed } => {
                    Some((Err(DurableError::LiveGap { topic, missed }), None))
                }
                // A reconnect (or anything newer) may have lost events we cannot replay.
                _ => Some((Err(DurableError::LiveGap { topic, missed: 0 }), None)),
            }
        }
    })
    .boxed()
}
