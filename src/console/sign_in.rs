//! Signing in and out. The pair is checked once, in constant time and rate-limited per key
//! (in the store, so the limit holds across replicas); the browser then holds only the
//! session cookie and never signs anything.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Console;
use super::error::{ConsoleError, is_console_path};
use super::security::constant_time_eq;
use super::session::{Form, Posted, cookie, random_token, session_cookie};
use crate::auth::credentials::{DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET};
use crate::error::ApiError;
use crate::time::now_ms;

/// The cookie pairing the sign-in form with the browser that loaded it (login CSRF).
const FORM_COOKIE: &str = "fnf_console_form";
/// Sign-in attempts per key: a burst of 10, then one every 6 seconds.
const ATTEMPT_BURST: f64 = 10.0;
const ATTEMPTS_PER_SECOND: f64 = 1.0 / 6.0;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    form_token: &'a str,
    next: &'a str,
    error: Option<&'a str>,
    access_key_id: &'a str,
    development_key: Option<(&'a str, &'a str)>,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

pub async fn form(
    State(console): State<Console>,
    Query(query): Query<SignInQuery>,
) -> Result<Response, ConsoleError> {
    let next = query.next.unwrap_or_default();
    render(&console, &next, None, "")
}

fn render(
    console: &Console,
    next: &str,
    error: Option<&str>,
    access_key_id: &str,
) -> Result<Response, ConsoleError> {
    let form_token = random_token();
    let page = SignInPage {
        form_token: &form_token,
        next: if is_console_path(next) { next } else { "" },
        error,
        access_key_id,
        development_key: console
            .app
            .auth
            .credentials()
            .is_development_only()
            .then_some((DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET)),
    };
    let status = if error.is_some() {
        axum::http::StatusCode::UNAUTHORIZED
    } else {
        axum::http::StatusCode::OK
    };
    let cookie = format!("{FORM_COOKIE}={form_token}; Path=/console/; HttpOnly; SameSite=Strict");
    Ok((status, [(SET_COOKIE, cookie)], Html(page.render()?)).into_response())
}

pub async fn submit(
    State(console): State<Console>,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, ConsoleError> {
    if !super::security::same_origin(&headers) {
        return Err(ConsoleError::Forbidden(
            "the request comes from another origin",
        ));
    }
    let paired = cookie(&headers, FORM_COOKIE).unwrap_or_default();
    if paired.is_empty() || !constant_time_eq(paired, form.text("form_token")) {
        return Err(ConsoleError::Forbidden(
            "the sign-in form expired (reload the page and try again)",
        ));
    }
    let access_key_id = form.text("access_key_id").trim();
    let secret = form.text("access_key_secret");
    let next = form.text("next");
    let key = console.app.auth.credentials().lookup(access_key_id);
    // One bucket per existing key; guesses at unknown ids share one.
    let bucket = match key {
        Some(key) => format!("console-sign-in:{}", key.access_key_id()),
        None => "console-sign-in:?".to_string(),
    };
    let admitted = console
        .app
        .store
        .take_token(&bucket, now_ms(), ATTEMPTS_PER_SECOND, ATTEMPT_BURST)
        .await
        .map_err(ApiError::from)?;
    if !admitted {
        return Err(ConsoleError::Throttled);
    }
    // Compare against something of the same kind when the id is unknown, so both cases take
    // the same time.
    let expected = key.map_or(DEV_ACCESS_KEY_SECRET, |key| key.secret().expose());
    let matches = constant_time_eq(expected, secret);
    let Some(key) = key.filter(|_| matches) else {
        tracing::info!(access_key_id = %crate::names::shorten(access_key_id), "console sign-in refused");
        return render(
            &console,
            next,
            Some("That AccessKey ID and secret do not match a key this server accepts."),
            access_key_id,
        );
    };
    let now = now_ms();
    let (token, session) = console.rules.open(key.access_key_id(), now);
    let store = &console.app.store;
    store
        .prune_sessions(now, now - console.rules.idle_ms)
        .await
        .map_err(ApiError::from)?;
    store
        .create_session(&session)
        .await
        .map_err(ApiError::from)?;
    tracing::info!(access_key_id = key.access_key_id(), "console sign-in");
    let target = if is_console_path(next) {
        next
    } else {
        "/console/"
    };
    let max_age = console.rules.absolute_ms / 1000;
    Ok((
        [(SET_COOKIE, session_cookie(&token, max_age))],
        Redirect::to(target),
    )
        .into_response())
}

pub async fn sign_out(
    State(console): State<Console>,
    posted: Posted,
) -> Result<Response, ConsoleError> {
    console
        .app
        .store
        .delete_session(&posted.session.token_hash)
        .await
        .map_err(ApiError::from)?;
    Ok((
        [(SET_COOKIE, session_cookie("", 0))],
        Redirect::to("/console/sign-in"),
    )
        .into_response())
}
