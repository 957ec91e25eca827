"""Our frame processors: latency probe, echo gate, phase tracker, interview evaluator.

Each knows frames, not transports or sessions; they report through `processors.events.EventSink`.
"""
