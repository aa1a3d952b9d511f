"""The architecture stays visible: layer boundaries, module docstrings and a clean lint."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "domain", "providers")


def modules(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("domain", {"strawberry", "starlette", "api", "graphql"}),
        ("providers", {"tortoise", "domain", "api", "strawberry", "starlette"}),
    ],
)
def test_layers_do_not_reach_upwards(package, forbidden):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported(path) & forbidden)
        for path in modules(package)
        if imported(path) & forbidden
    }
    assert offenders == {}


def test_every_module_says_what_lives_there():
    missing = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in modules(package)
        if not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert missing == []


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
    result = subprocess.run(
        [ruff, "check", *PACKAGES, "tests", "bench", "examples", "tools"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout
