//! Background jobs: deleting keys whose waiting period has ended.

use std::sync::Arc;
use std::time::Duration;

use keyfort_core::Kms;

use crate::audit::{AuditLog, service_event};

/// Records the deletion of `arn` (`arn:aws:kms:{region}:{account}:key/{id}`).
async fn record_deletion(audit: &AuditLog, arn: &str) {
    let mut parts = arn.split(':');
    let region = parts.nth(3).unwrap_or_default().to_owned();
    let account = parts.next().unwrap_or_default().to_owned();
    let result = match service_event("DeleteKey", &region, &account, arn) {
        Ok((row, json)) => audit.record_service_event(row, json).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::error!(key = arn, error = %e, "could not record the deletion in the audit trail");
    }
}

/// Runs the deletion job every `interval` until the task is dropped; each deletion is
/// recorded in the audit trail as a service event.
pub async fn deletion_loop(kms: Arc<Kms>, audit: Option<Arc<AuditLog>>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let kms = Arc::clone(&kms);
        match tokio::task::spawn_blocking(move || kms.run_due_deletions()).await {
            Ok(Ok(deleted)) if !deleted.is_empty() => {
                tracing::info!(
                    count = deleted.len(),
                    "deleted keys at the end of their waiting period"
                );
                if let Some(audit) = &audit {
                    for arn in deleted {
                        record_deletion(audit, &arn).await;
                    }
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, source = ?std::error::Error::source(&e), "deletion job failed")
            }
            Err(e) => tracing::error!(error = %e, "deletion job panicked"),
        }
    }
}
