"""Benchmarks: programs that print figures (``streamapp bench ...``), not timed tests."""
