"""One module per page: `layout(...)` builds it, `register(app, client)` adds its callbacks."""
