"""Per-stage provider failover that retries the failed turn (see switcher.py for what Pipecat lacks)."""
