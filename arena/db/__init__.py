"""Database layer: schema, engine and the repository of queries."""
