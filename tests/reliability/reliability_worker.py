"""A separate process that imports JSON Lines files, one transaction per file.

Run by the concurrency and crash tests as
``python reliability_worker.py CONFIG.json FILE...``: it opens a toolkit on
the config and imports each file in turn, printing ``done N`` after file N is
committed. Any error is printed on standard error and ends the process with
status 2 (a user error) or 1 (anything else), as the command line would.
"""

from __future__ import annotations

import sys
import traceback

import partygraph


def run(config: str, files: list[str]) -> int:
    try:
        with partygraph.open(config) as toolkit:
            for number, path in enumerate(files, start=1):
                toolkit.import_jsonl(path)
                print(f"done {number}", flush=True)
    except partygraph.UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2:]))
