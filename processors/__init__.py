"""Our frame processors: echo gate, phase tracker, interrupted reply, resumed answer, filler speech, evaluator taps.

Each knows frames, not transports or sessions; they report through `processors.events.EventSink`.
"""
