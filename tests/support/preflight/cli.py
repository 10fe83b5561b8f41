"""Helpers for running `plan` / `inspect` in the preflight tests and judging what they did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.aws_state import account_state
from tests.support.preflight.dns import Dns


@pytest.fixture
def dns_env(dns_server: Dns) -> dict[str, str]:
    """MIGRATOR_NAMESERVERS pointing at the test's DNS server (moto's zones, live)."""
    return {"MIGRATOR_NAMESERVERS": dns_server.address}


def one_line(text: str) -> str:
    """Table output with the wrapping undone, for substring assertions."""
    return " ".join(text.split())


def findings_of(cli: Any, env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    """`inspect --json` findings (inspect never writes to AWS either)."""
    result = cli("inspect", "--domain", "www.example.com", "--json", *args, env=env)
    assert result.status == 0, result.stderr
    return json.loads(result.stdout)["findings"]


def finding(findings: list[dict[str, Any]], check: str) -> dict[str, Any]:
    matches = [f for f in findings if f["check"] == check]
    assert len(matches) == 1, matches
    return matches[0]


def refused(cli: Any, session: boto3.Session, env: dict[str, str], *args: str) -> str:
    """Run plan; assert exit 2 naming preflight, no plan file, AWS unchanged; return stdout +
    stderr."""
    before = account_state(session)
    result = cli("plan", "--domain", "www.example.com", "--out", "p.json", *args, env=env)
    assert result.status == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: preflight refused the plan: "), result.stderr
    assert not Path("p.json").exists() and not Path("plans").exists()
    assert account_state(session) == before
    return result.stdout + result.stderr


def accepted(cli: Any, session: boto3.Session, env: dict[str, str], *args: str) -> str:
    """Run plan; assert exit 0, a plan file, AWS unchanged; return stdout + stderr."""
    before = account_state(session)
    result = cli("plan", "--domain", "www.example.com", "--out", "p.json", *args, env=env)
    assert result.status == 0, result.stdout + result.stderr
    assert Path("p.json").exists()
    assert account_state(session) == before
    return result.stdout + result.stderr
