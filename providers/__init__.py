"""SMS gateway providers: each turns a message into a provider request and the reply into a result.

Nothing in this package touches the database; see ``providers/README.md`` for the interface.
"""
