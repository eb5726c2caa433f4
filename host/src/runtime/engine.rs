//! The wasmtime engine configuration, in one place for two users.
//!
//! The runtime builds its engine from [`config`], and `host/build.rs`
//! includes this file (`#[path]`) to precompile the built-in plugins with the
//! same settings: code compiled under a different configuration would be
//! refused when the binary loads it. Hence no crate-internal dependencies
//! here, only plain values.

use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Linear memory of one instance unless `--memory` says otherwise.
pub const DEFAULT_MEMORY: usize = 512 << 20;

/// The pool never holds fewer instances than this, however few threads run.
pub const MIN_POOLED_INSTANCES: u32 = 16;

/// Bytes of each pooled memory and table kept resident between calls.
const KEEP_RESIDENT: usize = 16 << 20;

/// The engine configuration. `pooled_instances` sizes the pooling allocator
/// (`None`: allocate per instance); `memory` bounds each pooled memory slot;
/// `perf_map` writes perf's map file for the compiled code.
///
/// Neither the allocation strategy nor `memory` changes compiled code, so
/// the build script's precompiled plugins load whatever the user passes
/// for `--memory` or however many threads size the pool: wasmtime 48 says
/// so (`PoolingAllocationConfig`: "usage of the pooling allocator does not
/// affect compiled WebAssembly code"), `Config::validate` derives the
/// `Tunables` without looking at the allocation strategy, and an artifact
/// is checked against the target, the Cranelift flags, the `Tunables` and
/// the Wasm features (`engine/serialization.rs`, `check_compatible`). The
/// profiler is not among them either.
pub fn config(memory: usize, pooled_instances: Option<u32>, perf_map: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    // `perf report` can then name the plugins' functions (from their Wasm
    // name sections) instead of anonymous JIT addresses.
    if perf_map {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if let Some(instances) = pooled_instances {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(instances)
            .total_core_instances(instances * 4)
            .total_memories(instances * 2)
            .total_tables(instances * 4)
            .total_stacks(instances)
            .max_core_instances_per_component(16)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_memory_size(memory)
            // The pages a call wrote, up to KEEP_RESIDENT bytes of them, are
            // reset in place when its slot is freed instead of being handed
            // back to the kernel: the next call that uses the slot then takes
            // no page faults on them. Linux's PAGEMAP_SCAN (6.7 and later)
            // finds those pages. Without it (older kernels, other systems)
            // wasmtime resets the slot's first KEEP_RESIDENT bytes whether
            // written or not: the plugin's whole data image copied back,
            // about 40 µs per MiB, more than half of an empty policy call.
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT)
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}
