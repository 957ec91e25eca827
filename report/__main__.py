"""`python -m report DIR [DIR ...]`: (re)write report.html in each session record folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from report.render import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m report", description=__doc__)
    parser.add_argument("records", nargs="+", type=Path, help="session record folder(s), e.g. sessions/<id>")
    args = parser.parse_args(argv)
    status = 0
    for folder in args.records:
        if not folder.is_dir():
            print(f"report: {folder} is not a session record folder", file=sys.stderr)
            status = 2
            continue
        print(write_report(folder))
    return status


if __name__ == "__main__":
    sys.exit(main())
