"""Benchmarks of the platform: ``python -m bench`` (or ``make bench``) prints its figures.

It fills a dedicated PostgreSQL database (``aap_bench``) with hundreds of calls and tens
of thousands of dossiers, counts the SQL queries of the main pages for two sizes of data,
serves the platform with gunicorn and measures the throughput and latency of its public
and staff pages against a bare Django view served by the same processes. Then, on a call
opened for the bench, a deadline rush (candidates logging in, uploading real files and
submitting at the same instant, checked in the database afterwards) and the memory of the
workers while a 50 MB file is uploaded. Figures go to stdout and to ``var/bench/``.
"""
