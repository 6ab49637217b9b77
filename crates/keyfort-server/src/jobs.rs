//! Background jobs: deleting keys whose waiting period has ended.

use std::sync::Arc;
use std::time::Duration;

use keyfort_core::Kms;

/// Runs the deletion job every `interval` until the task is dropped.
pub async fn deletion_loop(kms: Arc<Kms>, interval: Duration) {
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
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, source = ?std::error::Error::source(&e), "deletion job failed")
            }
            Err(e) => tracing::error!(error = %e, "deletion job panicked"),
        }
    }
}
