"""Our frame processors, one per file: echo gate, latency probe, interview evaluator, phase tracker,
interrupted reply, resumed answer, filler speech, keypad, recorder.

Each knows frames, not transports or sessions; they report through an `EventSink`. Where each sits in the
pipeline: `pipelines/interview.py`; why each exists: docs/architecture.md.
"""
