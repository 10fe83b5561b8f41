"""The test suite's plugins: every fixture lives in tests/support and is registered here.

tests/unit: no server of any kind; tests/integration: moto in server mode or loopback fakes;
tests/e2e: the CLI against the sandbox (strict AWS), in a real terminal, killed mid-step.
"""

import os
from pathlib import Path

# moto builds every region's EC2 backend with ~1,350 stock AMIs (snapshots and volumes
# included), again after every reset: most of a reset's cost. The world needs one image
# (migrator_sandbox.world.AMI_ID); moto reads the variable when it first imports its EC2 models,
# so it is set before any plugin below imports moto (the CLI processes tests start inherit it).
os.environ.setdefault("MOTO_AMIS_PATH", str(Path(__file__).parent / "support" / "moto_amis.json"))

pytest_plugins = [
    "tests.support.moto",
    "tests.support.iam_recording",
    "tests.support.strict",
    "tests.support.loopback",
    "tests.support.preflight.cli",
    "tests.support.preflight.dns",
    "tests.support.preflight.origin",
    "tests.support.preflight.keepalive",
    "tests.support.verify.fixtures",
    "tests.support.golden",
]
