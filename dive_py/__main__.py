"""``python -m dive_py`` runs the same command as the ``divepy`` script."""

from dive_py.cli import main

if __name__ == "__main__":
    main()
