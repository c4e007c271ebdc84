"""The bundle's ``mediaclean``: the command line, as the ``mediaclean`` entry point starts it."""

from mediaclean_gui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
