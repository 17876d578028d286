"""Benchmarks of the platform: ``python -m bench`` (or ``make bench``) prints its figures.

It fills a dedicated PostgreSQL database (``aap_bench``) with hundreds of calls, counts
the SQL queries of the main pages for two sizes of data, serves the platform with
gunicorn and measures the throughput and latency of its public pages against a bare
Django view served by the same processes. Figures go to stdout and to ``var/bench/``.
"""
