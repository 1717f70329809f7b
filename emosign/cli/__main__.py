"""``python -m emosign.cli``: the ``emosign`` command."""

import sys

from emosign.cli import main

sys.exit(main())
