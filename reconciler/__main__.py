"""`python -m reconciler` runs the ftctl command line."""

from reconciler.cli import main

if __name__ == "__main__":
    main()
