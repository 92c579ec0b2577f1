"""``python -m imrgold``: the ``imrgold`` command."""

import sys

from imrgold.cli.main import main

sys.exit(main())
