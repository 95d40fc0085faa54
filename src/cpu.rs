//! CPU-heavy request work (parsing and validating definitions) runs here, off the async
//! runtime: on tokio's blocking threads, at most one job per core at a time. A slow job
//! cannot hold up the tasks serving other requests, and many jobs at once queue for a slot
//! instead of taking every thread.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

use crate::error::ApiError;

static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Semaphore::new(cores)
});

/// Runs `job` on a blocking thread once a slot is free. A job that panics is a bug: it is
/// logged and answered as an internal error.
pub async fn run<T, F>(job: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let _slot = SLOTS.acquire().await.map_err(|_| ApiError::internal())?;
    tokio::task::spawn_blocking(job).await.map_err(|error| {
        tracing::error!(%error, "a CPU-bound job failed");
        ApiError::internal()
    })
}
