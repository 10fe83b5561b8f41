"""--help, argument errors and `show` start without importing boto3 (measured in bench/startup.py;
here only what is imported is asserted, never a time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "plans" / "example-www.example.com.json"
PROBE = """
import json, sys
from migrator.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in ("boto3", "botocore", "questionary", "dns")
                        if m in sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize("argv", [["--help"], ["plan"], ["show", str(EXAMPLE)]],
                         ids=["help", "argument-error", "show"])
def test_light_commands_do_not_import_the_aws_sdk(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    imported = json.loads(done.stderr.strip().splitlines()[-1])
    assert imported == [], done.stderr
