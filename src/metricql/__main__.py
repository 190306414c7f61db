"""`python -m metricql`: the CLI."""

from metricql.cli import main

raise SystemExit(main())
