"""The migration tool is installed as a console command beside `python -m migration`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_console_entry_point_runs_the_cli() -> None:
    command = Path(sys.executable).parent / "directfanz-migrate"
    assert command.is_file(), "scripts/setup-venv installs the project (pip install -e .)"
    completed = subprocess.run([str(command), "--help"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "DirectFanz data migration" in completed.stdout
