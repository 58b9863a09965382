"""The service layer: what the API, the UI and the CLI call to work with tickets.

It loads views from the store, asks the engine (`komunikator.engine.runtime`)
what may happen, and applies the outcome in one transaction.
"""
