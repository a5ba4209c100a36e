"""The failure catalogue in docs/failures.md names only tests that exist."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_every_test_the_catalogue_names_exists():
    text = (ROOT / "docs" / "failures.md").read_text()
    references = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", text)
    assert len(references) >= 40
    missing = [
        f"{file}::{name}"
        for file, name in references
        if not (ROOT / file).is_file() or name not in _test_names(ROOT / file)
    ]
    assert not missing, f"docs/failures.md names tests that do not exist: {missing}"
