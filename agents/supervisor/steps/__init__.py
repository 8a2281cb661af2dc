"""Built-in workflow steps. Each is a small `Step` built with the services it needs."""
