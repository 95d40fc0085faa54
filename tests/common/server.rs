//! Starting a test server: its configuration, its storage, clients for its keys.

use fnf_server::config::Config;
use fnf_server::server::{RunningServer, start};

use super::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, ACCOUNT_ID, Backend, Client, Storage, fc_stub};

/// The configuration tests start servers with: one known key, loopback, port 0.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::defaults();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.database_url = database_url.to_string();
    config.access_key_id = Some(ACCESS_KEY_ID.into());
    config.access_key_secret = Some(ACCESS_KEY_SECRET.into());
    config.account_id = ACCOUNT_ID.into();
    config.credentials_file = None;
    config.throttle_rps = None;
    config.throttle_burst = None;
    config.fc_endpoint = None;
    config.fc_functions_file = None;
    config.lease_seconds = 3;
    config.shutdown_grace_seconds = 2;
    config
}

/// A running server with its storage.
pub struct TestServer {
    pub server: Option<RunningServer>,
    pub storage: Option<Storage>,
    pub endpoint: String,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        TestServer::start_with(backend, |_| {}).await
    }

    /// Starts with a configuration adjusted by `adjust`.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let storage = Storage::new(backend).await;
        let mut config = test_config(&storage.database_url);
        adjust(&mut config);
        TestServer::start_on(storage, config).await
    }

    pub async fn start_on(storage: Storage, config: Config) -> TestServer {
        let server = start(config).await.expect("the test server starts");
        TestServer {
            endpoint: server.addr.to_string(),
            server: Some(server),
            storage: Some(storage),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    }

    pub fn client_with_key(&self, key: &str, secret: &str) -> Client {
        Client::new(&self.endpoint, key, secret)
    }

    /// Stops the server and removes its storage.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
        if let Some(storage) = self.storage.take() {
            storage.cleanup().await;
        }
    }
}

/// Two replicas on one new Postgres database: the first (which owns the database), the
/// second, and a client of the second.
pub async fn postgres_replicas() -> (TestServer, RunningServer, Client) {
    let storage = Storage::new(Backend::Postgres).await;
    let url = storage.database_url.clone();
    let first = TestServer::start_on(storage, test_config(&url)).await;
    let second = start(test_config(&url))
        .await
        .expect("a second replica starts");
    let client = Client::new(&second.addr.to_string(), ACCESS_KEY_ID, ACCESS_KEY_SECRET);
    (first, second, client)
}

/// A server whose Function Compute endpoint is a fresh stub (Appendix A functions).
pub async fn start_with_stub(backend: Backend) -> (TestServer, fc_stub::FcStub) {
    let stub = fc_stub::FcStub::start().await;
    let endpoint = stub.endpoint();
    let server = TestServer::start_with(backend, |c| c.fc_endpoint = Some(endpoint)).await;
    (server, stub)
}
