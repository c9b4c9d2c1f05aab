"""Benchmarks: plain scripts that print numbers (`make bench`)."""
