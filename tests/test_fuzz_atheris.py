"""Coverage-guided fuzzing (atheris, libFuzzer) of the station's readers, a
bounded run per target: a crash fails the test with the input that caused it.
Longer runs: ``python -m tests.fuzz_atheris TARGET -runs=1000000``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT

pytest.importorskip("atheris", reason="atheris has wheels for x86_64 Linux only")

#: target: (runs, largest input in bytes)
RUNS = {
    "barcodes": (20_000, 512),
    "config": (5_000, 2048),
    "mqtt": (5_000, 1024),
    "images": (2_000, 4096),
    "periods": (20_000, 64),
    "edxml": (5_000, 4096),
}


#: runs its arguments as a command and exits with its code
_STARTER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


@pytest.mark.parametrize("target", sorted(RUNS))
def test_fuzz_target_runs_without_a_crash(target: str, tmp_path: Path) -> None:
    runs, max_len = RUNS[target]
    # started by a small Python of its own: a process started straight from
    # this one keeps, across exec, this one's peak RSS, which libFuzzer would
    # count against the fuzzer's 2 GB limit (a pytest worker that has run the
    # accuracy suites is past it)
    done = subprocess.run(
        [sys.executable, "-c", _STARTER, sys.executable, "-m", "tests.fuzz_atheris", target,
         f"-runs={runs}", f"-max_len={max_len}", "-seed=1", f"-artifact_prefix={tmp_path}/"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    crashes = sorted(p.name for p in tmp_path.iterdir())
    assert done.returncode == 0 and not crashes, done.stderr[-3000:]
    assert f"Done {runs} runs" in done.stderr
