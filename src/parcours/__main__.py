"""``python -m parcours``."""

import sys

from parcours.cli import main

sys.exit(main())
