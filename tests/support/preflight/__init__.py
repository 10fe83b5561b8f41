"""Test support for the preflight tests: a DNS server over moto's zones with overrides, and an
HTTPS origin with chosen answers and certificate (the shared tests/web_server.py server). The
loopback guard is tests/loopback.py."""
