"""``python -m kiln``: the same command as the ``kiln`` script."""

from kiln.cli.main import app

if __name__ == "__main__":
    app()
