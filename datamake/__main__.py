"""`python -m datamake` runs the command line."""
from datamake.cli.entry import main

raise SystemExit(main())
