"""What the tests share: fixtures (registered in tests/conftest.py through ``pytest_plugins``),
fakes (a clock, loopback servers, a DNS server, a PKI) and ready-made snapshots and plans.
Tests import helpers from here, never from one another; ``bench/`` may import it too."""
