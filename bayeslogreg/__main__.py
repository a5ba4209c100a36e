"""Allow ``python -m bayeslogreg``."""

import sys

from bayeslogreg.cli import main

sys.exit(main())
