"""Benchmarks run by hand (results in docs/benchmarks.md); the harness is shared with the integrity tests."""
