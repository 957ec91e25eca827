"""Our custom frames, in one place (as Pipecat's ``pipecat.frames.frames``): see ``frames.interview_frames``."""
