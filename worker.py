"""Entry point for the worker process (Procfile ``worker``): ``python worker.py [N]``."""
import sys

from bot.errors import ConfigError
from bot.worker import main

if __name__ == "__main__":
    try:
        main(workers=int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    except ConfigError as exc:
        sys.stderr.write(f"Qingche worker cannot start: configuration error: {exc}\n")
        sys.exit(2)
