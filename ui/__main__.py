"""`python -m ui [--host H] [--port P] [--index DIR]`: the chat app, as `rag serve` starts it."""

import sys

from rag.cli import main

sys.exit(main(["serve", *sys.argv[1:]]))
