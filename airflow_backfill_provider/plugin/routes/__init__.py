"""The REST API's routers, one per resource (edge3's ``worker_api/routes`` is the model)."""
