//! The tools manifold stands in for, on the same corpus: `kubectl
//! kustomize` over the overlays, and `kubeconform -strict` over the
//! hydrated tree when the machine has it.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::measure::{self, Usage};

/// Whether `program args` runs and succeeds.
pub fn available(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `sample` overlays spread evenly over `overlays` (all of them when
/// `sample` is at least their number).
pub fn sample(overlays: &[String], sample: usize) -> Vec<String> {
    if sample >= overlays.len() {
        return overlays.to_vec();
    }
    (0..sample)
        .filter_map(|i| overlays.get(i * overlays.len() / sample).cloned())
        .collect()
}

/// Builds every overlay with `kubectl kustomize`, `workers` at a time.
/// The usage is the whole batch: wall from first start to last exit, CPU
/// summed over the processes, maxrss of the largest.
pub fn kustomize(root: &Path, overlays: &[String], workers: usize) -> (Usage, usize) {
    let next = AtomicUsize::new(0);
    let total = Mutex::new((Usage::default(), 0usize));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(overlay) = overlays.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let run = measure::run(
                        Command::new("kubectl")
                            .arg("kustomize")
                            .arg(root.join(overlay)),
                    );
                    if let Ok(mut total) = total.lock() {
                        match run {
                            Ok(run) if run.code == Some(0) => {
                                total.0.cpu += run.usage.cpu;
                                total.0.maxrss = total.0.maxrss.max(run.usage.maxrss);
                            }
                            _ => total.1 += 1,
                        }
                    }
                }
            });
        }
    });
    let (mut usage, failures) = total.into_inner().unwrap_or_default();
    usage.wall = started.elapsed();
    (usage, failures)
}

/// `kubeconform -strict -summary` over the hydrated tree.
pub fn kubeconform(tree: &Path) -> std::io::Result<measure::Run> {
    measure::run(
        Command::new("kubeconform")
            .args(["-strict", "-summary", "-kubernetes-version", "1.31.0"])
            .arg(tree),
    )
}
