"""The migration tool is installed as a console command beside `python -m migration`."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path


def test_console_entry_point_runs_the_cli() -> None:
    command = Path(sys.executable).parent / "directfanz-migrate"
    assert command.is_file(), "scripts/setup-venv installs the project (pip install -e .)"
    completed = subprocess.run([str(command), "--help"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "DirectFanz data migration" in completed.stdout


def test_every_file_the_tooling_reads_is_installed_with_it() -> None:
    """A non-editable install copies only .py files and the package data pyproject.toml names: every other file
    under migration/ (the Redis key patterns, the platform's Prisma migrations) must match a package-data glob."""
    root = Path(__file__).parents[2]
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    data_files = [path for path in (root / "migration").rglob("*")
                  if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts]
    assert data_files
    for path in data_files:
        shipped = any(path.is_relative_to(root / package.replace(".", "/"))
                      and any(path.relative_to(root / package.replace(".", "/")).match(glob) for glob in globs)
                      for package, globs in package_data.items())
        assert shipped, f"{path.relative_to(root)} is not package data in pyproject.toml"
