"""`python -m bot.knowledge check` — the same as `infomigra kb check`."""

import sys

from bot.cli import main

sys.exit(main(["kb", *sys.argv[1:]] if len(sys.argv) > 1 else ["kb", "check"]))
