"""Loopback test doubles for the verification library: certificates (on migrator_sandbox.pki),
a misbehaving DNS responder (on migrator_sandbox.dns_server) and the pytest fixtures that start
them with the shared HTTP(S) test server (tests/web_server.py) under the loopback guard
(tests/loopback.py)."""
