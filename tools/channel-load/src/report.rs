//! The figures, as text for people or as one JSON object for scripts.

use std::fmt::Write;

use serde::Serialize;

use crate::stats::{percentile, Spread};

#[derive(Debug, Serialize)]
pub struct Report {
    pub sockets_requested: u32,
    pub sockets_connected: u32,
    pub sockets_joined: u32,
    /// The first handshake error, when some sockets could not connect.
    pub connect_error: Option<String>,
    pub connect_seconds: f64,
    /// From the first handshake until every join was answered.
    pub join_seconds: f64,
    pub server_rss_before_kb: Option<u64>,
    pub server_rss_after_kb: Option<u64>,
    /// (after − before) / joined sockets, 2 s after the last join.
    pub memory_per_connection_kb: Option<f64>,
    pub events: u32,
    pub deliveries: u64,
    pub lost_deliveries: u64,
    pub sockets_closed_during_run: u32,
    pub latency_ms: Option<Spread>,
    /// Per event: when its last socket had it.
    pub fanout_completion_ms: Option<FanOut>,
    pub publish_seconds: f64,
    pub deliveries_per_second: f64,
    pub malformed_frames: u64,
    pub first_malformed_frame: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct FanOut {
    pub p50: f64,
    pub p99: f64,
}

impl FanOut {
    /// Sorts `micros` in place; `None` when no event reached any socket.
    pub fn of(micros: &mut [u64]) -> Option<FanOut> {
        micros.sort_unstable();
        let ms = |p| percentile(micros, p).map(|us| us as f64 / 1000.0);
        Some(FanOut {
            p50: ms(50.0)?,
            p99: ms(99.0)?,
        })
    }
}

impl Report {
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "sockets            {} connected, {} joined of {} (connected in {:.2} s, all joined after {:.2} s)",
            self.sockets_connected,
            self.sockets_joined,
            self.sockets_requested,
            self.connect_seconds,
            self.join_seconds
        );
        if let Some(error) = &self.connect_error {
            let _ = writeln!(out, "connect error      {error}");
        }
        if let (Some(per), Some(before), Some(after)) = (
            self.memory_per_connection_kb,
            self.server_rss_before_kb,
            self.server_rss_after_kb,
        ) {
            let _ = writeln!(
                out,
                "server memory      {per:.1} KB per idle connection (RSS {before} KB -> {after} KB)"
            );
        }
        let _ = writeln!(
            out,
            "deliveries         {} over {} events, {} lost, {} sockets closed during the run",
            self.deliveries, self.events, self.lost_deliveries, self.sockets_closed_during_run
        );
        if let Some(l) = self.latency_ms {
            let _ = writeln!(
                out,
                "latency            p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                l.p50, l.p90, l.p99, l.max
            );
        }
        if let Some(f) = self.fanout_completion_ms {
            let _ = writeln!(
                out,
                "fan-out complete   p50 {:.2} ms, p99 {:.2} ms (last socket, per event)",
                f.p50, f.p99
            );
        }
        let _ = writeln!(
            out,
            "throughput         {:.0} deliveries/s ({:.2} s publishing)",
            self.deliveries_per_second, self.publish_seconds
        );
        if self.malformed_frames > 0 {
            let _ = writeln!(
                out,
                "malformed frames   {}, first: {}",
                self.malformed_frames,
                self.first_malformed_frame.as_deref().unwrap_or("")
            );
        }
        out
    }
}
