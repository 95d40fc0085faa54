//! Starting and stopping a server: configuration → credentials, store, runtime, listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::{AppState, FlowCache, router};
use crate::auth::clock::SystemClock;
use crate::auth::credentials::{Credentials, DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET, DefaultKey};
use crate::auth::gate::Authenticator;
use crate::auth::replay::{MemoryNonces, NonceLedger};
use crate::config::Config;
use crate::engine::clock::TimeScale;
use crate::nonce_ledgers::{DurableNonces, SharedNonces};
use crate::retention::Retention;
use crate::schedule::Scheduler;
use crate::store::{self, Store};
use crate::testing::MockRegistry;
use crate::testing::watch::check_stored_flows;
use crate::throttle::Throttle;
use crate::worker::{FunctionEndpoints, Runtime, RuntimeConfig};

/// Nonces remembered in memory by a server whose store is not shared (about 40 bytes each):
/// the request rate × twice the skew window at which older nonces start to be forgotten
/// early. A shared store decides alone, so a replica's memory does not grow with the rate.
const MEMORY_NONCES: usize = 1_000_000;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Credentials(#[from] crate::auth::credentials::CredentialsError),
    #[error(
        "refusing to listen on {0} with the public development key: configure credentials \
         (FNF_ACCESS_KEY_ID and FNF_ACCESS_KEY_SECRET, or --credentials-file), or listen on a \
         loopback address"
    )]
    DevelopmentKeyOffLoopback(SocketAddr),
    #[error(
        "refusing to listen on {addr}: the key '{key}' ({origin}) has the public development \
         secret, which anyone can sign with; give it a secret of its own, or listen on a \
         loopback address"
    )]
    PublicSecretOffLoopback {
        addr: SocketAddr,
        key: String,
        origin: String,
    },
    #[error("cannot open the store {url}: {}", crate::error::error_chain(.error))]
    Store {
        url: String,
        error: store::StoreError,
    },
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        addr: SocketAddr,
        error: std::io::Error,
    },
}

/// A running server.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    serving: JoinHandle<()>,
    workers: Vec<JoinHandle<()>>,
    retention: Option<Arc<Retention>>,
}

impl RunningServer {
    /// Stops accepting requests and work, lets running advances finish within the grace
    /// period, and returns.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let grace = Duration::from_secs(self.state.config.shutdown_grace_seconds);
        // Before the runtime stops: the nonces still being written go through its batcher.
        let _ = tokio::time::timeout(grace, self.state.auth.nonces().flush()).await;
        self.state.scheduler.stop();
        if let Some(retention) = &self.retention {
            retention.stop();
        }
        self.state.runtime.shutdown(grace).await;
        let _ = tokio::time::timeout(grace, &mut self.serving).await;
        self.serving.abort();
        for worker in &self.workers {
            worker.abort();
        }
    }

    /// Waits until the listener stops (after `stop` from elsewhere, or an error).
    pub async fn serving(&mut self) {
        let _ = (&mut self.serving).await;
    }
}

/// Opens the store named by the configuration.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    store::open(&config.database_url)
        .await
        .map_err(|error| StartError::Store {
            url: store::redact_url(&config.database_url),
            error,
        })
}

/// Starts the server: everything `main` runs, and what tests start on `127.0.0.1:0`.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let credentials = Credentials::load(
        DefaultKey {
            account_id: &config.account_id,
            access_key_id: config.access_key_id.as_deref(),
            access_key_secret: config.access_key_secret.as_deref(),
        },
        config.credentials_file.as_deref(),
    )?;
    refuse_public_keys_off_loopback(&credentials, config.listen)?;
    let store = open_store(&config).await?;
    let mut functions = FunctionEndpoints {
        base: config.fc_endpoint.clone(),
        ..FunctionEndpoints::default()
    };
    if let Some(path) = &config.fc_functions_file {
        functions.overrides =
            FunctionEndpoints::load_overrides(path).map_err(StartError::Config)?;
    }
    let mocks = match &config.mock_config {
        Some(file) => {
            let registry =
                MockRegistry::load(file).map_err(|error| StartError::Config(error.to_string()))?;
            check_stored_flows(
                &registry.current(),
                file,
                store.as_ref(),
                &credentials.account_ids(),
            )
            .await
            .map_err(|error| StartError::Config(error.to_string()))?;
            Arc::new(registry)
        }
        None => Arc::new(MockRegistry::empty()),
    };
    let time_scale = TimeScale::new(config.time_scale).ok_or_else(|| {
        StartError::Config(format!(
            "--time-scale must be a finite number ≥ 0, got {}",
            config.time_scale
        ))
    })?;
    if !time_scale.is_real() {
        tracing::info!(
            time_scale = time_scale.factor(),
            "virtual time: every wait lasts its duration times the time scale"
        );
    }
    if let Some(dir) = &config.flows_dir {
        crate::flows_dir::sync_directory(dir, store.as_ref(), &config.account_id, &mocks).await;
    }
    let owner = replica_id();
    let lease = Duration::from_secs(config.lease_seconds.max(1));
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let runtime = Runtime::new(
        store.clone(),
        RuntimeConfig {
            owner: owner.clone(),
            region: config.region.clone(),
            lease,
            workers: config.workers,
            functions,
            time_scale,
            mocks: mocks.clone(),
            offline: false,
            max_running_executions: i64::try_from(config.max_running_executions_per_account)
                .unwrap_or(i64::MAX),
        },
        metrics.clone(),
    )
    .await
    .map_err(|error| StartError::Store {
        url: store::redact_url(&config.database_url),
        error,
    })?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|error| StartError::Listen {
            addr: config.listen,
            error,
        })?;
    let addr = listener.local_addr().map_err(|error| StartError::Listen {
        addr: config.listen,
        error,
    })?;
    let scheduler = Scheduler::new(store.clone(), runtime.clone(), owner, lease);
    let skew = TimeDelta::seconds(config.max_clock_skew_seconds as i64);
    let nonces = nonce_ledger(store.clone(), &runtime, skew)
        .await
        .map_err(|error| StartError::Store {
            url: store::redact_url(&config.database_url),
            error,
        })?;
    let state = AppState {
        throttle: Arc::new(Throttle::new(config.throttle_rps, config.throttle_burst)),
        auth: Arc::new(Authenticator::new(
            credentials,
            nonces,
            Arc::new(SystemClock),
            skew,
        )),
        config: Arc::new(config),
        runtime: runtime.clone(),
        flow_cache: Arc::new(FlowCache::default()),
        scheduler: scheduler.clone(),
        store: store.clone(),
        metrics,
    };
    let mut workers = runtime.spawn();
    workers.push(scheduler.spawn());
    let retention = Retention::new(
        store.clone(),
        state.metrics.clone(),
        state.config.retention_days,
    );
    workers.extend(retention.as_ref().map(|retention| retention.spawn()));
    if let Some(dir) = &state.config.flows_dir {
        let (flow_cache, account_id) = (state.flow_cache.clone(), state.config.account_id.clone());
        workers.extend(crate::flows_dir::spawn_watch(
            dir.clone(),
            store.clone(),
            state.config.account_id.clone(),
            mocks.clone(),
            move |name| flow_cache.forget(&account_id, name),
        ));
    }
    workers.extend(crate::testing::watch::spawn(
        mocks,
        store.clone(),
        state.auth.credentials().account_ids(),
    ));
    let (shutdown, shutdown_signal) = oneshot::channel::<()>();
    let app = router(state.clone()).merge(crate::console::router(state.clone()));
    let limits = crate::transport::Limits {
        max_connections: state.config.max_connections as usize,
        header_read_timeout: Duration::from_secs(state.config.header_read_timeout_seconds),
        write_timeout: Duration::from_secs(state.config.write_timeout_seconds),
    };
    let serving = tokio::spawn(crate::transport::serve(
        listener,
        app,
        limits,
        state.metrics.clone(),
        shutdown_signal,
    ));
    tracing::info!(%addr, backend = state.store.backend().as_str(), "fnf-server listening");
    if state.config.console {
        tracing::info!(url = %format!("http://{addr}/console/"), "web console");
    }
    Ok(RunningServer {
        addr,
        state,
        shutdown: Some(shutdown),
        serving,
        workers,
        retention,
    })
}

/// This replica's identity in leases: host, process and a random part.
fn replica_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &random[..8])
}

/// The public development key (or any key configured with its public secret) is accepted
/// on loopback addresses only, however it was supplied.
fn refuse_public_keys_off_loopback(
    credentials: &Credentials,
    listen: SocketAddr,
) -> Result<(), StartError> {
    let Some(public) = credentials.public_keys().next() else {
        return Ok(());
    };
    if !listen.ip().is_loopback() {
        return Err(if credentials.is_development_only() {
            StartError::DevelopmentKeyOffLoopback(listen)
        } else {
            StartError::PublicSecretOffLoopback {
                addr: listen,
                key: public.access_key_id().to_string(),
                origin: public.source().to_string(),
            }
        });
    }
    if credentials.is_development_only() {
        tracing::warn!(
            access_key_id = DEV_ACCESS_KEY_ID,
            access_key_secret = DEV_ACCESS_KEY_SECRET,
            "no credentials configured: accepting the public development key (loopback only)"
        );
    } else {
        tracing::warn!(
            access_key_id = public.access_key_id(),
            source = %public.source(),
            "a key has the public development secret: accepted on loopback only"
        );
    }
    Ok(())
}

/// Where used nonces are kept: a shared store decides for every replica; a store of this
/// process alone is backed by memory, written behind, and read back at start.
async fn nonce_ledger(
    store: Arc<dyn Store>,
    runtime: &Runtime,
    skew: TimeDelta,
) -> Result<Arc<dyn NonceLedger>, store::StoreError> {
    let window = MemoryNonces::for_skew(skew, MEMORY_NONCES);
    let batcher = runtime.batcher().clone();
    if store.is_shared() {
        return Ok(Arc::new(SharedNonces::new(
            store,
            batcher,
            window.retention(),
        )));
    }
    let durable = DurableNonces::open(store, batcher, window, chrono::Utc::now()).await?;
    Ok(Arc::new(durable))
}
