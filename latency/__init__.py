"""Latency of a session: one observer stamps each turn's moments (observer.py), the tracker turns them into
per-turn records, p50/p95 against the budget and latency.json (tracker.py), and a circuit breaker opens
after repeated budget failures (circuit_breaker.py). Nothing here is a frame processor."""
