"""Why two x86 machines train different networks, and what pinning the CPU kernels costs.

Each row trains the same network from the same seed on the same in-memory volumes for a fixed
number of steps, in a fresh process whose environment selects the CPU kernels (PyTorch's ATen
dispatch, oneDNN's instruction set, MKL's code path), and reports the steps' speed and a
fingerprint of the trained weights. Rows with the same fingerprint trained bit-identical
networks. The first row is this machine's default (its widest instruction set: AVX-512 on a
recent server); "portable" is what ``ECRS_CPU_KERNELS=portable ecrs run`` sets for every job (``ecrs_analysis.pipeline.cpu_kernels``):
AVX2, which every x86-64 server since about 2015 has, so a machine with AVX-512 and one without
it run the same kernels. The ratio is against the default, measured in the same run.

    .venv/bin/python benchmarks/bench_isa.py [--model resnet3d] [--size 32] [--width 0.25] [--steps 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

_CHILD = r"""
import hashlib, json, sys, time
import torch
from torch import nn
from ecrs_analysis.models import build_model
model_name, size, width, steps, batch = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(1)
torch.manual_seed(0)
model = build_model(model_name, width=width)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
g = torch.Generator().manual_seed(1)
x = torch.rand(batch, 1, size, size, size, generator=g)
y = torch.randint(0, 2, (batch,), generator=g)
loss = nn.CrossEntropyLoss()
opt.zero_grad(); loss(model(x), y).backward(); opt.step()  # warm-up (and the first step of the fingerprint)
t0 = time.perf_counter()
for _ in range(steps):
    opt.zero_grad(); loss(model(x), y).backward(); opt.step()
dt = (time.perf_counter() - t0) / steps
h = hashlib.sha256()
for t in model.state_dict().values():
    h.update(t.detach().contiguous().numpy().tobytes())
print(json.dumps({"ms_per_step": 1000 * dt, "weights": h.hexdigest()[:12], "isa": torch.backends.cpu.get_cpu_capability()}))
"""

_ROWS = {
    "default (this machine's widest ISA)": {},
    "ATen kernels at AVX2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "oneDNN at AVX2": {"DNNL_MAX_CPU_ISA": "AVX2"},
    "portable (ATen + oneDNN + MKL at AVX2)": None,  # filled from ecrs_analysis.pipeline.cpu_kernels
}


def _run(env_extra: dict[str, str], args: argparse.Namespace) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "DNNL_MAX_CPU_ISA", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", _CHILD, args.model, str(args.size), str(args.width), str(args.steps), str(args.batch)],
                         env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from ecrs_analysis.pipeline.cpu_kernels import PINNED_ENV

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet3d")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--width", type=float, default=0.25)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=2, help="each row is run this many times, alternating (the fastest time is kept)")
    args = ap.parse_args()
    rows = {k: (dict(PINNED_ENV) if v is None else v) for k, v in _ROWS.items()}
    results: dict[str, list[dict]] = {k: [] for k in rows}
    for _ in range(args.repeats):
        for name, env in rows.items():
            results[name].append(_run(env, args))
    base = min(r["ms_per_step"] for r in results[next(iter(rows))])
    print(f"{args.model}, {args.size}^3, width {args.width}, batch {args.batch}, {args.steps} steps, 1 thread")
    print(f"{'kernels':<40} {'ATen ISA':<9} {'ms/step':>8} {'ratio':>6}  weights after training (same = bit-identical)")
    for name, runs in results.items():
        best = min(r["ms_per_step"] for r in runs)
        fingerprints = sorted({r["weights"] for r in runs})
        print(f"{name:<40} {runs[0]['isa']:<9} {best:>8.1f} {best / base:>6.2f}  {', '.join(fingerprints)}")
    digest = hashlib.sha256(json.dumps(results, sort_keys=True).encode()).hexdigest()[:8]
    print(f"(run {digest}; {time.strftime('%Y-%m-%d %H:%M')})")


if __name__ == "__main__":
    main()
