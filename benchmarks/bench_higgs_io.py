"""Time and peak memory of reading a HIGGS-format file: convert to the cache, reload it.

Each step runs in a fresh Python process, so that its peak resident set size (RSS) is its
own. Compared with plain ``pandas.read_csv`` of the whole file and, up to 1M rows,
``numpy.loadtxt``; for a gzipped file, also each stage of the conversion alone (inflating
with zlib and with ISA-L, parsing text already in memory with polars and with pandas),
their throughput in MB/s of text, and the floor they set. Run under the shared lock, e.g.::

    flock /tmp/bayeslogreg-bench.lock python benchmarks/bench_higgs_io.py --rows 1000000
    flock /tmp/bayeslogreg-bench.lock python benchmarks/bench_higgs_io.py --rows 11000000

The file is reused when it exists (``/tmp/higgs/HIGGS_like_1M.csv.gz`` and so on) and
written with ``write_higgs_like(path, rows, seed=0)`` otherwise; the cache goes to a fresh
temporary folder, so conversion is always measured from the text.
"""

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

THREADS = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
}


def _worker(step: str, path: str, rows: int, dtype: str, cache_dir: str) -> dict:
    """Run one step in this process; return seconds and the peak RSS in MB."""
    import resource

    import numpy as np
    import pandas as pd
    import polars as pl

    from bayeslogreg.datasets import load_higgs, write_higgs_like

    schema = {f"column_{k}": pl.Float64 for k in range(29)}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start, cpu_start = time.perf_counter(), time.process_time()
    if step == "write":
        write_higgs_like(path, rows, seed=0)
    elif step in ("convert", "reload"):
        train, test = load_higgs(
            path, n_rows=rows, dtype=dtype, cache_dir=cache_dir, progress=step == "convert"
        )
        if step == "reload":
            assert isinstance(train.X, np.memmap)
    elif step == "reload+pass":
        train, test = load_higgs(
            path, n_rows=rows, dtype=dtype, cache_dir=cache_dir, progress=False
        )
        # One pass over every value: reading the mapped pages, as a fit's first pass does.
        float(train.X.sum(dtype=np.float64)) + float(test.X.sum(dtype=np.float64))
    elif step in ("inflate (zlib)", "inflate (ISA-L)"):
        from isal import igzip

        opener = gzip.open if step == "inflate (zlib)" else igzip.open
        text_bytes = 0
        with opener(path, "rb") as stream:
            while block := stream.read(2**24):
                text_bytes += len(block)
    elif step in ("parse (polars)", "parse (pandas)"):
        # Blocks of whole lines inflated untimed, in this thread (no reading ahead, which
        # would share the cores and the process's CPU time); only the parsing is timed.
        from isal import igzip

        from bayeslogreg.datasets._higgs import _PARSE_BLOCK_BYTES

        def blocks(stream):
            rest = b""
            while data := stream.read(_PARSE_BLOCK_BYTES):
                data = rest + data
                cut = data.rfind(b"\n") + 1
                yield data[:cut]
                rest = data[cut:]
            yield rest

        kw = dict(header=None, dtype=np.float64, engine="c", na_filter=False)
        seconds = cpu = 0.0
        with igzip.open(path, "rb") as stream:
            for block in blocks(stream):
                if not block:
                    continue
                start, cpu_start = time.perf_counter(), time.process_time()
                if step == "parse (polars)":
                    pl.read_csv(block, has_header=False, schema=schema, quote_char=None).to_numpy()
                else:
                    pd.read_csv(io.BytesIO(block), **kw).to_numpy()
                seconds += time.perf_counter() - start
                cpu += time.process_time() - cpu_start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "seconds": seconds,
            "cpu_seconds": cpu,
            "peak_rss_mb": peak,
            "rss_before_mb": before,
        }
    elif step == "pandas.read_csv":
        pd.read_csv(path, header=None, nrows=rows, dtype=np.float64, engine="c").to_numpy()
    elif step == "numpy.loadtxt":
        np.loadtxt(path, delimiter=",", max_rows=rows, dtype=np.float64)
    else:
        raise ValueError(f"unknown step {step!r}")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak, "rss_before_mb": before}
    if step.startswith("inflate"):
        result["text_mb"] = text_bytes / 1e6
    return result


def _read_once(path: Path) -> None:
    """Read the file untimed, so that every step finds it in the page cache alike."""
    with open(path, "rb") as source:
        while source.read(2**24):
            pass


def _run(step: str, path: Path, rows: int, dtype: str, cache_dir: Path) -> dict:
    if path.exists():
        _read_once(path)
    command = [sys.executable, __file__, "--worker", step, "--path", str(path)]
    command += ["--rows", str(rows), "--dtype", dtype, "--cache-dir", str(cache_dir)]
    done = subprocess.run(
        command, env={**os.environ, **THREADS}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"step {step} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["loadavg"] = os.getloadavg()
    return result


def main(argv=None) -> int:
    """Run the benchmark and print a table; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--path", type=Path, default=None, help="default /tmp/higgs/...")
    parser.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    parser.add_argument("--no-references", action="store_true", help="skip pandas and numpy")
    parser.add_argument("--no-stages", action="store_true", help="skip timing each stage")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = _worker(args.worker, str(args.path), args.rows, args.dtype, args.cache_dir)
        print(json.dumps(result))
        return 0

    label = f"{args.rows // 1_000_000}M" if args.rows % 1_000_000 == 0 else str(args.rows)
    path = args.path or Path(f"/tmp/higgs/HIGGS_like_{label}.csv.gz")
    steps = ["convert", "reload", "reload+pass"]
    if not args.no_references:
        steps.append("pandas.read_csv")
        if args.rows <= 1_000_000:
            steps.append("numpy.loadtxt")
    if path.suffix == ".gz" and not args.no_stages:
        steps += ["inflate (zlib)", "inflate (ISA-L)", "parse (polars)", "parse (pandas)"]
    if not path.exists():
        steps.insert(0, "write")
    cores = len(os.sched_getaffinity(0))
    print(
        f"# {path} ({args.rows:,} rows, {args.dtype}; {cores} cores: polars uses all, "
        f"BLAS 1 thread), python {sys.version.split()[0]}"
    )
    print(f"{'step':<16} {'seconds':>9} {'cpu s':>7} {'rows/s':>11} {'peak RSS MB':>12}  load")
    results = {}
    with tempfile.TemporaryDirectory(prefix="higgs-cache-") as cache_dir:
        for step in steps:
            result = results[step] = _run(step, path, args.rows, args.dtype, Path(cache_dir))
            load = " ".join(f"{x:.2f}" for x in result["loadavg"])
            print(
                f"{step:<16} {result['seconds']:>9.3f} {result['cpu_seconds']:>7.2f} "
                f"{args.rows / result['seconds']:>11,.0f} {result['peak_rss_mb']:>12,.0f}  {load}",
                flush=True,
            )
        size = path.stat().st_size / 1e6
        cached = sum(p.stat().st_size for p in Path(cache_dir).iterdir()) / 1e6
    before = result["rss_before_mb"]
    print(f"# file {size:,.0f} MB; cache {cached:,.0f} MB; RSS after imports ~{before:.0f} MB")
    if "pandas.read_csv" in results:
        ratio = results["convert"]["seconds"] / results["pandas.read_csv"]["seconds"]
        print(f"# convert / pandas.read_csv: {ratio:.2f}")
    if "parse (polars)" in results:
        text = results["inflate (zlib)"]["text_mb"]
        for step in ("inflate (zlib)", "inflate (ISA-L)", "parse (polars)", "parse (pandas)"):
            r = results[step]
            print(
                f"# {step}: {text / r['seconds']:,.0f} MB/s of text wall, "
                f"{text / r['cpu_seconds']:,.0f} MB/s per core-second"
            )
        inflate, parse = results["inflate (ISA-L)"], results["parse (polars)"]
        floor = max(inflate["seconds"], (inflate["cpu_seconds"] + parse["cpu_seconds"]) / cores)
        print(
            f"# floor of convert on {cores} cores (ISA-L inflating while polars parses, "
            f"nothing else): {floor:.2f} s = {floor / results['convert']['seconds']:.2f} of "
            "convert"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
