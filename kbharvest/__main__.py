"""Entry point for ``python -m kbharvest``."""

from kbharvest.cli import main

if __name__ == "__main__":
    main()
