"""The documentation site builds with MkDocs in strict mode (warnings are errors)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import bayeslogreg

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_in_strict_mode(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    api = (site / "api" / "estimators" / "index.html").read_text()
    for name in ("fit_mle", "fit_map", "sample_posterior", "PointEstimate", "Posterior"):
        assert f'id="bayeslogreg.{name}"' in api, name
    assert "log_sigmoid" in (site / "math" / "index.html").read_text()


def test_every_page_is_in_the_navigation():
    config = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s*([\w/]+\.md)\s*$", config, re.M))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages == listed


def test_api_reference_covers_the_public_names():
    reference = "".join(p.read_text() for p in (ROOT / "docs" / "api").glob("*.md"))
    documented = set(re.findall(r"^::: bayeslogreg\.(\w+)", reference, re.M))
    public = set(bayeslogreg.__all__) - {"__version__"}
    assert public <= documented, public - documented
