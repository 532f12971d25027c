"""Pure rules and tables: no I/O, no singer-sdk, nothing from the other layers.

Health and freshness, sync outcomes, read windows, status fingerprints, schema-config
flattening and change detection, lineage naming, secret redaction, filters, time
parsing, config checks, item shapes. Each module has table-driven or property tests.
"""
