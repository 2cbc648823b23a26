import sys

from groot_ops.cli.main import main

sys.exit(main())
