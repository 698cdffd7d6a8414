"""Client memory of a large upload: `python -m benchmarks.apply_upload [--mb 1024]`.

Uploads one file of MB megabytes (default 1 GB) the way apply does (RemoteApi.upload_file:
the Uploads API in parts streamed from disk) to `ftctl emulator serve` on loopback, in a child
process whose peak resident memory (VmHWM) must stay under 200 MB. Baseline: the same child
doing nothing but importing ftctl. Writes benchmarks/results/apply_upload.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "apply_upload.json"
KEY = "sk-bench"
LIMIT_MB = 200.0

CHILD = """
import sys, time
from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
base_url, path, upload = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
api = RemoteApi(HttpClient(base_url, "sk-bench", timeout=600))
start = time.perf_counter()
if upload:
    f = api.upload_file(path, filename="ftctl-bench.jsonl")
    assert f.bytes > 0
seconds = time.perf_counter() - start
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(seconds, int(hwm) / 1024)
"""


def make_file(path: Path, mb: int) -> None:
    line = json.dumps({"messages": [{"role": "user", "content": "q" * 200},
                                    {"role": "assistant", "content": "a" * 200}]}) + "\n"
    block = (line * ((1 << 20) // len(line) + 1)).encode()[: 1 << 20]
    with path.open("wb") as fh:
        for _ in range(mb):
            fh.write(block)


def child(base_url: str, path: Path, upload: bool) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, base_url, str(path), "1" if upload else "0"],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "big.jsonl"
        make_file(data, args.mb)
        server = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", "0", "--db",
             str(Path(tmp) / "e.db"), "--api-key", KEY],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            assert server.stdout is not None
            base_url = server.stdout.readline().strip().removeprefix("listening on ")
            _, baseline_mb = child(base_url, data, upload=False)
            start = time.perf_counter()
            seconds, peak_mb = child(base_url, data, upload=True)
            wall = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {"mb": args.mb, "upload_seconds": round(seconds, 2), "wall_seconds": round(wall, 2),
              "client_peak_mb": round(peak_mb, 1), "baseline_peak_mb": round(baseline_mb, 1),
              "limit_mb": LIMIT_MB, "ok": peak_mb < LIMIT_MB}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print("| MB | upload s | client peak MB | import-only peak MB | limit MB |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| {args.mb} | {result['upload_seconds']} | {result['client_peak_mb']} | "
          f"{result['baseline_peak_mb']} | {LIMIT_MB} |")


if __name__ == "__main__":
    main()
