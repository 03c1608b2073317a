"""``python -m aiev_agents.cli``: the ``aiev`` command."""

import sys

from . import main

sys.exit(main())
