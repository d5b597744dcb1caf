//! How long to wait before trying again, on Phoenix's own schedules (so a Portico tab
//! behaves like any Phoenix client when the server restarts).

use std::time::Duration;

/// Before reconnecting the socket, by attempt (1, 2, …): quick at first, then every 5 s.
pub fn reconnect_after(attempt: u32) -> Duration {
    const STEPS: [u64; 9] = [10, 50, 100, 150, 200, 250, 500, 1000, 2000];
    let millis = STEPS
        .get(attempt.saturating_sub(1) as usize)
        .copied()
        .unwrap_or(5000);
    Duration::from_millis(millis)
}

/// Before joining a topic again after a refused or failed join, by attempt.
pub fn rejoin_after(attempt: u32) -> Duration {
    const STEPS: [u64; 3] = [1000, 2000, 5000];
    let millis = STEPS
        .get(attempt.saturating_sub(1) as usize)
        .copied()
        .unwrap_or(10_000);
    Duration::from_millis(millis)
}

/// After this many failed attempts in a row (about 4 s of trying), the tab says it is
/// offline rather than reconnecting.
pub const OFFLINE_AFTER: u32 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedules_are_phoenix_s() {
        let reconnect: Vec<u64> = (1..=11)
            .map(|a| reconnect_after(a).as_millis() as u64)
            .collect();
        assert_eq!(
            reconnect,
            [10, 50, 100, 150, 200, 250, 500, 1000, 2000, 5000, 5000]
        );
        let rejoin: Vec<u64> = (1..=5)
            .map(|a| rejoin_after(a).as_millis() as u64)
            .collect();
        assert_eq!(rejoin, [1000, 2000, 5000, 10_000, 10_000]);
    }
}
