"""How fast Komunikator compiles a big tenant, against a plain YAML load.

Run from the repository root:

    .venv/bin/python bench/compile_bench.py [--categories 300 --units 40 --processes 10 --repeat 5] [--json]

It generates a large tenant and a small library into a temporary folder
(`tenant_generator.py`), checks that it compiles with zero errors, then
times, in one process and over the same files:

  (a) baseline   — ruamel.yaml's round-trip load (`YAML()`, typ='rt') of every file;
  (b) full       — `check_tenant` (Komunikator's own loading, overlay, validation, compile);
  (c) compile    — overlay + validation + compile alone, over trees loaded once;

plus the loader and the overlay on their own, and the cold wall-clock of
`komunikator check` over the shipped tenants (a new process per run). The
issue's targets: (c) ≤ 2 × (a), and a cold check under one second.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from tenant_generator import Generated, Sizes, generate

from komunikator.engine.config.builtins import default_registry
from komunikator.engine.config.compiler import TenantCompiler, check_tenant
from komunikator.engine.config.overlay import overlay
from komunikator.engine.config.sources import load_folder
from komunikator.engine.errors import ErrorList

REPO = Path(__file__).resolve().parent.parent
#: The targets set by the issue.
COMPILE_RATIO_TARGET = 2.0
COLD_CHECK_TARGET_S = 1.0


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of `repeat` calls of `fn`, each after a full collection."""
    out = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def roundtrip_load(files: tuple[Path, ...]) -> None:
    """The baseline: what reading the same YAML with ruamel's default loader costs."""
    yaml = YAML()
    for path in files:
        yaml.load(path)


def compile_only(gen: Generated, library: Any, tenant: Any) -> None:
    """Overlay + validation + compile over already loaded trees; must find no error."""
    errors = ErrorList()
    result = TenantCompiler(gen.tenant_dir, library, tenant, default_registry(), errors).run()
    if errors or result is None:
        raise AssertionError(errors.render())


def assert_compiles(gen: Generated) -> dict[str, int]:
    """Compile the generated tenant once; it must be error-free. Returns its counts."""
    compiled, errors = check_tenant(gen.tenant_dir, gen.library_dir)
    if errors or compiled is None:
        raise SystemExit(f"the generated tenant does not compile:\n{errors.render()}")
    return {
        "categories": len(compiled.categories),
        "units": len(compiled.units),
        "processes": len(compiled.processes),
        "templates": len(compiled.templates),
        "files": len(gen.files),
        "bytes": sum(p.stat().st_size for p in gen.files),
    }


def cold_check(runs: int) -> dict[str, Any]:
    """Median wall-clock of `komunikator check -q` (new process each run) over tenants/."""
    exe = Path(sys.executable).parent / "komunikator"
    python = [sys.executable, "-c", "import komunikator.cli.app"]

    def once(cmd: list[str]) -> tuple[float, int]:
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, check=False)
        return time.perf_counter() - started, done.returncode

    once([str(exe), "check", "-q"])  # warm the page cache and bytecode once, untimed
    checks = [once([str(exe), "check", "-q"]) for _ in range(runs)]
    imports = [once(python)[0] for _ in range(runs)]
    tenants = sorted(p.name for p in (REPO / "tenants").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    return {
        "median_s": statistics.median(t for t, _ in checks),
        "import_only_s": statistics.median(imports),
        "exit_codes": sorted({rc for _, rc in checks}),
        "tenants": tenants,
        "runs": runs,
    }


def profile(gen: Generated, top: int) -> str:
    """cProfile of one `check_tenant`, the `top` functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    check_tenant(gen.tenant_dir, gen.library_dir)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Generate, verify and time; return the figures."""
    sizes = Sizes(args.categories, args.units, args.processes)
    with tempfile.TemporaryDirectory(prefix="komunikator-bench-") as tmp:
        gen = generate(Path(tmp), sizes)
        counts = assert_compiles(gen)
        default_registry()  # built once per process; not part of a compile
        errors = ErrorList()
        library = load_folder(gen.library_dir, errors)
        tenant = load_folder(gen.tenant_dir, errors)
        if errors:
            raise SystemExit(f"the generated files do not load:\n{errors.render()}")

        def load_both() -> None:
            load_folder(gen.library_dir, ErrorList())
            load_folder(gen.tenant_dir, ErrorList())

        times = {
            "a_roundtrip_load": timed(lambda: roundtrip_load(gen.files), args.repeat),
            "b_check_tenant": timed(lambda: check_tenant(gen.tenant_dir, gen.library_dir), args.repeat),
            "c_overlay_validate_compile": timed(lambda: compile_only(gen, library, tenant), args.repeat),
            "komunikator_load": timed(load_both, args.repeat),
            "overlay_only": timed(lambda: overlay(library, tenant, ErrorList()), args.repeat),
        }
        profiled = profile(gen, args.profile) if args.profile else None
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["a_roundtrip_load"]
    result: dict[str, Any] = {
        "sizes": {"categories": sizes.categories, "units": sizes.units, "processes": sizes.processes},
        "compiled": counts,
        "repeat": args.repeat,
        "median_s": medians,
        "ratio_b_over_a": medians["b_check_tenant"] / base,
        "ratio_c_over_a": medians["c_overlay_validate_compile"] / base,
        "target_c_over_a": COMPILE_RATIO_TARGET,
    }
    if args.check_runs:
        result["cold_check"] = cold_check(args.check_runs)
        result["target_cold_check_s"] = COLD_CHECK_TARGET_S
    if profiled:
        result["profile"] = profiled
    return result


def table(result: dict[str, Any]) -> str:
    """The figures as a small text table."""
    c = result["compiled"]
    m = result["median_s"]
    lines = [
        (
            f"tenant: {c['categories']} categories, {c['units']} units, {c['processes']} processes, "
            f"{c['templates']} templates; {c['files']} files, {c['bytes'] / 1024:.0f} KiB; "
            f"median of {result['repeat']}"
        ),
        "",
        f"{'measure':<40}{'median':>10}{'× (a)':>8}",
        f"{'-' * 58}",
    ]
    labels = {
        "a_roundtrip_load": "(a) ruamel round-trip load (baseline)",
        "b_check_tenant": "(b) check_tenant (load + compile)",
        "c_overlay_validate_compile": "(c) overlay + validate + compile",
        "komunikator_load": "    Komunikator loader (load_folder)",
        "overlay_only": "    overlay alone",
    }
    base = m["a_roundtrip_load"]
    for key, label in labels.items():
        lines.append(f"{label:<40}{m[key] * 1000:>8.1f}ms{m[key] / base:>8.2f}")
    verdict = "ok" if result["ratio_c_over_a"] <= result["target_c_over_a"] else "MISSED"
    lines += ["", f"(c)/(a) = {result['ratio_c_over_a']:.2f}  (target ≤ {result['target_c_over_a']:g}: {verdict})"]
    cold = result.get("cold_check")
    if cold:
        verdict = "ok" if cold["median_s"] < result["target_cold_check_s"] else "MISSED"
        lines.append(
            f"cold `komunikator check` over {', '.join(cold['tenants']) or 'no tenants'}: "
            f"{cold['median_s'] * 1000:.0f} ms median of {cold['runs']} "
            f"(imports alone {cold['import_only_s'] * 1000:.0f} ms; "
            f"exit {'/'.join(map(str, cold['exit_codes']))}; target < {result['target_cold_check_s']:g} s: {verdict})"
        )
    if "profile" in result:
        lines += ["", result["profile"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--categories", type=int, default=300)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measure (the median is shown)")
    parser.add_argument("--check-runs", type=int, default=5, help="cold `komunikator check` runs; 0 skips them")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also print the N costliest functions")
    parser.add_argument("--json", action="store_true", help="print machine-readable figures")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.processes < 1 or args.categories < 5:
        parser.error("need --repeat ≥ 1, --processes ≥ 1 and --categories ≥ 5")
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
