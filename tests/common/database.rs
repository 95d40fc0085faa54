//! Where a test server keeps its data: a temporary SQLite file, or a fresh Postgres database
//! per test created on the server `postgres_admin_url` names and dropped afterwards.

use sqlx::Connection;

use super::Backend;

/// The admin URL of the Postgres the tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()
        .filter(|url| url.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh, empty Postgres database for one test; dropped by `drop_database`.
pub async fn create_database() -> (String, String) {
    let admin = postgres_admin_url();
    let mut connection = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Postgres tests need a server: set TEST_DATABASE_URL (tried {admin}): {e}. \
             Run ./scripts/test, which finds or starts one."
            )
        });
    let name = format!("fnf_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut connection)
        .await
        .expect("creating a test database");
    (with_database(&admin, &name), name)
}

/// The same server URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

pub async fn drop_database(name: &str) {
    if let Ok(mut connection) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut connection)
        .await;
    }
}

/// Where a test server keeps its data.
pub struct Storage {
    pub backend: Backend,
    pub database_url: String,
    _dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

impl Storage {
    pub async fn new(backend: Backend) -> Storage {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("fnf.db");
                Storage {
                    backend,
                    database_url: format!("sqlite://{}", path.display()),
                    _dir: Some(dir),
                    pg_database: None,
                }
            }
            Backend::Postgres => {
                let (url, name) = create_database().await;
                Storage {
                    backend,
                    database_url: url,
                    _dir: None,
                    pg_database: Some(name),
                }
            }
        }
    }

    /// Runs `sql` on the store behind the server's back (white-box: what no notice tells of).
    pub async fn execute(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => execute_on::<sqlx::SqliteConnection>(&self.database_url, sql).await,
            Backend::Postgres => execute_on::<sqlx::PgConnection>(&self.database_url, sql).await,
        }
    }

    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_database {
            drop_database(name).await;
        }
    }
}

impl Storage {
    /// A fresh Postgres database whose default collation is linguistic (ICU `en`) instead
    /// of the byte order of `C`, as on many installations (the official Docker image
    /// initialises its cluster with `en_US.utf8`).
    pub async fn postgres_with_linguistic_collation() -> Storage {
        let admin = postgres_admin_url();
        let mut connection = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("Postgres tests need a server (tried {admin}): {e}"));
        let name = format!("fnf_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en'"
        )))
        .execute(&mut connection)
        .await
        .expect("creating a test database with an ICU collation");
        Storage {
            backend: Backend::Postgres,
            database_url: with_database(&admin, &name),
            _dir: None,
            pg_database: Some(name),
        }
    }
}

/// Runs `sql` through a connection of its own to `url`.
async fn execute_on<C>(url: &str, sql: &str)
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    let mut db = C::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut db)
        .await
        .unwrap();
}
