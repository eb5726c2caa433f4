//! Wall time, CPU time and peak memory of spawned processes and of this
//! one, and how the benchmark prints them.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub wall: Duration,
    /// User plus system time, all threads.
    pub cpu: Duration,
    /// Peak resident set, KiB.
    pub maxrss: u64,
}

/// A finished process: its cost and what it printed.
#[derive(Debug)]
pub struct Run {
    pub usage: Usage,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

fn cpu_of(usage: &libc::rusage) -> Duration {
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Runs `command` to the end. The child is reaped with `wait4`, which
/// reports that child's own CPU time and peak memory (`RUSAGE_CHILDREN`
/// would fold in every earlier child, and its maxrss never goes down).
pub fn run(command: &mut Command) -> std::io::Result<Run> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Drained on threads so a chatty child never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let pid = libc::pid_t::try_from(child.id()).map_err(std::io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of that plain C struct.
    #[allow(unsafe_code)]
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our unreaped child; both pointers are to live locals.
    #[allow(unsafe_code)]
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    if reaped != pid {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Run {
        usage: Usage {
            wall,
            cpu: cpu_of(&usage),
            maxrss: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        },
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// CPU time and peak memory of this process so far.
pub fn this_process() -> (Duration, u64) {
    // SAFETY: as in `run`.
    #[allow(unsafe_code)]
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a pointer to a live local.
    #[allow(unsafe_code)]
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
    }
    (cpu_of(&usage), u64::try_from(usage.ru_maxrss).unwrap_or(0))
}

/// Times a piece of this process: wall and CPU (all threads).
pub fn timed<T>(work: impl FnOnce() -> T) -> (T, Usage) {
    let (cpu_before, _) = this_process();
    let started = Instant::now();
    let out = work();
    let wall = started.elapsed();
    let (cpu_after, maxrss) = this_process();
    (
        out,
        Usage {
            wall,
            cpu: cpu_after.saturating_sub(cpu_before),
            maxrss,
        },
    )
}

/// The run with the median wall time, and the fastest wall time.
pub fn median(mut runs: Vec<Usage>) -> (Usage, Duration) {
    runs.sort_by_key(|u| u.wall);
    let fastest = runs.first().map(|u| u.wall).unwrap_or_default();
    (
        runs.get(runs.len() / 2).copied().unwrap_or_default(),
        fastest,
    )
}

pub fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 {
        format!("{s:.1} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

pub fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

/// One line of the figures table. `cores` is CPU over wall: below the
/// threads a run has, it waited (for the CPU, on a busy machine, or on I/O).
pub fn row(label: &str, usage: &Usage, note: &str) {
    println!(
        "  {label:<52} {:>9} {:>9} {:>5.2} {:>8}  {note}",
        duration(usage.wall),
        duration(usage.cpu),
        usage.cpu.as_secs_f64() / usage.wall.as_secs_f64().max(1e-9),
        mib(usage.maxrss),
    );
}

pub fn header() {
    println!(
        "  {:<52} {:>9} {:>9} {:>5} {:>8}",
        "", "wall", "cpu u+s", "cores", "maxrss"
    );
}
