"""Realtime subscriptions over SSE, as PocketBase's, delivered across processes and instances.

`broker` holds this process's clients, `bus` carries messages between processes through the
database, `fanout` decides who receives a record event, `hub` ties them together.
"""
