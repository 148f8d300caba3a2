"""``python -m sandbox``: see :func:`sandbox.cli.main`."""

import sys

from sandbox.cli import main

sys.exit(main())
