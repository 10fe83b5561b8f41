"""Test support for the preflight tests: a DNS server over moto's zones with overrides, an HTTPS
origin with chosen answers and certificate, and a loopback guard."""
