//! The live web page: `/api/state` and `/api/events` against the cluster's real state, what a
//! bad address or a browser that hangs up does, and the page itself in a real headless Chromium.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kafka_workshop::outcome::Outcome;
use serde_json::Value;

use crate::harness::{table, temp_dir, wait_until, Workshop};

/// Start serving the page from the session; its address.
pub fn serve(shop: &mut Workshop) -> String {
    let served = shop.ok("web");
    let line = served.said().into_iter().find(|l| l.starts_with("serving the live picture at ")).unwrap_or_else(|| panic!("{served:?}"));
    let url = line.trim_start_matches("serving the live picture at ").split(' ').next().unwrap();
    url.trim_start_matches("http://").trim_end_matches('/').to_string()
}

/// GET `path` from `address`: the status and the body.
pub fn get(address: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("the page server answers");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { unchunk(body) } else { body.to_string() };
    (status, body)
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

pub fn state(address: &str) -> Value {
    let (status, body) = get(address, "/api/state");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The end offset of a partition in a picture.
pub fn end(picture: &Value, topic: &str, partition: i64) -> Option<i64> {
    picture["topics"].as_array()?.iter().find(|t| t["name"] == topic)?["partitions"].as_array()?.iter().find(|p| p["partition"] == partition)?["end"].as_i64()
}

/// A Server-Sent Events stream, read on its own thread: (event, data) as they come.
struct Sse {
    events: Receiver<(String, String)>,
    _stream: TcpStream,
}

impl Sse {
    fn open(address: &str) -> Sse {
        let mut stream = TcpStream::connect(address).unwrap();
        write!(stream, "GET /api/events HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n").unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        let (sender, events) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut event = String::new();
            for line in reader.lines() {
                let Ok(line) = line else { break };
                // Chunk sizes of the chunked encoding come on lines of their own.
                if let Some(name) = line.strip_prefix("event: ") {
                    event = name.to_string();
                } else if let Some(data) = line.strip_prefix("data: ") {
                    if sender.send((event.clone(), data.to_string())).is_err() {
                        break;
                    }
                }
            }
        });
        Sse { events, _stream: stream }
    }

    /// The first event named `name` whose data satisfies `wanted`, within `limit`.
    fn wait_for(&self, name: &str, limit: Duration, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (event, data) = self.events.recv_timeout(left).unwrap_or_else(|_| panic!("no matching `{name}` event within {limit:?}"));
            if event == name {
                let value: Value = serde_json::from_str(&data).unwrap();
                if wanted(&value) {
                    return value;
                }
            }
        }
    }
}

#[test]
fn the_state_is_the_clusters_and_events_stream_what_changes() {
    let mut shop = Workshop::start();
    let address = serve(&mut shop);
    shop.script("create-topic orders --partitions 2\nproduce orders x --partition 0 --count 3");
    let picture = &state(&address)["picture"];
    let described = shop.ok("describe-topic orders");
    let ends = table(&described, &["PARTITION", "LEADER", "REPLICAS", "ISR", "START-OFFSET", "END-OFFSET", "MESSAGES"]).column("END-OFFSET");
    assert_eq!([end(picture, "orders", 0), end(picture, "orders", 1)], [ends[0].parse().ok(), ends[1].parse().ok()]);
    assert_eq!(end(picture, "orders", 0), Some(3));

    let events = Sse::open(&address);
    // The latest frame comes first.
    events.wait_for("state", Duration::from_secs(10), |f| end(&f["picture"], "orders", 0) == Some(3));
    shop.ok("produce orders y --partition 0 --count 2");
    let frame = events.wait_for("state", Duration::from_secs(10), |f| end(&f["picture"], "orders", 0) == Some(5));
    assert!(frame["drawn_at_ms"].as_u64() >= frame["changed_at_ms"].as_u64(), "{frame}");
    shop.ok("start-consumer c --group g --topic orders");
    let assigned = events.wait_for("event", Duration::from_secs(30), |e| e["kind"] == "assigned" && e["actor"] == "c");
    assert_eq!(assigned["partitions"]["orders"], serde_json::json!([0, 1]));
    let frame = events.wait_for("state", Duration::from_secs(10), |f| {
        f["picture"]["groups"].as_array().is_some_and(|g| g.iter().any(|g| g["name"] == "g" && g["members"].as_array().is_some_and(|m| m.len() == 1)))
    });
    assert_eq!(frame["picture"]["consumers"][0]["name"], "c");
}

#[test]
fn a_killed_consumer_counts_down_on_the_page_until_the_group_notices() {
    let mut shop = Workshop::start();
    let address = serve(&mut shop);
    shop.script(
        "create-topic orders --partitions 2
         start-consumer a --group g --topic orders
         start-consumer b --group g --topic orders
         expect consumer a assigned orders[0] --within 30s
         expect consumer b assigned orders[1] --within 30s",
    );
    std::thread::scope(|scope| {
        let kill = scope.spawn(|| shop.ok("kill-consumer b --wait"));
        // While the command waits out the session timeout, the page shows b dying.
        let mut left = Vec::new();
        wait_until("the countdown on the page", Duration::from_secs(10), || {
            let picture = state(&address);
            let dying = &picture["picture"]["groups"][0]["dying"];
            if let Some(seconds) = dying.get(0).and_then(|d| d["seconds_left"].as_f64()) {
                left.push(seconds);
            }
            left.len() >= 2 && left.first() > left.last()
        });
        assert!(left.iter().all(|s| *s <= 6.0), "a 6 s session timeout: {left:?}");
        kill.join().unwrap();
    });
    let picture = state(&address);
    let owners: Vec<&str> = picture["picture"]["topics"][0]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["owners"][0]["owner"].as_str().unwrap())
        .collect();
    assert_eq!(owners, ["a", "a"]);
    assert_eq!(picture["picture"]["groups"][0]["dying"], serde_json::json!([]));
}

#[test]
fn bad_addresses_and_a_browser_that_hangs_up_get_one_line_or_nothing() {
    let mut shop = Workshop::start();
    let err = shop.fails("web --listen nowhere");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("expected an address to listen on such as 127.0.0.1:8080, got 'nowhere'"), "{err}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = shop.fails(&format!("web --listen 127.0.0.1:{port}"));
    assert_eq!(err.to_string(), format!("cannot serve the web page on 127.0.0.1:{port}: the port is in use"));
    let address = serve(&mut shop);
    assert!(shop.ok("web").said()[0].starts_with("already serving the picture at http://"));
    // A page that goes away mid-stream costs nothing: the session and the server go on.
    let events = Sse::open(&address);
    events.wait_for("state", Duration::from_secs(10), |_| true);
    drop(events);
    shop.ok("create-topic after");
    assert_eq!(get(&address, "/api/state").0, 200);
    // The page cannot run commands: there is nothing to post to.
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(stream, "POST /api/state HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
}

#[test]
fn serving_beyond_this_machine_warns_that_anyone_can_read_it() {
    let mut shop = Workshop::start();
    let served = shop.ok("web --listen 0.0.0.0:0");
    assert!(served.parts().iter().any(|p| matches!(p, Outcome::Warning(w) if w.contains("anyone who can reach it can read"))), "{served:?}");
}

/// Debian's Chromium, installed by the test itself when the machine lacks it.
fn chromium() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = PathBuf::from("/usr/bin/chromium");
        crate::servers::install("chromium", || path.exists());
        path
    })
    .clone()
}

/// Headless Chromium with a window of this size.
pub fn browser(width: u32, height: u32) -> headless_chrome::Browser {
    use headless_chrome::{Browser, LaunchOptions};
    let flags: Vec<&std::ffi::OsStr> = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
        .iter()
        .map(std::ffi::OsStr::new)
        .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .sandbox(false)
        .window_size(Some((width, height)))
        .args(flags)
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    Browser::new(options).expect("headless chromium starts")
}

#[test]
fn the_page_in_a_real_browser_follows_produce_and_a_stop() {
    use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;

    let mut shop = Workshop::start();
    let address = serve(&mut shop);
    shop.script(
        "create-topic orders --partitions 2
         produce orders x --key till-1 --partition 0 --count 3
         start-consumer a --group g --topic orders
         start-consumer b --group g --topic orders
         expect consumer a assigned orders[0] --within 30s
         expect consumer b assigned orders[1] --within 30s",
    );
    let browser = browser(1600, 1000);
    let tab = browser.new_tab().unwrap();
    // The page never finishes loading in the browser's eyes: its event stream stays open.
    tab.navigate_to(&format!("http://{address}/")).unwrap();
    let read = |js: &str| tab.evaluate(js, false).ok().and_then(|r| r.value).and_then(|v| v.as_str().map(str::to_string));
    let wait = |what: &str, js: &str, wanted: &str| {
        wait_until(what, Duration::from_secs(20), || read(js).as_deref() == Some(wanted));
    };
    let end_of = |p: i32| format!(r#"(document.querySelector('[data-topic="orders"] [data-partition="{p}"] .end') || {{dataset: {{}}}}).dataset.end || """#);
    let owner_of = |p: i32| format!(r#"(document.querySelector('[data-topic="orders"] [data-partition="{p}"] .owner[data-group="g"]') || {{dataset: {{}}}}).dataset.owner || """#);
    wait("the topic on the page", r#"document.querySelector('[data-topic="orders"] h2') ? "yes" : "no""#, "yes");
    wait("partition 0's end", &end_of(0), "3");
    shop.ok("produce orders y --key till-1 --partition 0 --count 2");
    wait("partition 0's end after a produce", &end_of(0), "5");
    wait("b owns partition 1", &owner_of(1), "b");
    shop.ok("stop-consumer b");
    wait("a owns partition 1 after b stopped", &owner_of(1), "a");
    wait("b's box is gone from the group", r#"document.querySelector('.group[data-group="g"] .member[data-member="b"]') ? "there" : "gone""#, "gone");
    // Once the animations have finished, keep a screenshot for a person to look at.
    wait("the page at rest", "document.getAnimations().length === 0 ? \"still\" : \"moving\"", "still");
    let png = tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true).unwrap();
    let dir = temp_dir("web-screenshot").keep();
    let file = dir.join("page.png");
    std::fs::write(&file, png).unwrap();
    println!("screenshot of the page: {}", file.display());
}

/// The instructor's page: `/api/class` has the rows of `class`, and the page in a browser shows
/// a learner's new step without being reloaded.
#[test]
fn the_class_page_follows_a_learner_in_a_real_browser() {

    let broker = crate::harness::BackgroundBroker::start(&[]);
    let mut instructor = broker.client(None);
    let address = serve(&mut instructor);
    let mut amy = broker.client(Some("amy"));
    amy.ok("lesson 2");
    let class = || {
        let (status, body) = get(&address, "/api/class");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
    };
    wait_until("amy on /api/class", Duration::from_secs(10), || {
        let class = class();
        class["learners"][0]["learner"] == "amy" && class["learners"][0]["step_label"] == "1/5"
    });
    assert!(class()["summary"].as_str().unwrap().starts_with("1 learner · lesson 2: 1"));

    let browser = browser(1500, 700);
    let tab = browser.new_tab().unwrap();
    tab.navigate_to(&format!("http://{address}/class")).unwrap();
    let read = |js: &str| tab.evaluate(js, false).ok().and_then(|r| r.value).and_then(|v| v.as_str().map(str::to_string));
    let step = r#"(() => { const row = [...document.querySelectorAll('#learners tr')].find(r => r.cells[0].textContent === 'amy'); return row ? row.cells[2].textContent : ''; })()"#;
    wait_until("amy's step on the page", Duration::from_secs(20), || read(step).as_deref() == Some("1/5"));
    amy.ok("next");
    wait_until("amy's next step on the page, unreloaded", Duration::from_secs(5), || read(step).as_deref() == Some("2/5"));
    let status = r#"document.querySelector('#learners tr .badge').textContent"#;
    assert_eq!(read(status).as_deref(), Some("working"));
}

/// A connection to `address` from another loopback address, as another machine in the room.
fn connect_from(rt: &tokio::runtime::Runtime, from: [u8; 4], address: &str) -> Option<TcpStream> {
    let target: std::net::SocketAddr = address.parse().unwrap();
    rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().ok()?;
        socket.bind(std::net::SocketAddr::from((from, 0))).ok()?;
        let stream = socket.connect(target).await.ok()?;
        stream.into_std().ok()
    })
    .inspect(|s| s.set_nonblocking(false).unwrap())
}

#[test]
fn idle_and_slow_connections_cannot_take_the_page_or_the_session_down() {
    use kafka_workshop::front::web::{HEADER_TIMEOUT, PER_PEER};
    let mut shop = Workshop::start();
    let address = serve(&mut shop);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // A neighbour opens 400 connections and sends nothing.
    let idle: Vec<TcpStream> = (0..400).filter_map(|_| connect_from(&rt, [127, 0, 0, 2], &address)).collect();
    assert_eq!(idle.len(), 400);
    // Everyone else still gets the page and its state.
    let (status, _) = get(&address, "/api/state");
    assert_eq!(status, 200);
    // Beyond its share, the neighbour is told so and closed at once: it holds no descriptor.
    let refused = idle
        .iter()
        .filter(|stream| {
            let mut stream = *stream;
            stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
            let mut answer = [0u8; 64];
            matches!(stream.read(&mut answer), Ok(n) if String::from_utf8_lossy(&answer[..n]).contains(" 503 "))
        })
        .count();
    assert_eq!(refused, 400 - PER_PEER, "every connection beyond {PER_PEER} from one address is refused");
    // The session's own clients are unharmed.
    let topic = crate::harness::unique("busy");
    shop.ok(&format!("create-topic {topic}"));
    shop.ok(&format!("start-consumer c --group g --topic {topic}"));
    shop.ok(&format!("expect consumer c assigned {topic}[0] --within 20s"));
    drop(idle);
    // A request whose headers never finish is closed after the header timeout.
    let mut slow = connect_from(&rt, [127, 0, 0, 3], &address).unwrap();
    slow.write_all(b"GET /api/state HTTP/1.1\r\nHost: x\r\n").unwrap();
    slow.set_read_timeout(Some(HEADER_TIMEOUT + Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(started.elapsed() < HEADER_TIMEOUT + Duration::from_secs(5), "closed after {:?}", started.elapsed());
}

#[test]
fn web_in_a_script_serves_and_says_where_or_why_not() {
    let out = crate::harness::run("web --listen 0.0.0.0:0\n");
    out.assert_ok();
    assert!(out.stdout.contains("ok: serving the live picture at http://0.0.0.0:"), "{}", out.stdout);
    assert!(out.stdout.contains("warning: the page listens on 0.0.0.0:"), "{}", out.stdout);
    let json = crate::harness::run_with(&["--json"], "web\n", Duration::from_secs(60));
    json.assert_ok();
    let said: Value = serde_json::from_str(json.stdout.lines().next().unwrap()).unwrap();
    assert!(said["done"][0].as_str().unwrap().starts_with("serving the live picture at http://127.0.0.1:"), "{said}");
    // A port in use is an error that stops the script, not a silent "ok".
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let busy = crate::harness::run(&format!("web --listen 127.0.0.1:{port}\ntopics\n"));
    assert_eq!(busy.code, 2, "{}", busy.stdout);
    assert!(busy.stderr.contains("the port is in use"), "{}", busy.stderr);
}
