"""The strict AWS world: moto, made to behave like AWS where AWS is documented to differ.

A test fixture and a sandbox option (``Sandbox(strict=True)``, ``migrator sandbox up --strict``),
never a code path of the tool: nothing outside ``migrator/sandbox`` imports it. Delays are
AWS's, scaled down and set by :class:`StrictConfig`.

Modules, one job each:

* ``config``        -- ``StrictConfig``: the delays, presets, the critical-path floor
* ``install``       -- ``StrictAWS``: install / uninstall / ``with``, relaxed seeding
* ``ledger``        -- the layer's own bookkeeping (creation times, uses, changes), thread-safe
* ``clock``         -- ``ManualClock``, for tests that move time by hand
* ``patching``      -- reversible patches of moto's classes
* ``errors``        -- the AWS error codes, as moto's exception classes
* ``usage``         -- which target groups and certificates listeners use, since when
* ``ec2``           -- eventual consistency, groups on network interfaces, DependencyViolation
* ``elbv2``         -- target group / certificate visibility, provisioning, InvalidSecurityGroup
* ``target_health`` -- unused / initial / healthy / draining by time
* ``acm``           -- validation records, issuance from Route 53 CNAMEs, in-use deletes
* ``route53``       -- PENDING then INSYNC, throttling
"""

from __future__ import annotations

from .clock import ManualClock
from .config import StrictConfig
from .install import StrictAWS

__all__ = ["ManualClock", "StrictAWS", "StrictConfig"]
