import importlib.util
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def test_readme_quick_start_runs(capsys, tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 10
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "Coefficients:" in out and "Paired DeLong tests:" in out and "effort" in out
    assert (tmp_path / "effort-report" / "report.html").stat().st_size > 10_000


def test_readme_set_up_commands_are_the_ones_ci_runs():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", readme, re.S)
    assert len(commands) == 2
    assert commands[0].endswith("bayeslogreg demo")
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_readme_images_and_local_links_exist():
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#]+)\)", readme)
    local = [t for t in targets if "://" not in t]
    assert "docs/images/demo.png" in local
    for target in local:
        assert (ROOT / target).exists(), target


def test_quickstart_example_recovers_the_truth():
    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "examples" / "quickstart.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = module.main(["--small"])
    np.testing.assert_allclose(table["MLE"], table["true"], atol=4 * table["MLE se"].max())
    np.testing.assert_allclose(
        table["posterior mean"], table["MAP"], atol=3 * table["MAP se"].max()
    )
