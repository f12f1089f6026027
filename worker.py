"""Entry point for the worker process (Procfile ``worker``): ``python worker.py [N]``."""
import sys

from bot.worker import main

if __name__ == "__main__":
    main(workers=int(sys.argv[1]) if len(sys.argv) > 1 else 1)
