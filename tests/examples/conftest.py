"""Run an example script's ``main`` with ``--small`` and check the figures it writes."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def run_example(tmp_path):
    """``run_example(name, *options) -> dict``: run examples/<name>.py into tmp_path."""

    def run(name: str, *options: str) -> dict:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        result = module.main(["--small", "--out", str(tmp_path), *options])
        for path in result["figures"]:
            assert Path(path).is_relative_to(tmp_path)
            assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert Path(path).stat().st_size > 5_000
        return result

    return run
