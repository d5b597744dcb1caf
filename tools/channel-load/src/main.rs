//! `channel-load`: many Phoenix-Channels v2 websocket clients on one Portico topic, and
//! how fast catalog events reach all of them. See tools/channel-bench.py for a harness.

mod args;
mod entity_file;
mod error;
mod fleet;
mod frame;
mod limits;
mod measure;
mod memory;
mod refresh;
mod report;
mod socket;
mod stats;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use crate::args::Args;
use crate::error::{Context, Result};
use crate::report::{FanOut, Report};
use crate::socket::Malformed;
use crate::stats::Spread;

/// Pause after the last join before reading the server's RSS, so allocations settle.
const SETTLE: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let args = Args::parse();
    // One thread: the client shares the machine with the server it measures, and one
    // thread is plenty for sockets that mostly wait.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .with_context(|| "starting the async runtime".to_owned());
    let outcome = runtime.and_then(|rt| rt.block_on(run(&args)));
    match outcome {
        Ok(report) => {
            if args.json {
                match serde_json::to_string(&report) {
                    Ok(json) => println!("{json}"),
                    Err(e) => {
                        eprintln!("channel-load: encoding the report: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                print!("{}", report.text());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("channel-load: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<Report> {
    limits::check_open_files(args.sockets)?;
    let urls = args.socket_urls()?;
    let refresher = refresh::Refresher::new(args.refresh_url(), &args.token, &args.entity_ref)?;
    let rss_before = args.server_pid.map(memory::rss_kb).transpose()?;

    let (notes, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let malformed = Arc::new(Malformed::default());
    let topic: Arc<str> = Arc::from(args.topic.as_str());
    let fleet = fleet::start(
        &urls,
        args.sockets,
        args.connect_concurrency,
        topic,
        &notes,
        &mut inbox,
        &malformed,
    )
    .await?;
    let joined = fleet.live();

    let rss_after = match args.server_pid {
        Some(pid) => {
            tokio::time::sleep(SETTLE).await;
            Some(memory::rss_kb(pid)?)
        }
        None => None,
    };

    let mut d = measure::publish(
        args.events,
        &args.entity_file,
        &refresher,
        &fleet,
        &mut inbox,
    )
    .await?;
    let deliveries = d.latencies_us.len() as u64;
    let publish_seconds = d.elapsed.as_secs_f64();
    Ok(Report {
        sockets_requested: args.sockets,
        sockets_connected: fleet.connected,
        sockets_joined: joined,
        connect_error: fleet.connect_error.clone(),
        connect_seconds: fleet.connect_time.as_secs_f64(),
        join_seconds: fleet.join_time.as_secs_f64(),
        server_rss_before_kb: rss_before,
        server_rss_after_kb: rss_after,
        memory_per_connection_kb: rss_before
            .zip(rss_after)
            .map(|(b, a)| (a as f64 - b as f64) / f64::from(joined)),
        events: args.events,
        deliveries,
        lost_deliveries: d.lost,
        sockets_closed_during_run: d.closed,
        latency_ms: Spread::of(&mut d.latencies_us),
        fanout_completion_ms: FanOut::of(&mut d.fanout_us),
        publish_seconds,
        deliveries_per_second: if publish_seconds > 0.0 {
            deliveries as f64 / publish_seconds
        } else {
            0.0
        },
        malformed_frames: malformed.count.load(Ordering::Relaxed),
        first_malformed_frame: malformed.first.get().cloned(),
    })
}
