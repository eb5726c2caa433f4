//! The clock that bounds every plugin call.
//!
//! Calls are interrupted by wasmtime's epoch mechanism: a background thread
//! advances the engine's epoch every [`TICK`], and each store traps once its
//! deadline (a number of ticks) has passed. The thread holds only a weak
//! reference, so it ends with the engine.

use std::thread;
use std::time::Duration;

use wasmtime::Engine;

/// Granularity of call deadlines.
pub const TICK: Duration = Duration::from_millis(10);

/// Starts the ticker for `engine`. Without it deadlines would never fire, so
/// failing to start it is an error.
pub fn start(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    thread::Builder::new()
        .name("manifold-epoch".into())
        .spawn(move || {
            loop {
                thread::sleep(TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })?;
    Ok(())
}

/// The number of ticks that make up `timeout`, at least one.
pub fn ticks(timeout: Duration) -> u64 {
    let ticks = timeout.as_millis() / TICK.as_millis();
    u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
}
