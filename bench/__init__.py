"""Benchmarks: each ``bench_*.py`` reports ratios against a baseline measured in the same run."""
