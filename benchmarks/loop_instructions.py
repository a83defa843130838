"""The compiled FIFO loop's instructions, this checkout against a peer's: a measure a busy machine cannot move.

Run on demand, from the repository root, with valgrind installed and a peer
checkout that has its own virtual environment (as for ``engine_vs_peer.py``)::

    python benchmarks/loop_instructions.py --peer /tmp/orgsim-peer

Each tree runs one workload of ``engine_vs_peer.py`` (the tandem, or one
replication of the Jinan-size zone, compiled loop, seed 2024) under
callgrind, in a fresh process. The table gives the instructions executed in
each function of ``fifo_loop.c`` (the loop and its helpers; not the random
numbers, drawn in numpy) and the ratio of the totals. CPU times on a machine
shared with other work move by 10% from run to run; instruction counts do
not (they are not times: a cache miss costs more than an add, so read them
beside ``engine_vs_peer.py``'s times). Under callgrind a run takes about 50
times as long: about 40 s for the tandem, 2 min for the Jinan-size zone.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def instructions(python: str, workload: str, out: Path) -> dict[str, int]:
    """Instructions per function of fifo_loop.c in one run of ``workload`` by ``python``'s orgsim."""
    child = [python, str(HERE / "engine_vs_peer.py"), "--child", workload, "compiled", "2024"]
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *child], check=True,
                   capture_output=True)
    text = subprocess.run(["callgrind_annotate", "--threshold=100", str(out)], check=True, capture_output=True,
                          text=True).stdout
    counts: dict[str, int] = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \(.*?\)\s+\S*fifo_loop\.c:(\S+)", line)
        if m:
            name = re.sub(r"^__pyx_f_6orgsim_3sim_9fifo_loop_(8FifoLoop_)?", "", m.group(2))
            counts[name] = counts.get(name, 0) + int(m.group(1).replace(",", ""))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, required=True, help="the other orgsim checkout")
    parser.add_argument("--peer-python", help="its Python (default PEER/.venv/bin/python)")
    parser.add_argument("--workloads", default="tandem,jinan", help="comma-separated: tandem, jinan")
    parser.add_argument("--top", type=int, default=12, help="functions shown per workload")
    args = parser.parse_args(argv)
    trees = {"this": sys.executable, "peer": args.peer_python or str(args.peer / ".venv" / "bin" / "python")}
    with tempfile.TemporaryDirectory() as tmp:
        for workload in [w.strip() for w in args.workloads.split(",") if w.strip()]:
            mine, peer = (instructions(trees[t], workload, Path(tmp) / f"{t}.{workload}.out") for t in trees)
            print(f"\n{workload} (compiled loop, seed 2024): instructions in fifo_loop.c\n")
            print("| function | this | peer | this - peer |")
            print("|---|---:|---:|---:|")
            names = sorted(set(mine) | set(peer), key=lambda k: -(mine.get(k, 0) + peer.get(k, 0)))
            for name in names[:args.top]:
                a, b = mine.get(name, 0), peer.get(name, 0)
                print(f"| `{name}` | {a:,} | {b:,} | {a - b:+,} |")
            total_a, total_b = sum(mine.values()), sum(peer.values())
            print(f"| **all** | {total_a:,} | {total_b:,} | {total_a - total_b:+,} ({total_a / total_b:.3f}x) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
