"""Baton's domain: records, tables, store, queries, costs, failures and resume export."""

__version__ = "0.1.0"
