"""`migrator demo --yes` is the README's first command: it must pass from start to end, with
both sandbox sites (www.example.com and shop.example.com) behind one load balancer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from migrator.core import planfile

SITES = {"www.example.com": "127.0.0.10", "shop.example.com": "127.0.0.11"}


def test_demo_runs_the_whole_flow_and_exits_zero(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "MIGRATOR_"))}
    env.update(NO_COLOR="1", COLUMNS="100")
    done = subprocess.run(
        [sys.executable, "-m", "migrator", "demo", "--yes", "--acm-delay", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for heading in ("1. Inspect", "2. Plan", "3. Show", "4. Apply", "5. Verify",
                    "6. One load balancer", "7. Status", "8. Rollback"):
        assert heading in out
    assert ("$ migrator plan --domain www.example.com --domain shop.example.com "
            "--shared-load-balancer") in " ".join(out.split())
    # each site's switch is a two-stage canary; its soak saw the visitors' requests
    soaks = re.findall(r"canary stage 1/2: 50% to the load balancer.*soak 0 s left; requests (\d+)",
                       out)
    assert len(soaks) == 2 and all(int(n) > 0 for n in soaks), soaks

    # both names answered by the one load balancer, each with its own certificate and page
    lb = re.search(r"the load balancer: (\S+\.elb\.amazonaws\.com) → (127\.\d+\.\d+\.\d+)", out)
    assert lb is not None, out[-3000:]
    lb_address = lb.group(2)
    assert lb_address not in SITES.values()
    for domain in SITES:
        line = re.search(rf"^  {re.escape(domain)} → (\S+): by SNI its own certificate "
                         rf"\(CN={re.escape(domain)}, DNS {re.escape(domain)}; issued by "
                         rf"O=Amazon, .*its page: “{re.escape(domain)}: Served by the origin: "
                         r"nginx on EC2 instance i-[0-9a-f]+\.”$", out, re.M)
        assert line is not None, (domain, out[-3000:])
        assert line.group(1) == lb_address

    for domain, origin in SITES.items():
        assert (f"{domain} → {origin}: the origin (before), certificate issued by O=Sandbox"
                in out)
        assert (f"{domain} → {origin}: the origin (after rollback), certificate issued by "
                "O=Sandbox") in out
        # its visitor never failed and saw both the origin and the load balancer answer
        visits = re.search(rf"^  {re.escape(domain)}: (\d+) requests, 0 failed; (.*)$", out, re.M)
        assert visits is not None, (domain, out[-2000:])
        assert f"by the origin ({origin})" in visits.group(2)
        assert f"by the load balancer ({lb_address})" in visits.group(2)
    assert "Every step and check passed." in out
    plans = [p for p in (tmp_path / "plans").glob("demo-www.example.com-shared-*.json")
             if not planfile.is_state_file(p)]
    assert len(plans) == 1
    plan = planfile.load(plans[0])
    assert plan.domains == tuple(SITES)
    # rolled back: every step the apply did is reverted (the deferred lockdown never ran)
    statuses = {step: state.status for step, state in plan.states.items()}
    assert set(statuses.values()) == {"reverted", "pending"}, statuses
    assert statuses["load_balancer"] == "reverted"
    assert statuses["switch_dns@shop.example.com"] == "reverted"
