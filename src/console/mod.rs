//! The web console: server-rendered pages under `/console/` on the API listener.
//!
//! A user signs in once with an AccessKey pair; the server keeps the session in the store
//! (any replica accepts it) and the browser holds only an opaque `HttpOnly` cookie. Every
//! read and write a page makes is an API action run through the API's own handlers with the
//! session's key (`crate::api::call_as`), so policies, validation, errors, throttling and the
//! request log are exactly the RPC API's. The README's console section states the security
//! model.

mod assets;
mod diagram;
mod error;
mod live;
mod model;
mod pages;
mod security;
mod session;
mod sign_in;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::api::AppState;
pub use security::HostAllowList;
pub use session::{SessionRules, token_hash};

/// What every console handler shares.
#[derive(Clone)]
pub struct Console {
    pub app: AppState,
    pub hosts: Arc<HostAllowList>,
    pub rules: SessionRules,
}

/// The console's routes, or none when `--console false`.
pub fn router(app: AppState) -> Router {
    if !app.config.console {
        return Router::new();
    }
    let console = Console {
        hosts: Arc::new(HostAllowList::new(&app.config.console_hosts)),
        rules: SessionRules::from_config(&app.config),
        app,
    };
    let flow = "/console/flows/{flow}";
    let execution = "/console/flows/{flow}/executions/{execution}";
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(pages::flows::home))
        .route("/console/assets/{file}", get(assets::serve))
        .route("/console/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route(
            "/console/flows",
            get(pages::flows::list).post(pages::editor::create),
        )
        .route("/console/new-flow", get(pages::editor::new_flow))
        .route("/console/open", get(pages::flows::open))
        .route(flow, get(pages::flow::executions))
        .route(&format!("{flow}/definition"), get(pages::flow::definition))
        .route(
            &format!("{flow}/edit"),
            get(pages::editor::edit).post(pages::editor::update),
        )
        .route(
            &format!("{flow}/delete"),
            get(pages::flow::confirm_delete).post(pages::flow::delete),
        )
        .route(
            &format!("{flow}/versions"),
            get(pages::versions::page).post(pages::versions::change),
        )
        .route(
            &format!("{flow}/schedules"),
            get(pages::schedules::page).post(pages::schedules::change),
        )
        .route(
            &format!("{flow}/start"),
            get(pages::start::form).post(pages::start::submit),
        )
        .route(execution, get(pages::execution::page))
        .route(&format!("{execution}/step"), get(pages::step::step))
        .route(&format!("{execution}/live"), get(live::stream))
        .route(&format!("{execution}/stop"), post(pages::execution::stop))
        .route(
            &format!("{execution}/report"),
            post(pages::execution::report),
        )
        .route(
            &format!("{execution}/map-runs/{{map_run}}"),
            get(pages::map_run::page),
        )
        .layer(middleware::from_fn_with_state(
            console.clone(),
            security::guard,
        ))
        .with_state(console)
}
