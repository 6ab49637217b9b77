//! Background jobs: deleting keys whose waiting period has ended; rotating keys whose
//! automatic rotation is due and deleting imported key material whose ValidTo passed.
//! Each change is recorded in the audit trail as a service event, as AWS CloudTrail
//! records them (`DeleteKey`, `RotateKey`, `DeleteExpiredKeyMaterial`).

use std::sync::Arc;
use std::time::Duration;

use keyfort_core::Kms;

use crate::audit::{AuditLog, service_event};

/// Records the deletion of `arn` (`arn:aws:kms:{region}:{account}:key/{id}`).
async fn record_deletion(audit: &AuditLog, arn: &str) {
    record_key_event(audit, "DeleteKey", arn).await;
}

/// Records a service event `name` about the key `arn`.
async fn record_key_event(audit: &AuditLog, name: &str, arn: &str) {
    let mut parts = arn.split(':');
    let region = parts.nth(3).unwrap_or_default().to_owned();
    let account = parts.next().unwrap_or_default().to_owned();
    let result = match service_event(name, &region, &account, arn) {
        Ok((row, json)) => audit.record_service_event(row, json).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::error!(key = arn, event = name, error = %e, "could not record a service event in the audit trail");
    }
}

/// What one run of the rotation and expiry job did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScheduledRun {
    /// ARNs of the keys rotated automatically.
    pub rotated: Vec<String>,
    /// ARNs of the keys whose imported material expired and was deleted.
    pub expired: Vec<String>,
}

/// Runs the rotation and expiry job once: rotates every key that is due, deletes
/// expired imported material, and records each in the audit trail before returning.
/// The server calls it every tick; tests call it after moving a manual clock.
pub async fn run_scheduled_once(kms: &Arc<Kms>, audit: Option<&AuditLog>) -> ScheduledRun {
    let mut run = ScheduledRun::default();
    let k = Arc::clone(kms);
    match tokio::task::spawn_blocking(move || (k.run_due_rotations(), k.run_material_expiry()))
        .await
    {
        Ok((rotations, expiry)) => {
            match rotations {
                Ok(done) => run.rotated = done.into_iter().map(|d| d.arn).collect(),
                Err(e) => {
                    tracing::error!(error = %e, source = ?std::error::Error::source(&e), "rotation job failed")
                }
            }
            match expiry {
                Ok(done) => run.expired = done,
                Err(e) => {
                    tracing::error!(error = %e, source = ?std::error::Error::source(&e), "key material expiry job failed")
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "rotation job panicked"),
    }
    if let Some(audit) = audit {
        for arn in &run.rotated {
            record_key_event(audit, "RotateKey", arn).await;
        }
        for arn in &run.expired {
            record_key_event(audit, "DeleteExpiredKeyMaterial", arn).await;
        }
    }
    run
}

/// Runs [`run_scheduled_once`] every `interval` until the task is dropped.
pub async fn rotation_loop(kms: Arc<Kms>, audit: Option<Arc<AuditLog>>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let run = run_scheduled_once(&kms, audit.as_deref()).await;
        if !run.rotated.is_empty() || !run.expired.is_empty() {
            tracing::info!(
                rotated = run.rotated.len(),
                expired = run.expired.len(),
                "scheduled rotation and key material expiry"
            );
        }
    }
}

/// Runs the deletion job once: deletes every key whose waiting period has ended and
/// records each deletion in the audit trail before returning. Returns the ARNs.
pub async fn run_deletions_once(kms: &Arc<Kms>, audit: Option<&AuditLog>) -> Vec<String> {
    let k = Arc::clone(kms);
    match tokio::task::spawn_blocking(move || k.run_due_deletions()).await {
        Ok(Ok(deleted)) => {
            if !deleted.is_empty() {
                tracing::info!(
                    count = deleted.len(),
                    "deleted keys at the end of their waiting period"
                );
            }
            if let Some(audit) = audit {
                for arn in &deleted {
                    record_deletion(audit, arn).await;
                }
            }
            deleted
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "deletion job failed");
            Vec::new()
        }
        Err(e) => {
            tracing::error!(error = %e, "deletion job panicked");
            Vec::new()
        }
    }
}

/// Runs the deletion job every `interval` until the task is dropped; each deletion is
/// recorded in the audit trail as a service event.
pub async fn deletion_loop(kms: Arc<Kms>, audit: Option<Arc<AuditLog>>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        run_deletions_once(&kms, audit.as_deref()).await;
    }
}
