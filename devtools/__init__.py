"""Helpers shared by tests, benchmarks and scripts: start/stop real servers by PID."""
