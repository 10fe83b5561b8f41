"""The test suite's plugins: every fixture lives in tests/support and is registered here.

tests/unit: no server of any kind; tests/integration: moto in server mode or loopback fakes;
tests/e2e: the CLI against the sandbox (strict AWS), in a real terminal, killed mid-step.
"""

import os
import sys
import tempfile
from pathlib import Path

# This machine's environment, and CI's, sets PYTHONDONTWRITEBYTECODE, and pip installs without
# byte-compiling: every process of a run (each xdist worker, the fork server, every CLI process a
# test starts) would compile boto3, botocore, moto, ... from source again, and pytest would
# rewrite every test module's asserts again in each worker (about half of a worker's start-up).
# Bytecode goes to one cache instead -- in the venv, or the temporary directory without one,
# never into the source tree -- which the processes started from here inherit.
_PYCACHE = Path(sys.prefix if sys.prefix != sys.base_prefix else tempfile.gettempdir()) / \
    "migrator-pycache"
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("PYTHONPYCACHEPREFIX", str(_PYCACHE))
sys.dont_write_bytecode = False
sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]

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
