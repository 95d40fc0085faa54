//! Signing (docs/COMPATIBILITY.md#authentication): the spec's vectors A, B and C through the public signing functions
//! and, byte for byte, through a live server; V1 requests built by hand the way each SDK
//! lays them out; V3 requests signed with `fnf_server::auth::v3`; and every way a
//! signature can fail.
//!
//! Signature checks do not depend on the store, so these run on SQLite only.

mod v1_failures;
mod v1_layouts;
mod v3_requests;
mod vectors;

use crate::common;

use common::{
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, Answer, Backend, Client, EMPTY_SHA256, SIGNATURE_NOT_MATCH,
    TestServer, assert_envelope, encode_form, encode_form_plus, pairs, remove_param, set_param,
    v1_signature,
};
use fnf_server::api::params::Params;
use fnf_server::auth::{v1, v3};

const FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";

async fn server_with_flow() -> (TestServer, Client) {
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    client.create_flow("my_flow", FLOW).await;
    (server, client)
}

/// A value with spaces, non-ASCII and every character the encodings treat specially.
const AWKWARD: &str = "héllo wörld * ~ /+ & = % : ? # 中文 \" ' !()";
