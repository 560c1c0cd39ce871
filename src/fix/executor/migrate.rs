//! Moving the keys of a slot: `GETKEYSINSLOT` and `MIGRATE` batch by batch, and the `DUMP`
//! comparison that decides what to do when the target already holds a key (`BUSYKEY`).

use std::time::Duration;

use redis::Value;
use tokio::sync::mpsc;

use super::{Executor, FixEvent, StepError, emit, migrate_reply_timeout, reply_text};
use crate::cluster::slots::Slot;
use crate::cluster::types::Endpoint;
use crate::fix::{FixPlan, FixStep};
use crate::refresh::CommandError;
use crate::refresh::conn::{sanitize, value_text};

impl Executor {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn migrate(
        &self,
        plan: &FixPlan,
        n: usize,
        step: &FixStep,
        slot: Slot,
        to: &Endpoint,
        batch: u32,
        timeout_ms: u64,
        events: &mpsc::Sender<FixEvent>,
    ) -> Result<String, StepError> {
        let from = &step.endpoint;
        let mut total: u64 = 0;
        let mut last_batch: Vec<String> = Vec::new();
        loop {
            let keys = self.keys_in_slot(from, slot, batch).await.map_err(|e| {
                StepError(format!(
                    "GETKEYSINSLOT on {from}: {e}; {total} key(s) moved before"
                ))
            })?;
            if keys.is_empty() {
                return Ok(format!(
                    "{total} key(s) of slot {slot} moved from {from} to {to}"
                ));
            }
            if keys == last_batch {
                return Err(StepError(format!(
                    "no progress: the same {} key(s) are still on {from} after MIGRATE; {total} key(s) moved before",
                    keys.len()
                )));
            }
            let args = self.migrate_args(to, timeout_ms, false, &keys);
            let shown = self.redact(&args);
            self.audit_intent(plan, n, step, &shown)?;
            match self
                .connector
                .command_with_timeout(from, &args, self.migrate_wait(timeout_ms))
                .await
            {
                Ok(v) => {
                    let reply = reply_text(&v);
                    self.audit(plan, n, step, &shown, &format!("ok: {reply}"))?;
                    // NOKEY: none of the batch was still there (someone else moved them):
                    // this run moved nothing, and counts nothing.
                    let moved = if reply.contains("NOKEY") {
                        0
                    } else {
                        u64::try_from(keys.len()).unwrap_or(0)
                    };
                    total += moved;
                    emit(
                        events,
                        FixEvent::KeysMoved {
                            n,
                            slot,
                            batch: moved,
                            total,
                        },
                    )
                    .await;
                }
                Err(CommandError::Server { code, message }) if message.contains("BUSYKEY") => {
                    self.audit(plan, n, step, &shown, &format!("error: {code} {message}"))?;
                    let replaced = self
                        .resolve_busy(plan, n, step, from, to, timeout_ms, &keys)
                        .await
                        .map_err(|StepError(e)| {
                            StepError(format!("{e}; {total} key(s) moved before"))
                        })?;
                    total += replaced;
                }
                Err(e) => {
                    let text = sanitize(&e.to_string(), self.connector.options().password.as_ref());
                    self.audit(plan, n, step, &shown, &format!("error: {text}"))?;
                    let unknown = if matches!(e, CommandError::Timeout { .. } | CommandError::Io(_))
                    {
                        format!(
                            " (this batch of {} key(s) may or may not have moved)",
                            keys.len()
                        )
                    } else {
                        String::new()
                    };
                    return Err(StepError(format!(
                        "MIGRATE from {from} to {to} failed: {text}; {total} key(s) moved before{unknown}"
                    )));
                }
            }
            last_batch = keys;
        }
    }

    /// The reply timeout for a `MIGRATE` / `DUMP` with this server-side timeout.
    fn migrate_wait(&self, timeout_ms: u64) -> Duration {
        migrate_reply_timeout(timeout_ms, self.connector.options().command_timeout)
    }

    fn migrate_args(
        &self,
        to: &Endpoint,
        timeout_ms: u64,
        replace: bool,
        keys: &[String],
    ) -> Vec<String> {
        let opts = self.connector.options();
        let mut args = vec![
            "MIGRATE".to_owned(),
            to.host.clone(),
            to.port.to_string(),
            String::new(),
            "0".to_owned(),
            timeout_ms.to_string(),
        ];
        if replace {
            args.push("REPLACE".to_owned());
        }
        if let Some(pw) = &opts.password {
            match &opts.user {
                Some(user) => {
                    args.extend(["AUTH2".to_owned(), user.clone(), pw.expose().to_owned()]);
                }
                None => args.extend(["AUTH".to_owned(), pw.expose().to_owned()]),
            }
        }
        args.push("KEYS".to_owned());
        args.extend(keys.iter().cloned());
        args
    }

    async fn keys_in_slot(
        &self,
        ep: &Endpoint,
        slot: Slot,
        batch: u32,
    ) -> Result<Vec<String>, CommandError> {
        let args = vec![
            "CLUSTER".to_owned(),
            "GETKEYSINSLOT".to_owned(),
            slot.to_string(),
            batch.max(1).to_string(),
        ];
        match self.connector.command(ep, &args).await? {
            Value::Array(items) | Value::Set(items) => items.iter().map(value_text).collect(),
            other => Err(CommandError::Protocol(format!(
                "GETKEYSINSLOT replied {other:?}"
            ))),
        }
    }

    /// `DUMP key` on a node, with `ASKING` first so an importing node answers for a slot it
    /// does not own yet. `None` when the key does not exist there.
    async fn dump(
        &self,
        ep: &Endpoint,
        key: &str,
        timeout_ms: u64,
    ) -> Result<Option<Vec<u8>>, CommandError> {
        let cmds = vec![
            vec!["ASKING".to_owned()],
            vec!["DUMP".to_owned(), key.to_owned()],
        ];
        let replies = self
            .connector
            .pipeline_with_timeout(ep, &cmds, self.migrate_wait(timeout_ms))
            .await?;
        match replies.get(1) {
            Some(Value::Nil) => Ok(None),
            // A migrating node redirects for a key it does not hold (any more).
            Some(v)
                if crate::refresh::conn::value_error(v).is_some_and(
                    |e| matches!(&e, CommandError::Server { code, .. } if code == "ASK"),
                ) =>
            {
                Ok(None)
            }
            Some(Value::BulkString(b)) => Ok(Some(b.clone())),
            Some(v) => match crate::refresh::conn::value_error(v) {
                Some(e) => Err(e),
                None => Err(CommandError::Protocol(format!("DUMP replied {v:?}"))),
            },
            None => Err(CommandError::Protocol("no reply to DUMP".to_owned())),
        }
    }

    /// After a `BUSYKEY`: compare each remaining key of the batch on both sides with `DUMP`.
    /// Identical copies are moved with `REPLACE` (nothing is lost); any difference stops the
    /// run with the list of differing keys. Returns the number of keys of the batch that moved
    /// (by the failed `MIGRATE` itself, or by the `REPLACE` one).
    #[allow(clippy::too_many_arguments)]
    async fn resolve_busy(
        &self,
        plan: &FixPlan,
        n: usize,
        step: &FixStep,
        from: &Endpoint,
        to: &Endpoint,
        timeout_ms: u64,
        keys: &[String],
    ) -> Result<u64, StepError> {
        let mut identical = Vec::new();
        let mut differ = Vec::new();
        // MIGRATE moves (and deletes on the source) every key of the batch the target
        // accepted; only the refused ones are still here.
        let mut gone: u64 = 0;
        for k in keys {
            let here = self
                .dump(from, k, timeout_ms)
                .await
                .map_err(|e| StepError(format!("DUMP {k} on {from}: {e}")))?;
            let Some(here) = here else {
                gone += 1;
                continue;
            };
            let there = self
                .dump(to, k, timeout_ms)
                .await
                .map_err(|e| StepError(format!("DUMP {k} on {to}: {e}")))?;
            match there {
                Some(t) if t == here => identical.push(k.clone()),
                Some(_) => differ.push(k.clone()),
                None => {}
            }
        }
        if !differ.is_empty() {
            let shown: Vec<&str> = differ.iter().take(20).map(String::as_str).collect();
            return Err(StepError(format!(
                "BUSYKEY: {} key(s) exist on both {from} and {to} with different values; nothing \
                 was overwritten ({gone} other key(s) of this batch did move). Decide which copy \
                 is right, delete the other, and run again: {}{}",
                differ.len(),
                shown.join(", "),
                if differ.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            )));
        }
        if identical.is_empty() {
            // The busy keys disappeared meanwhile; the next batch carries on.
            return Ok(gone);
        }
        let args = self.migrate_args(to, timeout_ms, true, &identical);
        let shown = self.redact(&args);
        self.audit_intent(plan, n, step, &shown)?;
        match self
            .connector
            .command_with_timeout(from, &args, self.migrate_wait(timeout_ms))
            .await
        {
            Ok(v) => {
                self.audit(plan, n, step, &shown, &format!("ok: {}", reply_text(&v)))?;
                Ok(gone + u64::try_from(identical.len()).unwrap_or(0))
            }
            Err(e) => {
                let text = sanitize(&e.to_string(), self.connector.options().password.as_ref());
                self.audit(plan, n, step, &shown, &format!("error: {text}"))?;
                Err(StepError(format!(
                    "MIGRATE REPLACE of {} identical key(s) failed: {text}",
                    identical.len()
                )))
            }
        }
    }
}
