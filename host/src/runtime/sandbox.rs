//! What a plugin sees: the per-call store state.
//!
//! Every call gets a fresh store whose WASI context grants nothing: no
//! preopened folders, no environment, no arguments, no sockets, no name
//! lookups, stdin closed, stdout discarded. The clocks are stopped at the
//! Unix epoch and the random generators are seeded with constants, so a
//! plugin cannot make its output depend on when or where it runs. Stderr is
//! kept (bounded) only to explain a crash. Memory growth is capped by
//! [`Limiter`], which remembers a refusal so the error can say so.

use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::fs::RepoFs;
use super::host::Host;

/// Bytes of a plugin's stderr kept for error messages.
pub const STDERR_CAPACITY: usize = 64 * 1024;

/// Store data of one call.
pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub limiter: Limiter,
    pub stderr: MemoryOutputPipe,
    /// Host services: the repository (renderers only), logs, composition.
    pub host: Host,
}

impl State {
    pub fn new(max_memory: usize, fs: Option<RepoFs>, host: Host) -> State {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .wall_clock(StoppedClock)
            .monotonic_clock(StoppedClock)
            .secure_random(StdRng::seed_from_u64(0x6d61_6e69_666f_6c64))
            .insecure_random(StdRng::seed_from_u64(0x6d61_6e69_666f_6c64))
            .insecure_random_seed(0x6d61_6e69_666f_6c64)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let mut host = host;
        host.fs = fs;
        State {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter::new(max_memory),
            stderr,
            host,
        }
    }

    /// The tail of what the plugin wrote to stderr, for an error message.
    pub fn stderr_tail(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines.len().saturating_sub(8);
        Some(lines.get(tail..).unwrap_or_default().join("\n"))
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A clock that always reads zero.
struct StoppedClock;

impl HostWallClock for StoppedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for StoppedClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// Caps linear memory and table growth of one store.
pub struct Limiter {
    max_memory: usize,
    /// Set when a growth was refused: the guest usually aborts right after,
    /// and the error should say why.
    pub memory_refused: bool,
}

/// Tables hold function references; no honest plugin needs more.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl Limiter {
    fn new(max_memory: usize) -> Limiter {
        Limiter {
            max_memory,
            memory_refused: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max_memory;
        if !allowed {
            self.memory_refused = true;
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
