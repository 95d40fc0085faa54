//! Migration 0012 packs the history events stored one per row into chunks: a store that
//! ran the earlier migrations reads the same history after it, on both backends.

use fnf_server::store::*;
use sqlx::{
    Connection, Database, Encode, Executor, IntoArguments, PgConnection, Postgres, Sqlite,
    SqliteConnection, Type,
};

use crate::common::{Backend, Storage};

/// The last migration that stored one history event per row.
const BEFORE_CHUNKS: i64 = 11;

/// Events as an older server stored them, with details that need escaping inside a chunk.
fn stored_events() -> Vec<HistoryEvent> {
    (1..=3)
        .map(|id| HistoryEvent {
            event_id: id,
            event_type: if id == 1 {
                "ExecutionStarted"
            } else {
                "StepEntered"
            }
            .into(),
            step_name: if id == 1 {
                String::new()
            } else {
                format!("step {id}")
            },
            time: 1_000 + id,
            schedule_event_id: id - 1,
            detail: format!(r#"{{"input":"{{\"n\":{id}}}","note":"é \\ ü"}}"#),
        })
        .collect()
}

/// Writes `stored_events()` into `history_events`, as a server before migration 0012 did.
async fn insert_as_before<Db>(db: &mut Db::Connection)
where
    Db: Database,
    <Db as Database>::Arguments: IntoArguments<Db>,
    for<'c> &'c mut Db::Connection: Executor<'c, Database = Db>,
    for<'t> &'t str: Encode<'t, Db> + Type<Db>,
    for<'t> i64: Encode<'t, Db> + Type<Db>,
{
    for event in stored_events() {
        sqlx::query(
            "INSERT INTO history_events (execution_id, event_id, event_type, step_name, time, \
             schedule_event_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind("old-run")
        .bind(event.event_id)
        .bind(event.event_type.as_str())
        .bind(event.step_name.as_str())
        .bind(event.time)
        .bind(event.schedule_event_id)
        .bind(event.detail.as_str())
        .execute(&mut *db)
        .await
        .unwrap();
    }
}

async fn history_survives_the_migration(backend: Backend) {
    let storage = Storage::new(backend).await;
    let url = &storage.database_url;
    match backend {
        Backend::Sqlite => {
            let mut db = SqliteConnection::connect(&format!("{url}?mode=rwc"))
                .await
                .unwrap();
            sqlx::migrate!("./migrations/sqlite")
                .run_to(BEFORE_CHUNKS, &mut db)
                .await
                .unwrap();
            insert_as_before::<Sqlite>(&mut db).await;
            db.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut db = PgConnection::connect(url).await.unwrap();
            sqlx::migrate!("./migrations/postgres")
                .run_to(BEFORE_CHUNKS, &mut db)
                .await
                .unwrap();
            insert_as_before::<Postgres>(&mut db).await;
            db.close().await.unwrap();
        }
    }
    let store = open(url).await.expect("the store opens and migrates");
    assert_eq!(
        store.list_history("old-run", 1, 10).await.unwrap(),
        stored_events()
    );
    assert_eq!(
        store.list_history("old-run", 2, 1).await.unwrap(),
        stored_events()[1..2]
    );
    drop(store);
    storage.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_history_survives_the_migration_to_chunks() {
    history_survives_the_migration(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_history_survives_the_migration_to_chunks() {
    history_survives_the_migration(Backend::Postgres).await;
}
