//! The server's resident memory, to estimate what one idle connection costs it.

use crate::error::{Context, Error, Result};

/// VmRSS of process `pid` in KiB, from /proc/PID/status.
pub fn rss_kb(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {path} (is --server-pid the server's pid?)"))?;
    parse_vm_rss(&status).ok_or_else(|| Error::new(format!("{path} has no VmRSS line")))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_vm_rss() {
        let status = "Name:\tportico\nVmHWM:\t   20000 kB\nVmRSS:\t   13104 kB\nThreads:\t3\n";
        assert_eq!(super::parse_vm_rss(status), Some(13104));
        assert_eq!(super::parse_vm_rss("Name:\tx\n"), None);
    }
}
