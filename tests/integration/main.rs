//! Every integration test in one crate, so the large library links once. Each test gets its own
//! embedded broker (a session in this process, or the binary with its own), and its own temporary
//! folders, so the tests run in parallel.

mod apache;
mod architecture;
mod bad_input;
mod deleted;
mod faults;
mod fuzz;
mod groups;
mod harness;
mod kafka;
mod terminal;
mod learners;
mod liveness;
mod judge;
mod lessons;
mod picture;
mod rebalance;
mod room;
mod schemas;
mod scripts;
mod security;
mod servers;
mod shop;
mod tls;
mod topics;
mod tutor;
mod web;
