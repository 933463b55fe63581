"""``python -m synthvae`` runs the command line."""

from synthvae.cli import main

if __name__ == "__main__":
    main()
