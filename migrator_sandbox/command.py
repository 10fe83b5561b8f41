"""``migrator sandbox up``: run the sandbox in the foreground until Ctrl-C or SIGTERM.

Once every part answers, the environment file is written (``export`` lines; ``source`` it in
another shell), a short summary is printed, and load balancer changes are reported as they
happen. On Ctrl-C/SIGTERM every part stops and the environment file is removed again (it would
point at nothing).

``sites=N`` (``migrator sandbox up --sites N``) seeds N sites in all: www.example.com and, each on
an instance of its own in the same VPC, shop.example.com, blog.example.com, ... (see
``world.with_sites``), every one served by its own origin.

``strict=True`` (``migrator sandbox up --strict``) runs the strict AWS world: AWS's eventual
consistency, provisioning, health-check thresholds, ACM validation through Route 53 and
PENDING/INSYNC changes, with delays of seconds (``StrictConfig.demo()``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .runner import Sandbox, render_env
from .strict import StrictConfig

DEFAULT_ENV_FILE = ".sandbox.env"


def _install_signal_handlers(stop: threading.Event) -> dict[int, Any]:
    """SIGINT/SIGTERM set ``stop`` (only possible in the main thread)."""
    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(sig, old)


def summary(sandbox: Sandbox, env_file: Path) -> Table:
    """What runs where, as a table."""
    info = sandbox.info
    world = sandbox.world
    spec = sandbox.spec
    strict = sandbox.strict_config
    title = "migrator sandbox (strict AWS)" if strict is not None else "migrator sandbox"
    table = Table(title=title, title_justify="left", show_header=True)
    table.add_column("part", overflow="fold")
    table.add_column("where", overflow="fold")
    table.add_column("notes", overflow="fold")
    if strict is None:
        table.add_row(
            "AWS API (moto)",
            info.moto_endpoint,
            f"region {spec.region}; ACM issues certificates after {sandbox.acm_delay:g} s",
        )
    else:
        table.add_row(
            "AWS API (moto, strict AWS)",
            info.moto_endpoint,
            f"region {spec.region}; strict AWS: {strict_notes(strict)}",
        )
    table.add_row(
        "DNS (authoritative)",
        f"{info.nameserver} udp+tcp",
        f"zone {spec.zone} live from Route 53; *.elb.amazonaws.com",
    )
    http_port = info.origin_http[1]
    for domain, host, instance_id, not_after in info.sites or [
        (spec.domain, info.origin_https[0], world.instance_id, info.origin_not_after)
    ]:
        table.add_row(
            f"origin {instance_id}",
            f"{host}:443 -> {host}:{info.https_port}\n{host}:80 -> {host}:{http_port}",
            f"https://{domain}/ (Sandbox Origin CA, expires {not_after[:10]})",
        )
    first, last = info.lb_addresses[0], info.lb_addresses[-1]
    table.add_row(
        "load balancers",
        f"{first} .. {last}\n:443 -> :{info.https_port}, :80 -> :{info.http_port}",
        "one address per ALB in creation order; serves its listeners while moto has them",
    )
    table.add_row("CA bundle", info.ca_bundle, "Sandbox Origin CA + Amazon (sandbox) CA")
    table.add_row("environment", str(env_file), "export lines; source it in another shell")
    return table


def strict_notes(config: StrictConfig) -> str:
    """The strict world's delays, in one line for the summary."""
    return (
        f"new resources unseen for {config.ec2_visibility:g} s, load balancers provisioning "
        f"{config.load_balancer_provisioning:g} s, health checks x{config.health_time_scale:g}, "
        f"ACM issues {config.acm_issue_delay:g} s after its CNAMEs exist, Route 53 INSYNC after "
        f"{config.route53_insync_delay:g} s"
        + (
            f", every {config.route53_throttle_every}th record change throttled"
            if config.route53_throttle_every
            else ""
        )
    )


def sandbox_up(
    env_file: str | None,
    acm_delay: float,
    console: Console,
    *,
    strict: bool = False,
    sites: int = 1,
) -> int:
    """Run the sandbox until SIGINT/SIGTERM; write ``env_file`` once it is up. Returns 0.

    ``strict``: the strict AWS world (``StrictConfig.demo()``, ``acm_delay`` as ACM's issuance
    delay once the validation records exist). ``sites``: how many sites the world holds (1:
    www.example.com alone; more: shop.example.com, blog.example.com, ... beside it)."""
    path = Path(env_file or DEFAULT_ENV_FILE)
    stop = threading.Event()
    previous = _install_signal_handlers(stop)

    def on_event(message: str) -> None:
        console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {escape(message)}")

    written: str | None = None
    try:
        with console.status("starting the sandbox (moto, world, origin, DNS, load balancers)"):
            sandbox = Sandbox(acm_delay=acm_delay, on_event=on_event, strict=strict, sites=sites)
            sandbox.start()
        try:
            written = render_env(sandbox.env)
            path.write_text(written)
            console.print(summary(sandbox, path))
            console.print(f"Up in {sandbox.startup_seconds:.1f} s. In another shell run")
            console.print(f"  [bold]source {escape(str(path))}[/]", soft_wrap=True)
            console.print("and use migrator as usual. Ctrl-C stops the sandbox.")
            while not stop.wait(0.5):
                pass
            console.print("stopping the sandbox ...")
        finally:
            sandbox.stop()
            if written is not None:
                with contextlib.suppress(OSError):
                    if path.read_text() == written:
                        path.unlink()
                        console.print(f"removed {escape(str(path))}")
    except Exception as exc:
        console.print(f"[bold red]error:[/] the sandbox failed: {escape(str(exc))}")
        return 1
    finally:
        _restore_signal_handlers(previous)
    console.print("sandbox stopped")
    return 0
