"""`python -m datamake` runs the command line."""
from datamake.cli.main import main

raise SystemExit(main())
