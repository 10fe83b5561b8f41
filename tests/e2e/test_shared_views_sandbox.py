"""`verify` and `status` of plans for several sites on one load balancer, on the sandbox (AWS,
DNS, the load balancer's data plane routing by Host and SNI, each site's origin), with the
checks run for real: every site verified through its own names, a site broken behind the load
balancer named alone; a site whose checks fail during apply put back alone, and said so by
status, verify and their JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrator_sandbox.runner import Sandbox
from migrator_sandbox.strict import StrictConfig
from tests.support.sandbox import Ran, run_migrator


@dataclass
class Box:
    sandbox: Sandbox
    workdir: Path

    def migrator(self, *argv: str) -> Ran:
        return run_migrator(self.sandbox, self.workdir, *argv)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Box]:
    workdir = tmp_path_factory.mktemp("shared-views")
    with Sandbox(workdir=workdir / "sandbox", strict_config=StrictConfig.fast(), sites=4) as sb, \
            pytest.MonkeyPatch.context() as patch:
        for key, value in sb.env.items():
            patch.setenv(key, value)
        yield Box(sb, workdir)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_verify_checks_every_site_and_names_the_one_that_breaks(box: Box) -> None:
    planned = box.migrator("plan", "--domain", "www.example.com", "--domain",
                           "shop.example.com", "--shared-load-balancer", "--out", "ws.json")
    assert planned.status == 0, planned.stdout + planned.stderr
    applied = box.migrator("apply", "ws.json", "--yes")
    assert applied.status == 0, applied.stdout + applied.stderr

    verified = box.migrator("verify", "ws.json")
    assert verified.status == 0, verified.stdout + verified.stderr
    out = verified.stdout
    assert out.index("www.example.com") < out.index("shop.example.com")
    assert "2 of 2 sites passed" in out and "FAIL" not in out
    report = json.loads(box.migrator("verify", "ws.json", "--json").stdout)
    assert report["ok"] is True
    for site in report["sites"]:
        assert site["ok"] and site["passed"] > 0
        # each site checked through its own name
        assert any(c["target"].startswith(site["domain"]) for c in site["checks"]), site

    status = box.migrator("status", "ws.json")
    assert status.status == 0, status.stdout + status.stderr
    text = flat(status.stdout)
    for site in ("www.example.com", "shop.example.com"):
        assert f"{site}: applied (lockdown pending), switched" in text
        assert f"Health of {site}" in text
    assert text.count("in Route53 with ACM's value, answered by DNS") == 2
    assert text.count("none needs attention") == 2

    # shop's application breaks behind the load balancer: verify names shop, not www.
    shop = box.sandbox.origin_for("shop.example.com")
    shop.fail_forwarded = 500
    try:
        broken = box.migrator("verify", "ws.json")
    finally:
        shop.fail_forwarded = None
    assert broken.status == 1, broken.stdout
    assert broken.stderr.startswith("error: 1 of 2 sites failed verification: "
                                    "shop.example.com: "), broken.stderr
    assert "(www.example.com passed)" in broken.stderr
    assert "1 of 2 sites passed; failed: shop.example.com" in broken.stdout
    assert box.migrator("verify", "ws.json").status == 0


def test_a_site_put_back_alone_is_reported_by_status_and_verify(box: Box) -> None:
    docs = box.sandbox.origin_for("docs.example.com")
    docs.fail_forwarded = 500  # docs fails its checks through the load balancer
    try:
        planned = box.migrator("plan", "--domain", "blog.example.com", "--domain",
                               "docs.example.com", "--shared-load-balancer", "--out", "bd.json")
        assert planned.status == 0, planned.stdout + planned.stderr
        applied = box.migrator("apply", "bd.json", "--yes")
    finally:
        docs.fail_forwarded = None
    assert applied.status == 1, applied.stdout + applied.stderr
    assert "1 of 2 sites failed their checks" in applied.stderr

    status = box.migrator("status", "bd.json")
    assert status.status == 0, status.stdout + status.stderr
    text = flat(status.stdout)
    assert "1 of 2 sites reverted alone after failed checks (docs.example.com)" in text
    assert "blog.example.com: applied (lockdown pending), switched" in text
    assert "docs.example.com: reverted alone after failed checks" in text
    assert "Reverted alone after failed checks: 1 check(s) through the load balancer " \
        "failed" in text
    assert "put it there with `migrator plan --domain docs.example.com --load-balancer " \
        "blog-example-com-shared-" in text
    assert ("docs.example.com was reverted alone after failed checks" in text
            and "nothing to check" in text)
    assert "Health of blog.example.com" in text and "Health of docs.example.com" not in text
    report = json.loads(box.migrator("status", "bd.json", "--json").stdout)
    blog, docs_entry = report["sites"]
    assert blog["reverted"] is None and blog["switched"] is True and blog["health"]["ok"]
    assert docs_entry["reverted"] and docs_entry["switched"] is False
    assert docs_entry["phase"] == "reverted alone after failed checks"
    assert docs_entry["health"]["checked"] is False
    assert {s["status"] for s in docs_entry["steps"]} <= {"reverted", "pending"}

    verified = box.migrator("verify", "bd.json")
    assert verified.status == 1
    assert ("error: 1 of 2 sites failed verification: docs.example.com: 1 of 1 checks "
            "failed, first: on the load balancer at docs.example.com: reverted alone after "
            "failed checks") in verified.stderr
    assert "(blog.example.com passed)" in verified.stderr
