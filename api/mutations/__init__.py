"""Mutations, one module per area, each with its inputs and result unions."""
