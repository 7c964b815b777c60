"""`python -m verwijsindex ...`, the same as the `verwijsindex` command."""

from verwijsindex.cli import main

main()
