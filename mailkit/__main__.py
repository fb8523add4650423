"""``python -m mailkit``: the same as the ``mailkit`` command."""

import sys

from .cli import main

sys.exit(main())
