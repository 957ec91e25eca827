"""Latency of a session: the per-turn tracker (stage durations, p50/p95 against the budget, latency.json)
and the circuit breaker that opens after repeated budget failures. Not frame processors: the probes in
processors/latency_probe.py feed them."""
