//! The open-file limit: every socket is a descriptor, and running out half-way through
//! connecting would be reported as a confusing connect error.

use crate::error::{Error, Result};

/// Descriptors beyond the sockets: the runtime, the HTTP client, stdio, files.
const SPARE: u64 = 100;

/// Fails with a clear message when `sockets` connections cannot fit under the soft
/// `RLIMIT_NOFILE` (read from /proc, so no libc binding is needed; elsewhere: no check).
pub fn check_open_files(sockets: u32) -> Result<()> {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return Ok(());
    };
    let Some((soft, hard)) = parse_open_files(&limits) else {
        return Ok(());
    };
    let needed = u64::from(sockets) + SPARE;
    match soft {
        Some(soft) if soft < needed => Err(Error::new(format!(
            "{sockets} sockets need about {needed} file descriptors but the soft limit is {soft} \
             (hard limit {}): raise it with `ulimit -n {needed}` before running",
            hard.map_or("unlimited".to_owned(), |h| h.to_string())
        ))),
        _ => Ok(()),
    }
}

/// `Max open files  <soft>  <hard>  files` → (soft, hard); `None` means unlimited.
fn parse_open_files(limits: &str) -> Option<(Option<u64>, Option<u64>)> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut fields = line["Max open files".len()..].split_whitespace();
    let value = |f: &str| {
        if f == "unlimited" {
            Some(None)
        } else {
            f.parse().ok().map(Some)
        }
    };
    Some((value(fields.next()?)?, value(fields.next()?)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_open_files_line() {
        let text = "Max cpu time              unlimited            unlimited            seconds\n\
                    Max open files            20000                20000                files\n";
        assert_eq!(parse_open_files(text), Some((Some(20000), Some(20000))));
        let text = "Max open files            1024                 unlimited            files\n";
        assert_eq!(parse_open_files(text), Some((Some(1024), None)));
    }
}
