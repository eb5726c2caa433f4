#!/usr/bin/env python3
"""Run the bench example as a wasm32-wasip2 component, as the plugin will run.

    pip install wasmtime
    cargo build --release --target wasm32-wasip2 -p manifold-plugin-schema --example schema_bench
    python3 plugins/schema/examples/wasm_bench.py $CARGO_TARGET_DIR/wasm32-wasip2/release/examples/schema_bench.wasm 5000
"""
import sys, time, wasmtime
from wasmtime import component as c
t0 = time.time()
config = wasmtime.Config()
engine = wasmtime.Engine(config)
comp = c.Component.from_file(engine, sys.argv[1])
print(f"[compile component: {time.time()-t0:.2f}s]", file=sys.stderr)
linker = c.Linker(engine)
linker.add_wasip2()
store = wasmtime.Store(engine)
wasi = wasmtime.WasiConfig(); wasi.inherit_stdout(); wasi.inherit_stderr(); wasi.argv = [sys.argv[1]] + sys.argv[2:]
store.set_wasi(wasi)
inst = linker.instantiate(store, comp)
for name in ["wasi:cli/run@0.2.6", "wasi:cli/run@0.2.4", "wasi:cli/run@0.2.3", "wasi:cli/run@0.2.0"]:
    idx = inst.get_export_index(store, name)
    if idx is not None:
        break
run = inst.get_func(store, inst.get_export_index(store, "run", idx))
run(store)
