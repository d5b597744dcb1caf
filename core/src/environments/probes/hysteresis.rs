//! Hysteresis: a status changes only after several checks in a row agree, so a single
//! blip does not flap the dashboard.

use super::super::HealthStatus;

/// How many checks in a row it takes to change a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Failed checks in a row before `down`.
    pub failures: u32,
    /// Good (or slow) checks in a row before `healthy` (or `degraded`).
    pub successes: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            failures: 3,
            successes: 2,
        }
    }
}

/// The status of one probe and the run of agreeing checks that may change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracker {
    status: HealthStatus,
    /// What the latest checks saw, and how many in a row saw it.
    run: Option<(HealthStatus, u32)>,
}

impl Tracker {
    /// Starts from a stored status (`Unknown` for a new probe).
    pub fn new(status: HealthStatus) -> Self {
        Self { status, run: None }
    }

    pub fn status(&self) -> HealthStatus {
        self.status
    }

    /// Takes one check's outcome (healthy, degraded or down) and returns the status
    /// after it. A probe with no status yet takes the first outcome at once: there is
    /// nothing shown that could flap.
    pub fn observe(&mut self, outcome: HealthStatus, thresholds: Thresholds) -> HealthStatus {
        let run = match self.run {
            Some((seen, count)) if seen == outcome => count.saturating_add(1),
            _ => 1,
        };
        self.run = Some((outcome, run));
        let needed = match outcome {
            HealthStatus::Down => thresholds.failures,
            HealthStatus::Unknown => u32::MAX,
            HealthStatus::Healthy | HealthStatus::Degraded => thresholds.successes,
        };
        if outcome != HealthStatus::Unknown
            && (self.status == HealthStatus::Unknown || run >= needed.max(1))
        {
            self.status = outcome;
        }
        self.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HealthStatus::*;

    fn run(start: HealthStatus, outcomes: &[HealthStatus]) -> Vec<HealthStatus> {
        let mut tracker = Tracker::new(start);
        outcomes
            .iter()
            .map(|o| tracker.observe(*o, Thresholds::default()))
            .collect()
    }

    #[test]
    fn a_new_probe_takes_its_first_outcome() {
        assert_eq!(run(Unknown, &[Down]), vec![Down]);
        assert_eq!(run(Unknown, &[Healthy, Down]), vec![Healthy, Healthy]);
    }

    #[test]
    fn it_takes_three_failures_to_go_down_and_two_successes_to_come_back() {
        assert_eq!(
            run(Healthy, &[Down, Down, Down, Healthy, Healthy]),
            vec![Healthy, Healthy, Down, Down, Healthy]
        );
    }

    #[test]
    fn a_blip_does_not_flap() {
        assert_eq!(
            run(Healthy, &[Down, Healthy, Down, Down, Healthy, Down]),
            vec![Healthy; 6]
        );
        assert_eq!(run(Down, &[Healthy, Down, Healthy]), vec![Down; 3]);
    }

    #[test]
    fn slow_answers_degrade_after_the_success_threshold() {
        assert_eq!(
            run(Healthy, &[Degraded, Degraded, Healthy, Healthy]),
            vec![Healthy, Degraded, Degraded, Healthy]
        );
        assert_eq!(run(Down, &[Degraded, Degraded]), vec![Down, Degraded]);
    }

    #[test]
    fn thresholds_of_one_follow_every_check() {
        let mut tracker = Tracker::new(Healthy);
        let every = Thresholds {
            failures: 1,
            successes: 1,
        };
        assert_eq!(tracker.observe(Down, every), Down);
        assert_eq!(tracker.observe(Healthy, every), Healthy);
    }
}
