"""The network: DNS, TLS and HTTP as the checks need them, configured only by the standard
variables (MIGRATOR_NAMESERVERS, MIGRATOR_CONNECT_TO, MIGRATOR_CA_BUNDLE)."""
