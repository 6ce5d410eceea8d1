"""`python -m bulkassist`: the `bulkassist` command line (the same commands, help and exit codes)."""

from bulkassist.cli import main

if __name__ == "__main__":
    main(prog_name="bulkassist")
