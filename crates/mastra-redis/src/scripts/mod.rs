//! The Lua scripts: each makes one multi-key step atomic and costs one round trip
//! (`EVALSHA`, loading the script on `NOSCRIPT`). One file per concern.

mod lease;
mod log;
mod queue;
mod run;
mod workflow;

pub(crate) use lease::*;
pub(crate) use log::*;
pub(crate) use queue::*;
pub(crate) use run::*;
pub(crate) use workflow::*;

use fred::clients::Client;
use fred::error::Error as FredError;
use fred::types::scripts::Script;
use fred::types::{MultipleKeys, MultipleValues, Value};

/// A script run by its SHA-1, loaded into Redis on first use (and again after `SCRIPT
/// FLUSH` or a failover, when Redis answers `NOSCRIPT`).
#[derive(Debug, Clone)]
pub(crate) struct LuaScript {
    script: Script,
}

impl LuaScript {
    pub(crate) fn new(lua: &'static str) -> Self {
        Self {
            script: Script::from_lua(lua),
        }
    }

    pub(crate) async fn run<K, V>(
        &self,
        client: &Client,
        keys: K,
        args: V,
    ) -> Result<Value, FredError>
    where
        K: Into<MultipleKeys> + Send,
        V: TryInto<MultipleValues> + Send,
        V::Error: Into<FredError> + Send,
    {
        self.script.evalsha_with_reload(client, keys, args).await
    }

    /// `prelude` (shared Lua functions) followed by `lua`, as one script.
    pub(crate) fn with_prelude(prelude: &str, lua: &str) -> Self {
        Self {
            script: Script::from_lua(format!("{prelude}{lua}")),
        }
    }

    /// The script's SHA-1, for pipelined `EVALSHA`.
    pub(crate) fn sha1(&self) -> &str {
        self.script.sha1()
    }

    /// Loads the script into Redis (`SCRIPT LOAD`).
    pub(crate) async fn load(&self, client: &Client) -> Result<(), FredError> {
        self.script.load(client).await
    }
}

/// Every script of the crate, hashed once per connection.
#[derive(Debug, Clone)]
pub(crate) struct Scripts {
    pub(crate) append: LuaScript,
    pub(crate) append_batch: LuaScript,
    pub(crate) publish: LuaScript,
    pub(crate) release: LuaScript,
    pub(crate) reclaim: LuaScript,
    pub(crate) lease_acquire: LuaScript,
    pub(crate) lease_renew: LuaScript,
    pub(crate) lease_release: LuaScript,
    pub(crate) workflow_put: LuaScript,
    pub(crate) workflow_save: LuaScript,
    pub(crate) workflow_save_read_cancel: LuaScript,
    pub(crate) workflow_fence: LuaScript,
    pub(crate) workflow_cancel: LuaScript,
    pub(crate) workflow_remove: LuaScript,
    pub(crate) workflow_claim_load: LuaScript,
    pub(crate) workflow_save_release: LuaScript,
    pub(crate) workflow_save_release_enqueue: LuaScript,
    pub(crate) run_save: LuaScript,
    pub(crate) run_take: LuaScript,
    pub(crate) run_delete: LuaScript,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        Self {
            append: LuaScript::new(APPEND),
            append_batch: LuaScript::new(APPEND_BATCH),
            publish: LuaScript::new(PUBLISH),
            release: LuaScript::new(RELEASE),
            reclaim: LuaScript::new(RECLAIM),
            lease_acquire: LuaScript::with_prelude(LEASE_FUNCTIONS, LEASE_ACQUIRE),
            lease_renew: LuaScript::new(LEASE_RENEW),
            lease_release: LuaScript::with_prelude(LEASE_FUNCTIONS, LEASE_RELEASE),
            workflow_put: LuaScript::new(WORKFLOW_PUT),
            workflow_save: LuaScript::with_prelude(WORKFLOW_FUNCTIONS, WORKFLOW_SAVE),
            workflow_save_read_cancel: LuaScript::with_prelude(
                WORKFLOW_FUNCTIONS,
                WORKFLOW_SAVE_READ_CANCEL,
            ),
            workflow_fence: LuaScript::with_prelude(WORKFLOW_FUNCTIONS, WORKFLOW_FENCE),
            workflow_cancel: LuaScript::new(WORKFLOW_CANCEL),
            workflow_remove: LuaScript::with_prelude(WORKFLOW_FUNCTIONS, WORKFLOW_REMOVE),
            workflow_claim_load: LuaScript::with_prelude(LEASE_FUNCTIONS, WORKFLOW_CLAIM_LOAD),
            workflow_save_release: LuaScript::with_prelude(
                &format!("{WORKFLOW_FUNCTIONS}{LEASE_FUNCTIONS}"),
                WORKFLOW_SAVE_RELEASE,
            ),
            workflow_save_release_enqueue: {
                let (prelude, lua) = crate::workflow_enqueue::save_release_enqueue_source();
                LuaScript::with_prelude(&prelude, lua)
            },
            run_save: LuaScript::new(RUN_SAVE),
            run_take: LuaScript::new(RUN_TAKE),
            run_delete: LuaScript::new(RUN_DELETE),
        }
    }
}
