"""REST transport: FastAPI routers that parse, call a service, and shape the answer."""
