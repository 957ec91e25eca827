"""Latency of a session: the tracker the pipeline's LatencyProbes stamp (tracker.py, points.py), per-turn
records, p50/p95 against the budget and latency.json (turn_record.py, report.py), and a circuit breaker that
opens after repeated budget failures (circuit_breaker.py). The probes themselves are frame processors, in
processors/latency_probe.py; see docs/architecture.md (latency)."""
