"""`python -m launcher`: serve the session launcher (settings from the environment and .env)."""

import sys

from launcher.app import main

sys.exit(main())
