"""``python -m partygraph.cli``: the same as the ``partygraph`` command."""

from partygraph.cli import main

raise SystemExit(main())
