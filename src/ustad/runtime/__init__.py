"""The performance layer: bounded executor, caches with statistics, timings."""
