"""Benchmarks: indexing, retrieval (shipped and synthetic collections), answering, concurrency.

Each module is a script (`python -m bench.<name>`) that writes `bench/results/<name>.json`;
`python -m bench.run_all` (`make bench`) runs them one by one in fresh processes, so peak memory
is measured per benchmark, then writes `bench/results/SUMMARY.md` and the plots.
"""
