"""``python -m api [--host H] [--port P]``: serve the API."""

from __future__ import annotations

import argparse

from api.main import run


def main() -> None:
    """Parse ``--host``/``--port`` and serve."""
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    run(args.host, args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
