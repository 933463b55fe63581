"""Every example runs, and the README's commands are real."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from synthvae.cli import cli

from conftest import ROOT


def test_python_example_runs(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "python_api.py"), str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert pd.read_parquet(tmp_path / "penguins_synthetic.parquet").shape == (1000, 8)


def test_cli_example_runs(tmp_path):
    result = subprocess.run(["bash", str(ROOT / "examples" / "cli.sh"), str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(tmp_path / "synthetic.csv").shape == (1000, 8)


def test_readme_commands_exist():
    readme = (ROOT / "README.md").read_text()
    used = set(re.findall(r"^\s*synthvae ([a-z-]+)", readme, flags=re.MULTILINE))
    assert used, "README shows no synthvae command"
    for command in used:
        assert CliRunner().invoke(cli, [command, "--help"]).exit_code == 0, command


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest" in readme and "python -m pytest" in ci
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.DOTALL)
    assert len(blocks) >= 2
    assert "synthvae demo" in blocks[0] and "pip install torch==2.13.0" in blocks[0]
    assert "python -m pytest" in blocks[1] and "pip install torch==2.13.0" in blocks[1]


@pytest.mark.parametrize("name", ["python_api.py", "cli.sh"])
def test_examples_exist(name):
    assert (ROOT / "examples" / name).exists()
