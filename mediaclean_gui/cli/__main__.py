"""``python -m mediaclean_gui.cli``: the ``mediaclean`` command."""

from . import main

raise SystemExit(main())
