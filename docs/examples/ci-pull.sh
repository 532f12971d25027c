#!/usr/bin/env bash
# One incremental pull of a Fivetran account's metadata into a warehouse, for a CI job or
# cron: tap-fivetran-meta | a Singer target, then keep the last STATE the target confirmed.
#
#   STATE_FILE=state.json TARGET=target-postgres ./ci-pull.sh
#
# Settings come from the environment only (put secrets in the CI's secret store, never in
# files): TAP_FIVETRAN_META_API_KEY, TAP_FIVETRAN_META_API_SECRET and any other
# TAP_FIVETRAN_META_* setting for the tap, and the target's own variables (for
# target-postgres: TARGET_POSTGRES_HOST, _PORT, _USER, _PASSWORD, _DATABASE,
# _DEFAULT_TARGET_SCHEMA). Both run with --config ENV.
#
# STATE_FILE (default state.json) is read if it exists and replaced only after the
# whole pipeline succeeded, by the last state the target wrote: the target writes a state
# after it has committed the records before it, so the file never claims more than the
# warehouse holds. Exit code: 0 when both programs succeeded; otherwise the first
# failure's (1 for any failure the tap reports; a failed run keeps the previous state).
set -euo pipefail

STATE_FILE=${STATE_FILE:-state.json}
TARGET=${TARGET:-target-postgres}

state_args=()
if [ -s "$STATE_FILE" ]; then
  state_args=(--state "$STATE_FILE")
fi

confirmed=$(mktemp "${STATE_FILE}.XXXXXX")
trap 'rm -f "$confirmed"' EXIT

tap-fivetran-meta --config ENV "${state_args[@]}" | "$TARGET" --config ENV >"$confirmed"

last_state=$(grep -v '^[[:space:]]*$' "$confirmed" | tail -n 1 || true)
if [ -n "$last_state" ]; then
  printf '%s\n' "$last_state" >"$STATE_FILE.new"
  mv "$STATE_FILE.new" "$STATE_FILE"
  echo "ci-pull: state saved to $STATE_FILE" >&2
else
  echo "ci-pull: the target confirmed no state; $STATE_FILE left as it was" >&2
fi
