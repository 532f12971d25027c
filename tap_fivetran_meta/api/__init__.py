"""Talking to Fivetran's REST API: errors, envelopes, paging, the request budget, transport.

The HTTP side only: what a response means (``payload``, ``errors``), how lists page
(``pagination``), how many requests may leave and when (``ratelimit``), and how bytes
arrive safely (``transport``, ``redirects``, ``http_session``). Imports only ``rules``.
"""
