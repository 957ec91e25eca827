"""Our frame processors: echo gate, phase tracker, interrupted reply, resumed answer, filler speech, keypad, recorder.

Each knows frames, not transports or sessions; they report through `processors.events.EventSink`.
"""
