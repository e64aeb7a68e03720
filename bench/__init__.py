"""Benchmarks (``make bench``): latency, throughput and memory of the APIs on this machine."""
