//! The fish-and-chip shop of the "Fish and Chips and Apache Kafka" talk, as data: an order, the
//! shop's pace, the hot cabinet, and the shop's log of what each participant did. The live
//! participants (tills, preparers, cooks, the analyst) are in `actors::shop`; the commands that
//! start them and the checks on them are in `session::shop`.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// One order, exactly as the talk's tills send it; the preparer adds `ready`.
/// `{"order": 271, "till": 3, "parts": [["cod", "chips"], ["plaice", "chips"]]}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order: u64,
    pub till: u32,
    pub parts: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
}

/// What a till can put in an order's part.
const PARTS: [[&str; 2]; 2] = [["cod", "chips"], ["chips", "chips"]];
const PLAICE_PART: [&str; 2] = ["plaice", "chips"];

impl Order {
    /// A customer's order at `till`: one to four parts, with plaice only if the shop sells it.
    pub fn random(number: u64, till: u32, plaice: bool, rng: &mut impl Rng) -> Order {
        let count = rng.random_range(1..=4);
        let parts = (0..count)
            .map(|_| {
                let part = if plaice && rng.random_bool(0.25) { PLAICE_PART } else { PARTS[rng.random_range(0..PARTS.len())] };
                part.iter().map(|item| (*item).to_string()).collect()
            })
            .collect();
        Order { order: number, till, parts, ready: None }
    }

    pub fn parse(value: &str) -> Option<Order> {
        serde_json::from_str(value).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn has_plaice(&self) -> bool {
        self.items().any(|item| item == "plaice")
    }

    pub fn items(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().flatten().map(String::as_str)
    }

    /// How many of each item the order needs: `{"chips": 3, "cod": 1}`.
    pub fn needs(&self) -> BTreeMap<String, u32> {
        let mut needs = BTreeMap::new();
        for item in self.items() {
            *needs.entry(item.to_string()).or_insert(0) += 1;
        }
        needs
    }

    /// `cod & chips, plaice & chips`
    pub fn describe(&self) -> String {
        self.parts.iter().map(|part| part.join(" & ")).collect::<Vec<_>>().join(", ")
    }
}

/// How fast the shop works. The talk's timings at `speedup` 1; a replay at `--speed max` runs
/// the shop's clock faster so CI can check every demo in seconds (the behaviour is the same).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub speedup: f64,
}

impl Default for Pace {
    fn default() -> Self {
        Pace { speedup: 1.0 }
    }
}

impl Pace {
    /// A new order at each till every 1.0–1.5 s.
    pub const ORDER_GAP: Range<f64> = 1.0..1.5;
    /// Preparing an order takes 0.5–1.0 s.
    pub const PREPARING: Range<f64> = 0.5..1.0;
    /// Cooking plaice takes 3.0–3.2 s.
    pub const COOKING: Range<f64> = 3.0..3.2;

    pub fn draw(&self, range: Range<f64>, rng: &mut impl Rng) -> Duration {
        Duration::from_secs_f64(rng.random_range(range) / self.speedup.max(0.001))
    }
}

/// A participant's random numbers: from a seed and its name (so two tills with one seed still
/// differ, and a run with a seed is the same every time), or from the system.
pub fn participant_rng(seed: Option<u64>, who: &str) -> StdRng {
    match seed {
        // FNV-1a of the name, mixed into the seed.
        Some(seed) => StdRng::seed_from_u64(
            who.bytes().fold(seed ^ 0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)),
        ),
        None => StdRng::from_rng(&mut rand::rng()),
    }
}

/// The customers at one till: how long until the next one, and what they order.
pub struct Customers {
    till: u32,
    plaice: bool,
    rng: StdRng,
}

impl Customers {
    /// The customers of till `till` (named `till-N`) for a shop with this seed.
    pub fn new(seed: Option<u64>, till: u32, plaice: bool) -> Self {
        Customers { till, plaice, rng: participant_rng(seed, &format!("till-{till}")) }
    }

    /// The wait for the next customer at this pace, and the order they place, numbered `number`.
    pub fn next(&mut self, pace: &Pace, number: u64) -> (Duration, Order) {
        let gap = pace.draw(Pace::ORDER_GAP, &mut self.rng);
        (gap, Order::random(number, self.till, self.plaice, &mut self.rng))
    }
}

/// How a till picks the partition for its orders (the talk shows all three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PartitionBy {
    /// Till N always sends to partition N-1
    Till,
    /// The till's number is the message key, so the default partitioner hashes it
    Key,
    /// No key and no partition: the client spreads the orders
    None,
}

/// The hot cabinet of the homework: cooked portions waiting to be served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cabinet {
    pub stock: BTreeMap<String, u32>,
    /// Portions the cooks have put in, per item, since the shop opened.
    pub cooked: BTreeMap<String, u32>,
    /// Portions the preparers have taken out, per item.
    pub taken: BTreeMap<String, u32>,
    /// A cabinet in Redis: its stock as last read there (the counts above stay empty).
    pub remote: Option<String>,
}

/// Cod and chips are cooked in batches this much bigger than what the order lacks.
pub const BATCH_EXTRA: u32 = 4;

impl Cabinet {
    /// Take everything `order` needs if all of it is there; otherwise take nothing.
    pub fn take(&mut self, order: &Order) -> bool {
        let needs = order.needs();
        if needs.iter().any(|(item, n)| self.stock.get(item).copied().unwrap_or(0) < *n) {
            return false;
        }
        for (item, n) in needs {
            *self.stock.entry(item.clone()).or_insert(0) -= n;
            *self.taken.entry(item).or_insert(0) += n;
        }
        true
    }

    /// Stock the cabinet so `order` can be made up: plaice exactly as needed, cod and chips in a
    /// batch with some over. Returns what was cooked.
    pub fn stock_for(&mut self, order: &Order) -> BTreeMap<String, u32> {
        let mut cooked = BTreeMap::new();
        for (item, n) in order.needs() {
            let have = self.stock.get(&item).copied().unwrap_or(0);
            if have >= n {
                continue;
            }
            let make = if item == "plaice" { n - have } else { n - have + BATCH_EXTRA };
            *self.stock.entry(item.clone()).or_insert(0) += make;
            *self.cooked.entry(item.clone()).or_insert(0) += make;
            cooked.insert(item, make);
        }
        cooked
    }

    /// `chips 3 · cod 1 · plaice 0`
    pub fn describe(&self) -> String {
        if let Some(remote) = &self.remote {
            return format!("{remote} (in Redis)");
        }
        let items = ["cod", "chips", "plaice"];
        items.iter().map(|i| format!("{i} {}", self.stock.get(*i).copied().unwrap_or(0))).collect::<Vec<_>>().join(" · ")
    }
}

/// Where one message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub order: u64,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// An order as a preparer served it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub by: String,
    pub from: Placed,
    pub ready: Option<bool>,
}

/// The kinds of participant, in the order the board shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Till,
    Preparer,
    Cook,
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Till => "TILL",
            Role::Preparer => "PREPARER",
            Role::Cook => "COOK",
            Role::Analyst => "ANALYST",
        }
    }
}

/// How many recent lines each panel keeps.
pub const PANEL_LINES: usize = 10;

/// One participant's panel on the board: what it did lately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    pub role: Role,
    pub name: String,
    pub done: u64,
    pub running: bool,
    pub lines: VecDeque<String>,
}

/// What the `shop` command shows: every participant's panel, and the hot cabinet if in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    pub panels: Vec<Panel>,
    pub cabinet: Option<String>,
}

/// Everything the shop's participants did, shared by them and read by the board and the checks.
#[derive(Debug, Default)]
pub struct ShopLog {
    next_order: u64,
    /// Orders as the tills sent them (delivered, with their place in the topic).
    pub sent: Vec<(Order, Placed)>,
    /// Orders as the preparers served them.
    pub served: Vec<Served>,
    /// Orders a preparer sent to a cook, where they landed.
    pub to_cook: Vec<Placed>,
    /// Orders a cook sent back ready, where they landed.
    pub cooked: Vec<Placed>,
    pub cabinet: Cabinet,
    panels: BTreeMap<(Role, String), Panel>,
}

impl ShopLog {
    /// Order numbers are unique across the session's tills.
    pub fn next_order(&mut self) -> u64 {
        self.next_order += 1;
        self.next_order
    }

    pub fn open_panel(&mut self, role: Role, name: &str) {
        let panel = self
            .panels
            .entry((role, name.to_string()))
            .or_insert_with(|| Panel { role, name: name.to_string(), done: 0, running: true, lines: VecDeque::new() });
        panel.running = true;
    }

    pub fn close_panel(&mut self, role: Role, name: &str) {
        if let Some(panel) = self.panels.get_mut(&(role, name.to_string())) {
            panel.running = false;
        }
    }

    /// Add a line to a participant's panel; `counts` marks it as one more thing done.
    pub fn note(&mut self, role: Role, name: &str, line: &str, counts: bool) {
        if let Some(panel) = self.panels.get_mut(&(role, name.to_string())) {
            panel.lines.push_back(line.to_string());
            while panel.lines.len() > PANEL_LINES {
                panel.lines.pop_front();
            }
            if counts {
                panel.done += 1;
            }
        }
    }

    pub fn panels(&self) -> Vec<Panel> {
        self.panels.values().cloned().collect()
    }

    pub fn has_role(&self, role: Role, name: &str) -> bool {
        self.panels.contains_key(&(role, name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn an_order_is_the_talks_json() {
        let order = Order {
            order: 271,
            till: 3,
            parts: vec![vec!["cod".into(), "chips".into()], vec!["plaice".into(), "chips".into()]],
            ready: None,
        };
        assert_eq!(order.to_json(), r#"{"order":271,"till":3,"parts":[["cod","chips"],["plaice","chips"]]}"#);
        let ready = Order { ready: Some(false), ..order.clone() };
        assert!(ready.to_json().ends_with(r#","ready":false}"#));
        assert_eq!(Order::parse(&ready.to_json()), Some(ready));
        assert!(order.has_plaice());
        assert_eq!(order.describe(), "cod & chips, plaice & chips");
        assert_eq!(order.needs().get("chips"), Some(&2));
        assert_eq!(Order::parse("not an order"), None);
    }

    #[test]
    fn tills_sell_plaice_only_when_asked() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for n in 0..200 {
            let order = Order::random(n, 1, false, &mut rng);
            assert!((1..=4).contains(&order.parts.len()));
            assert!(!order.has_plaice());
        }
        assert!((0..200).any(|n| Order::random(n, 1, true, &mut rng).has_plaice()));
    }

    #[test]
    fn a_seed_makes_the_customers_the_same_every_time() {
        let pace = Pace::default();
        let orders = |seed| {
            let mut customers = Customers::new(Some(seed), 1, true);
            (1..=5).map(|n| customers.next(&pace, n).1).collect::<Vec<_>>()
        };
        assert_eq!(orders(7), orders(7));
        assert_ne!(orders(7), orders(8));
        let mut other_till = Customers::new(Some(7), 2, true);
        assert_ne!(other_till.next(&pace, 1).1.parts, orders(7)[0].parts, "two tills with one seed differ");
    }

    #[test]
    fn pace_draws_within_the_talks_ranges() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let pace = Pace::default();
        for _ in 0..100 {
            let gap = pace.draw(Pace::COOKING, &mut rng).as_secs_f64();
            assert!((3.0..3.2).contains(&gap), "{gap}");
        }
        let fast = Pace { speedup: 10.0 };
        assert!(fast.draw(Pace::ORDER_GAP, &mut rng) < Duration::from_millis(150));
    }

    #[test]
    fn the_cabinet_serves_only_whole_orders_and_the_cook_restocks_it() {
        let order = Order { order: 1, till: 1, parts: vec![vec!["plaice".into(), "chips".into()]], ready: None };
        let mut cabinet = Cabinet::default();
        assert!(!cabinet.take(&order), "an empty cabinet serves nothing");
        let cooked = cabinet.stock_for(&order);
        assert_eq!(cooked.get("plaice"), Some(&1));
        assert_eq!(cooked.get("chips"), Some(&(1 + BATCH_EXTRA)));
        assert!(cabinet.take(&order));
        assert_eq!(cabinet.describe(), format!("cod 0 · chips {BATCH_EXTRA} · plaice 0"));
        assert!(!cabinet.take(&order), "no plaice left");
        assert_eq!(cabinet.stock.get("chips"), Some(&BATCH_EXTRA), "a failed take changes nothing");
    }

    #[test]
    fn panels_keep_recent_lines_and_count_work() {
        let mut log = ShopLog::default();
        log.open_panel(Role::Preparer, "alice");
        log.open_panel(Role::Till, "till 1");
        for n in 0..15 {
            log.note(Role::Preparer, "alice", &format!("served {n}"), true);
        }
        let panels = log.panels();
        assert_eq!(panels[0].role, Role::Till, "tills come first");
        assert_eq!(panels[1].lines.len(), PANEL_LINES);
        assert_eq!(panels[1].lines.back().map(String::as_str), Some("served 14"));
        assert_eq!(panels[1].done, 15);
        assert_eq!((log.next_order(), log.next_order()), (1, 2));
    }
}
