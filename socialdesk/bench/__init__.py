"""Benchmarks behind ``socialdesk bench``: each prints its figure beside a baseline
measured in the same run, on the same database."""
