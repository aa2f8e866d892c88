"""``python -m videopipe`` works like the ``videopipe`` command."""

import sys

from videopipe.cli import main

sys.exit(main())
