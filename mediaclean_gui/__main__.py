"""``python -m mediaclean_gui``: open the window."""

from .gui.app import main

raise SystemExit(main())
