"""Operating socialdesk beside other services: Prometheus metrics (``metrics.py``, the
database gauges read at scrape time in ``gauges.py``), liveness and readiness
(``health.py``) and logs that carry the request, ticket and account in scope
(``logs.py``; not ``logging.py``, which would shadow the standard library). Lower
layers call the small recording functions here; nothing here imports ``web``.
"""
