"""Benchmarks for verwijsindex, run on the project's own 2-core machine against loopback only.

``python -m bench.signals`` is the entry point; see ``bench/README.md``.
"""
