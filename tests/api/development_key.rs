//! The public development key pair is accepted on loopback addresses only, however it is
//! supplied: built in, in `FNF_ACCESS_KEY_ID`/`FNF_ACCESS_KEY_SECRET`, or in a credentials
//! file. Its secret is public, so any key configured with it counts. Checked where the
//! server starts.

use crate::common;

use common::{Backend, Storage, TestServer, test_config};
use fnf_server::auth::credentials::{DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET};

/// Refused off loopback when given in the environment (under its own id or another) or in
/// a credentials file; accepted on loopback. (Built in, see `api_gateway.rs`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_development_key_is_refused_off_loopback_however_given() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dev.toml");
    std::fs::write(
        &file,
        format!(
            "[[accounts]]\nid = \"5\"\n[[accounts.keys]]\nid = \"{DEV_ACCESS_KEY_ID}\"\nsecret = \"{DEV_ACCESS_KEY_SECRET}\"\n"
        ),
    )
    .unwrap();
    // (key id, declared in the file rather than the environment)
    let cases = [
        (DEV_ACCESS_KEY_ID, false),
        (DEV_ACCESS_KEY_ID, true),
        ("my-key", false),
    ];
    let configure = |config: &mut fnf_server::config::Config, key_id: &str, in_file: bool| {
        if in_file {
            config.access_key_id = None;
            config.access_key_secret = None;
            config.credentials_file = Some(file.clone());
        } else {
            config.access_key_id = Some(key_id.into());
            config.access_key_secret = Some(DEV_ACCESS_KEY_SECRET.into());
        }
    };
    for (key_id, in_file) in cases {
        let named = if in_file {
            format!("'{key_id}' ({} accounts[0].keys[0])", file.display())
        } else {
            format!("'{key_id}' (FNF_ACCESS_KEY_ID)")
        };
        for listen in ["0.0.0.0:0", "[::]:0"] {
            let storage = Storage::new(Backend::Sqlite).await;
            let mut config = test_config(&storage.database_url);
            configure(&mut config, key_id, in_file);
            config.listen = listen.parse().unwrap();
            match fnf_server::server::start(config).await {
                Ok(running) => {
                    running.stop().await;
                    panic!("started on {listen} with the key {named}");
                }
                Err(error) => assert_eq!(
                    error.to_string(),
                    format!(
                        "refusing to listen on {listen}: the key {named} has the public \
                         development secret, which anyone can sign with; give it a secret of \
                         its own, or listen on a loopback address"
                    )
                ),
            }
            storage.cleanup().await;
        }
        // On loopback it is accepted.
        let storage = Storage::new(Backend::Sqlite).await;
        let mut config = test_config(&storage.database_url);
        configure(&mut config, key_id, in_file);
        let server = TestServer::start_on(storage, config).await;
        server
            .client_with_key(key_id, DEV_ACCESS_KEY_SECRET)
            .get("ListFlows", &[])
            .await
            .ok();
        server.stop().await;
    }
}
