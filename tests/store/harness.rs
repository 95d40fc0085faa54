//! How the suite runs: a fresh store per check and backend, and the steps many checks share.

use std::sync::Arc;

use fnf_server::store::*;

use crate::common::{Backend, Storage};
use crate::rows;

/// Expands every check of `checks` into one test per backend of `backends`, named
/// `<backend>::<area>::<check>`. A check is `async fn(store: &dyn Store)` (or
/// `&Arc<dyn Store>`, or `&Fixture`) in the module of its area; a backend is a function that opens a fresh,
/// empty store as a [`Fixture`].
macro_rules! conformance {
    (backends: { $($backend:ident => $open:path),* $(,)? } checks: $checks:tt) => {
        $(
            mod $backend {
                conformance!(@checks $open, $checks);
            }
        )*
    };
    (@checks $open:path, { $($area:ident: [$($check:ident),* $(,)?]),* $(,)? }) => {
        $(
            mod $area {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $check() {
                        let fixture = $open().await;
                        let store = crate::harness::Subject::of(&fixture);
                        crate::$area::$check(store).await;
                        fixture.done().await;
                    }
                )*
            }
        )*
    };
}

/// What a check takes: the store as `&dyn Store`, or as `&Arc<dyn Store>` to share it, or
/// the whole `&Fixture` to look at its database's rows too.
pub trait Subject<'a> {
    fn of(fixture: &'a Fixture) -> Self;
}

impl<'a> Subject<'a> for &'a dyn Store {
    fn of(fixture: &'a Fixture) -> Self {
        &*fixture.store
    }
}

impl<'a> Subject<'a> for &'a Arc<dyn Store> {
    fn of(fixture: &'a Fixture) -> Self {
        &fixture.store
    }
}

impl<'a> Subject<'a> for &'a Fixture {
    fn of(fixture: &'a Fixture) -> Self {
        fixture
    }
}

/// A fresh store and what to remove once a check is done with it.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub storage: Storage,
}

impl Fixture {
    pub async fn sqlite() -> Fixture {
        Fixture::open(Backend::Sqlite).await
    }

    /// A throwaway database on the server at `TEST_DATABASE_URL`.
    pub async fn postgres() -> Fixture {
        Fixture::open(Backend::Postgres).await
    }

    async fn open(backend: Backend) -> Fixture {
        let storage = Storage::new(backend).await;
        let store = open(&storage.database_url).await.expect("the store opens");
        Fixture { store, storage }
    }

    pub async fn done(self) {
        drop(self.store);
        self.storage.cleanup().await;
    }
}

/// Creates a flow of that account and name.
pub async fn created_flow(store: &dyn Store, account: &str, name: &str) -> Flow {
    let flow = rows::flow(account, name);
    assert_eq!(
        store.create_flow(&flow, i64::MAX).await.unwrap(),
        CreateFlowOutcome::Created
    );
    flow
}

pub async fn started(store: &dyn Store, new: &NewExecution) -> Execution {
    match store.start_execution(new).await.unwrap() {
        StartOutcome::Started(execution) => execution,
        other => panic!("expected a new execution, got {other:?}"),
    }
}

/// Starts an execution of `flow` named `name` at `at`.
pub async fn started_run(store: &dyn Store, flow: &Flow, name: &str, at: i64) -> Execution {
    started(store, &rows::new_execution(flow, name, at, None)).await
}

pub async fn claimed(store: &dyn Store, execution_id: &str, claim: &Claim) -> ClaimedExecution {
    match store.claim_execution(execution_id, claim).await.unwrap() {
        ClaimAttempt::Claimed(claimed) => *claimed,
        other => panic!("expected a claim, got {other:?}"),
    }
}

pub fn names(executions: Vec<Execution>) -> Vec<String> {
    executions.into_iter().map(|e| e.identity.name).collect()
}

pub async fn status_of(store: &dyn Store, execution_id: &str) -> ExecutionStatus {
    store
        .get_execution_by_id(execution_id)
        .await
        .unwrap()
        .expect("the execution exists")
        .status
}
