"""The test suite's plugins: every fixture lives in tests/support and is registered here.

tests/unit: no server of any kind; tests/integration: moto in server mode or loopback fakes;
tests/e2e: the CLI against the sandbox (strict AWS), in a real terminal, killed mid-step.
"""

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
