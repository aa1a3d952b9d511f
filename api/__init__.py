"""smsauth's GraphQL API: schema, resolvers, the ASGI app and the command line."""
