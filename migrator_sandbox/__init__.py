"""The sandbox: a local rehearsal world on loopback (moto as AWS, with the strict AWS world on
top, an authoritative DNS server, the site's origin and a load balancer data plane).

It is a package of its own, shipped with the `sandbox` extra: migrator itself never imports it
(it adds the `sandbox` and `demo` commands through the `migrator.commands` entry points), and
the core reads only the standard variables the sandbox exports.
"""
