"""What extends singer-sdk's run loop: messages, state, concurrency, signals, inputs.

Everything that changes *how* the SDK runs the streams rather than *what* they read:
message volume and encoding, state partitions and pruning, ACTIVATE_VERSION after
complete streams, concurrent prefetching, progress and quota plans, clean shutdown,
command-line inputs and log levels, ``account_id`` on every row. Every override of a
private singer-sdk hook lives in :mod:`tap_fivetran_meta.runtime.sdk_hooks`.
Imports ``api`` and ``rules``, never the streams or the Tap.
"""
