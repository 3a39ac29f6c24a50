//! The page's HTTP server: axum's router on hyper's HTTP/1 connections, accepted here one by
//! one so that a page served to a whole room has limits. The web server shares the process's
//! file descriptors with the broker and the Kafka clients, so whatever the page's clients do,
//! it may hold only a few of them:
//!
//! - at most `CONNECTIONS` connections at once, and `PER_PEER` from one address. When all are
//!   taken, the oldest connection that has not sent a byte makes room (a browser sends its
//!   request as soon as it connects; only a socket held open to fill the server says nothing);
//!   if none is silent, the newcomer is answered 503 and closed at once;
//! - a request's headers must arrive within `HEADER_TIMEOUT` (hyper's timer also closes a
//!   kept-alive connection that sends no next request in that time);
//! - a connection that moves no byte either way for `IDLE_TIMEOUT` is closed: a page's event
//!   stream sends a keep-alive comment every 15 s, so only a reader that stopped reading goes;
//! - hyper buffers at most `BUFFER` bytes a connection, so a slow reader holds back the
//!   stream's next frame instead of queueing frames (the painter keeps only the latest).

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Connections open at once, from everyone.
pub const CONNECTIONS: usize = 256;
/// Connections open at once from one address.
pub const PER_PEER: usize = 24;
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(45);
/// hyper's read and write buffer per connection (its smallest allowed is 8 KiB).
const BUFFER: usize = 64 * 1024;

/// Serve `app` on `listener` until the runtime ends.
pub async fn serve(listener: TcpListener, app: axum::Router) {
    let open = Arc::new(Semaphore::new(CONNECTIONS));
    let peers = Peers::default();
    let silent = Silent::default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of descriptors or a connection reset while queued: try again shortly.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = peers.take(peer.ip()) else {
            refuse(&stream);
            continue;
        };
        let permit = match Arc::clone(&open).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) if silent.evict_oldest() => {
                match tokio::time::timeout(Duration::from_millis(200), Arc::clone(&open).acquire_owned()).await {
                    Ok(Ok(permit)) => permit,
                    _ => {
                        refuse(&stream);
                        continue;
                    }
                }
            }
            Err(_) => {
                refuse(&stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let watch = silent.clone();
        tokio::spawn(async move {
            let _held = (permit, slot);
            let io = Watched::new(stream);
            let last = Arc::clone(&io.last);
            let started = io.started;
            let (id, evicted) = watch.add(Arc::clone(&io.heard));
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(BUFFER)
                .serve_connection(TokioIo::new(io), service);
            tokio::pin!(connection);
            let mut check = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    // A browser that goes away mid-stream ends its own connection, nothing more.
                    _ = &mut connection => break,
                    _ = evicted.notified() => break,
                    _ = check.tick() => {
                        let idle = started.elapsed().saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
                        if idle >= IDLE_TIMEOUT {
                            break;
                        }
                    }
                }
            }
            watch.remove(id);
        });
    }
}

/// The connections that have not sent a byte yet, oldest first, each with a way to close it.
#[derive(Clone, Default)]
struct Silent(Arc<Mutex<SilentList>>);

#[derive(Default)]
struct SilentList {
    next: u64,
    open: std::collections::VecDeque<(u64, Arc<std::sync::atomic::AtomicBool>, Arc<tokio::sync::Notify>)>,
}

impl Silent {
    fn add(&self, heard: Arc<std::sync::atomic::AtomicBool>) -> (u64, Arc<tokio::sync::Notify>) {
        let close = Arc::new(tokio::sync::Notify::new());
        let Ok(mut list) = self.0.lock() else { return (u64::MAX, close) };
        list.next += 1;
        let id = list.next;
        list.open.push_back((id, heard, Arc::clone(&close)));
        (id, close)
    }

    fn remove(&self, id: u64) {
        if let Ok(mut list) = self.0.lock() {
            list.open.retain(|(open, _, _)| *open != id);
        }
    }

    /// Close the oldest connection that has sent nothing; whether there was one.
    fn evict_oldest(&self) -> bool {
        let Ok(mut list) = self.0.lock() else { return false };
        list.open.retain(|(_, heard, _)| !heard.load(Ordering::Relaxed));
        match list.open.pop_front() {
            Some((_, _, close)) => {
                close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// One connection too many: say so in a line of HTTP and close it, holding nothing.
fn refuse(stream: &TcpStream) {
    let _ = stream.try_write(b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
}

/// How many connections each address has open.
#[derive(Clone, Default)]
struct Peers(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl Peers {
    fn take(&self, ip: IpAddr) -> Option<PeerSlot> {
        let mut open = self.0.lock().ok()?;
        let count = open.entry(ip).or_default();
        if *count >= PER_PEER {
            return None;
        }
        *count += 1;
        Some(PeerSlot { peers: self.clone(), ip })
    }
}

/// One connection's place in its address's count, given back when it closes.
struct PeerSlot {
    peers: Peers,
    ip: IpAddr,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.peers.0.lock() {
            if let Some(count) = open.get_mut(&self.ip) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    open.remove(&self.ip);
                }
            }
        }
    }
}

/// A connection that notes when it last moved a byte (ms after `started`), and whether it has
/// sent any.
struct Watched {
    stream: TcpStream,
    started: Instant,
    last: Arc<AtomicU64>,
    heard: Arc<std::sync::atomic::AtomicBool>,
}

impl Watched {
    fn new(stream: TcpStream) -> Self {
        Watched { stream, started: Instant::now(), last: Arc::new(AtomicU64::new(0)), heard: Arc::default() }
    }

    fn moved(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.heard.store(true, Ordering::Relaxed);
            this.moved();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.moved();
        }
        polled
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
