//! Prometheus metrics, served at `/metrics` in the text format: requests by action and code,
//! latencies, executions started and ended, steps, queue depth, claim lag, lease takeovers,
//! store errors, group-commit sizes, writer restarts, open connections, transport
//! timeouts and executions deleted by retention. One registry per server, so tests see their own.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    /// API requests by action and answer code (`OK` for successes).
    pub requests: IntCounterVec,
    /// API request latency by action, seconds.
    pub request_seconds: HistogramVec,
    pub executions_started: IntCounter,
    /// Executions that ended, by status.
    pub executions_ended: IntCounterVec,
    /// States entered (durable executions).
    pub steps: IntCounter,
    pub history_events: IntCounter,
    /// Executions due now and not yet claimed (sampled).
    pub queue_depth: IntGauge,
    /// From work being signalled to a worker starting on it, seconds.
    pub claim_lag_seconds: Histogram,
    /// Task calls of a lost replica taken over (made again).
    pub lease_takeovers: IntCounter,
    /// Store failures, by kind (`unavailable`, `internal`).
    pub store_errors: IntCounterVec,
    /// Writes per group-commit transaction.
    pub batch_writes: Histogram,
    /// Group-commit writer tasks started again after failing.
    pub batch_writer_restarts: IntCounter,
    /// Client connections open now.
    pub connections: IntGauge,
    /// Requests ended by a transport timeout, by phase (`head`, `body`, `write`).
    pub timeouts: IntCounterVec,
    /// Ended executions deleted by retention.
    pub retention_deleted: IntCounter,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let latency = vec![
            0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
        ];
        let metrics = Metrics {
            requests: IntCounterVec::new(
                Opts::new(
                    "fnf_requests_total",
                    "API requests by action and answer code",
                ),
                &["action", "code"],
            )
            .expect("valid metric"),
            request_seconds: HistogramVec::new(
                HistogramOpts::new("fnf_request_duration_seconds", "API request latency")
                    .buckets(latency.clone()),
                &["action"],
            )
            .expect("valid metric"),
            executions_started: IntCounter::new(
                "fnf_executions_started_total",
                "Executions started (durable)",
            )
            .expect("valid metric"),
            executions_ended: IntCounterVec::new(
                Opts::new("fnf_executions_ended_total", "Executions ended, by status"),
                &["status"],
            )
            .expect("valid metric"),
            steps: IntCounter::new("fnf_steps_total", "States entered by durable executions")
                .expect("valid metric"),
            history_events: IntCounter::new("fnf_history_events_total", "History events written")
                .expect("valid metric"),
            queue_depth: IntGauge::new(
                "fnf_queue_depth",
                "Executions due and not yet claimed (sampled by the heartbeat while busy)",
            )
            .expect("valid metric"),
            claim_lag_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "fnf_claim_lag_seconds",
                    "From work being signalled to a worker starting on it",
                )
                .buckets(latency),
            )
            .expect("valid metric"),
            lease_takeovers: IntCounter::new(
                "fnf_lease_takeovers_total",
                "Task calls of a lost replica taken over",
            )
            .expect("valid metric"),
            store_errors: IntCounterVec::new(
                Opts::new("fnf_store_errors_total", "Store failures, by kind"),
                &["kind"],
            )
            .expect("valid metric"),
            batch_writes: Histogram::with_opts(
                HistogramOpts::new("fnf_batch_writes", "Writes per group-commit transaction")
                    .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
            )
            .expect("valid metric"),
            batch_writer_restarts: IntCounter::new(
                "fnf_batch_writer_restarts_total",
                "Group-commit writer tasks started again after failing",
            )
            .expect("valid metric"),
            connections: IntGauge::new("fnf_http_connections", "Client connections open")
                .expect("valid metric"),
            timeouts: IntCounterVec::new(
                Opts::new(
                    "fnf_http_timeouts_total",
                    "Connections or requests ended by a timeout, by phase",
                ),
                &["phase"],
            )
            .expect("valid metric"),
            retention_deleted: IntCounter::new(
                "fnf_retention_deleted_total",
                "Ended executions deleted once past their retention",
            )
            .expect("valid metric"),
            registry,
        };
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(metrics.requests.clone()),
            Box::new(metrics.request_seconds.clone()),
            Box::new(metrics.executions_started.clone()),
            Box::new(metrics.executions_ended.clone()),
            Box::new(metrics.steps.clone()),
            Box::new(metrics.history_events.clone()),
            Box::new(metrics.queue_depth.clone()),
            Box::new(metrics.claim_lag_seconds.clone()),
            Box::new(metrics.lease_takeovers.clone()),
            Box::new(metrics.store_errors.clone()),
            Box::new(metrics.batch_writes.clone()),
            Box::new(metrics.batch_writer_restarts.clone()),
            Box::new(metrics.connections.clone()),
            Box::new(metrics.timeouts.clone()),
            Box::new(metrics.retention_deleted.clone()),
        ];
        for collector in collectors {
            metrics
                .registry
                .register(collector)
                .expect("metric names are unique");
        }
        metrics
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = TextEncoder::new();
        // Encoding gathered families into a Vec cannot fail.
        let _ = encoder.encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
