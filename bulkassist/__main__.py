"""`python -m bulkassist`: the `bulkassist` command line."""

from bulkassist.cli import main

if __name__ == "__main__":
    main()
