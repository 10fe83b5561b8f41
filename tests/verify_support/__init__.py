"""Loopback test doubles for the verification library: a small PKI, HTTP(S)
servers, a DNS responder and a guard that keeps every packet on 127.0.0.0/8."""
