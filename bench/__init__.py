"""Benchmarks against the speed and memory budgets in the design (100k and 1M GPUs).

Run with ``make bench``; timings are measured here, not asserted in tests.
"""
