//! `RedisLeases` against the real Redis: exclusive acquire, renew and release by the
//! owner only, expiry, generations that only rise, and the keys they live in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use mastra_pubsub::LeaseProvider;
use mastra_redis::RedisLeases;
use redis::AsyncCommands;

#[tokio::test]
async fn one_owner_at_a_time_with_rising_generations() {
    let config = support::unique_config();
    let prefix = config.key_prefix.clone();
    let leases = RedisLeases::new(support::connect(config).await);
    let other_process = RedisLeases::new(
        support::connect(support::unique_config().with_key_prefix(prefix.clone())).await,
    );
    let ttl = Duration::from_millis(300);

    let first = leases
        .acquire("run-1", "a", ttl)
        .await
        .unwrap()
        .expect("free");
    assert_eq!(first.generation, 1);
    assert!(
        other_process
            .acquire("run-1", "b", ttl)
            .await
            .unwrap()
            .is_none(),
        "exclusive"
    );
    let again = leases
        .acquire("run-1", "a", ttl)
        .await
        .unwrap()
        .expect("holder re-acquires");
    assert_eq!(again.generation, 1, "re-acquiring keeps the generation");
    assert!(
        !other_process.renew("run-1", "b", ttl).await.unwrap(),
        "only the owner renews"
    );
    assert!(
        !other_process.release("run-1", "b").await.unwrap(),
        "only the owner releases"
    );

    let mut redis = support::inspector().await;
    let key = format!("{prefix}lease:run-1");
    assert_eq!(redis.get::<_, String>(&key).await.unwrap(), "a");
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!((1..=300).contains(&pttl), "PTTL {pttl}");

    // Renewing keeps it past its first deadline.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(leases.renew("run-1", "a", ttl).await.unwrap());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        other_process.owner("run-1").await.unwrap().as_deref(),
        Some("a")
    );

    // Expiry frees it; the next claim raises the generation.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(leases.owner("run-1").await.unwrap(), None);
    assert!(
        !leases.renew("run-1", "a", ttl).await.unwrap(),
        "an expired lease cannot be renewed"
    );
    let taken = other_process
        .acquire("run-1", "b", ttl)
        .await
        .unwrap()
        .expect("expired");
    assert_eq!(taken.generation, 2);
    assert!(other_process.release("run-1", "b").await.unwrap());
    let third = leases
        .acquire("run-1", "a", ttl)
        .await
        .unwrap()
        .expect("released");
    assert_eq!(
        third.generation, 3,
        "generations never go back after a release"
    );
    let generation: u64 = redis.get(format!("{key}:generation")).await.unwrap();
    assert_eq!(generation, 3);
    leases.release("run-1", "a").await.unwrap();
    let _: () = redis.del(format!("{key}:generation")).await.unwrap();
}

#[tokio::test]
async fn concurrent_claims_have_exactly_one_winner() {
    let config = support::unique_config();
    let leases = std::sync::Arc::new(RedisLeases::new(support::connect(config).await));
    let claims: Vec<_> = (0..8)
        .map(|n| {
            let leases = leases.clone();
            tokio::spawn(async move {
                leases
                    .acquire("contended", &format!("owner-{n}"), Duration::from_secs(5))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = Vec::new();
    for claim in claims {
        if let Some(lease) = claim.await.unwrap() {
            winners.push(lease);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(winners[0].generation, 1);
    let owner = winners[0].owner.clone();
    assert!(leases.release("contended", &owner).await.unwrap());
    let mut redis = support::inspector().await;
    let generation = format!("{}:generation", leases.lease_key("contended"));
    let _: () = redis.del(generation).await.unwrap();
}
