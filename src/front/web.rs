//! The picture as a live web page, for a projector or a second screen. Read-only: it has no
//! route that runs a command.
//!
//! - `GET /`: the page (HTML, CSS and JavaScript built into the binary; it works offline);
//! - `GET /api/state`: the whole picture as JSON;
//! - `GET /api/events`: Server-Sent Events: `state` (the picture, at most ten a second, with
//!   when the change it shows was seen) and `event` (what an actor did, as the REPL prints it);
//! - `GET /class`: the instructor's page, every learner of a workshop (`class`), read again
//!   every second from `GET /api/class`.
//!
//! One painter task draws the picture when something changed and someone is watching, so any
//! number of pages cost one picture every 100 ms at most. `server` holds the connections to
//! limits (how many, how slow, how idle), so a room's browsers cannot starve the session.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use tokio::sync::{broadcast, watch};

use crate::error::{Error, Result};
use crate::report::Signal;

mod server;
pub use server::{CONNECTIONS, HEADER_TIMEOUT, IDLE_TIMEOUT, PER_PEER};
use crate::session::Scene;

const PAGE: &str = include_str!("web/page.html");
const SCRIPT: &str = include_str!("web/page.js");
const STYLE: &str = include_str!("web/page.css");
const CLASS_PAGE: &str = include_str!("web/class.html");

/// The shortest time between two frames.
const FRAME: Duration = Duration::from_millis(100);

/// A frame of the picture as the page receives it.
#[derive(Clone, Debug, Default)]
struct Frame {
    /// `{"picture": …, "changed_at_ms": …, "drawn_at_ms": …}`
    json: Arc<String>,
}

#[derive(Clone)]
struct App {
    scene: Scene,
    frames: watch::Receiver<Frame>,
}

/// A web page being served, on the runtime, for as long as the runtime runs.
pub struct Web {
    pub url: String,
    /// Said when it listens beyond this machine.
    pub warning: Option<String>,
}

/// Serve the picture on `listen` (default: 127.0.0.1 on a free port).
pub async fn serve(scene: Scene, listen: Option<SocketAddr>) -> Result<Web> {
    let listen = listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::AddrInUse => "the port is in use".to_string(),
            std::io::ErrorKind::AddrNotAvailable => "that address is not on this machine".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied (ports below 1024 need root)".to_string(),
            _ => e.to_string(),
        };
        Error::input(format!("cannot serve the web page on {listen}: {why}"))
    })?;
    let bound = listener.local_addr().map_err(|e| Error::io("cannot read the web page's address", e))?;
    let (frames_in, frames) = watch::channel(Frame::default());
    let painter = tokio::spawn(paint(scene.clone(), frames_in));
    let app = Router::new()
        .route("/", get(page))
        .route("/page.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT) }))
        .route("/page.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE) }))
        .route("/api/state", get(state))
        .route("/api/events", get(events))
        .route("/class", get(|| async { Html(CLASS_PAGE) }))
        .route("/api/class", get(class))
        .with_state(App { scene, frames });
    tokio::spawn(async move {
        server::serve(listener, app).await;
        painter.abort();
    });
    let warning = (!bound.ip().is_loopback()).then(|| {
        format!(
            "the page listens on {bound}: anyone who can reach it can read your topics' keys and the picture; \
             it cannot run commands. Serve on 127.0.0.1 unless the room needs it"
        )
    });
    Ok(Web { url: format!("http://{bound}/"), warning })
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// The picture now, as JSON.
async fn state(State(app): State<App>) -> Response {
    match app.scene.picture().await {
        Ok(picture) => {
            let json = frame_json(&picture, crate::report::now_ms());
            ([(header::CONTENT_TYPE, "application/json")], json).into_response()
        }
        Err(err) => {
            let body = serde_json::json!({ "error": err.to_string() }).to_string();
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}

/// The workshop's learners now, as JSON: the rows of `class`, whom to help first at the top.
async fn class(State(app): State<App>) -> Response {
    match app.scene.class().await {
        Ok(class) => {
            let now = crate::report::now_ms();
            let table = class.table(now);
            let learners: Vec<serde_json::Value> = class
                .rows(now)
                .into_iter()
                .zip(table.column("STEP"))
                .zip(table.column("LAST-SEEN"))
                .map(|(((p, status), step_label), last_seen)| {
                    serde_json::json!({
                        "learner": p.learner, "lesson": p.lesson, "title": p.title, "step": p.step, "steps": p.steps,
                        "step_label": step_label, "goal": p.goal, "status": status, "hints": p.hints,
                        "failed_checks": p.failed_checks, "last_seen": last_seen,
                    })
                })
                .collect();
            let body = serde_json::json!({ "summary": class.summary(now), "learners": learners, "drawn_at_ms": now });
            ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
        }
        Err(err) => {
            let body = serde_json::json!({ "error": err.to_string() }).to_string();
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}

fn frame_json(picture: &crate::outcome::picture::Picture, changed_at_ms: u64) -> String {
    serde_json::json!({ "picture": picture, "changed_at_ms": changed_at_ms, "drawn_at_ms": crate::report::now_ms() }).to_string()
}

/// The stream a page listens to: the latest frame at once, then every new frame and event.
async fn events(State(app): State<App>) -> Sse<impl Stream<Item = std::result::Result<SseEvent, Infallible>>> {
    let mut frames = app.frames.clone();
    frames.mark_changed();
    let signals = app.scene.subscribe();
    let stream = futures::stream::unfold((frames, signals), |(mut frames, mut signals)| async move {
        loop {
            tokio::select! {
                changed = frames.changed() => {
                    changed.ok()?;
                    let json = frames.borrow_and_update().json.clone();
                    if json.is_empty() {
                        continue;
                    }
                    return Some((Ok(SseEvent::default().event("state").data(json.as_str())), (frames, signals)));
                }
                signal = signals.recv() => match signal {
                    Ok(Signal::Event(event)) => {
                        let data = serde_json::to_string(&event).unwrap_or_default();
                        return Some((Ok(SseEvent::default().event("event").data(data)), (frames, signals)));
                    }
                    Ok(Signal::Changed { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Draw a frame whenever something changed and a page is watching, at most one every 100 ms.
/// A frame is drawn every few seconds anyway, for what the session cannot see happen (another
/// learner's messages, a countdown).
async fn paint(scene: Scene, frames: watch::Sender<Frame>) {
    let mut signals = scene.subscribe();
    let mut pending: Option<u64> = Some(crate::report::now_ms());
    let mut tick = tokio::time::interval(FRAME);
    let mut quiet = 0u32;
    loop {
        tokio::select! {
            signal = signals.recv() => match signal {
                Ok(Signal::Changed { at_ms }) => { pending.get_or_insert(at_ms); }
                Ok(Signal::Event(_)) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    pending.get_or_insert_with(crate::report::now_ms);
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tick.tick() => {
                quiet += 1;
                if quiet >= 20 {
                    pending.get_or_insert_with(crate::report::now_ms);
                }
                if frames.receiver_count() > 1 {
                    if let Some(at) = pending.take() {
                        quiet = 0;
                        if let Ok(picture) = scene.picture().await {
                            frames.send_replace(Frame { json: Arc::new(frame_json(&picture, at)) });
                        }
                    }
                }
            }
        }
    }
}
