"""Receive Fivetran webhooks into a local SQLite inbox that the tap reads.

The pieces:

* :mod:`.signature` checks ``X-Fivetran-Signature-256``;
* :mod:`.events` turns a delivery body into the columns the inbox keeps;
* :mod:`.store` is the SQLite inbox (written by the receiver, read by the tap), with
  its identity and write health;
* :mod:`.inbox_errors` says exactly what is wrong with an inbox path or file;
* :mod:`.ratelog` logs repeated problems once per kind, not once per occurrence;
* :mod:`.receiver` is the HTTP server (connection limit, one deadline per request);
* :mod:`.register` creates webhooks through the Fivetran REST API;
* :mod:`.sender` posts signed sample deliveries (``send-test``);
* :mod:`.cli` is the ``tap-fivetran-meta-webhooks`` command.
"""

from __future__ import annotations
