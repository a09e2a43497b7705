"""The README's examples run, and CI runs exactly the README's test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_python_examples_in_the_readme_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert "school" in capsys.readouterr().out


def test_ci_runs_the_readme_test_command():
    quick_start = re.search(r"## Quick start.*?```bash\n(.*?)```", README, flags=re.S).group(1)
    commands = [line for line in quick_start.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    install_and_run, install_and_test = commands
    assert install_and_run == "python -m pip install -e . && python -m sim"
    ci = (ROOT / ".ci" / "run").read_text()
    assert install_and_test in ci.splitlines()
