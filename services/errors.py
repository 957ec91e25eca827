"""The services' configuration error, shared by the provider factory and the scorer.

Both stop a session before it starts when a choice names a provider whose setting is missing;
startup checks (`bots/startup_checks.py`) catch this one class for either.
"""

from __future__ import annotations


class ProviderConfigError(ValueError):
    """A provider was chosen (forced `cloud`, or `evaluation.scorer: llm`) without the setting it needs."""
