"""`python -m cae_helpers`: see cae_helpers.cli."""

import sys

from .cli import run

sys.exit(run())
