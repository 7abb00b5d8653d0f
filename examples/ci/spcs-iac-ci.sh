#!/usr/bin/env bash
# The CI recipe's steps, so the workflow and its test run the same commands.
#
#   spcs-iac-ci.sh plan STACK PLANFILE   validate, then plan and save the plan (exit 0 either way; the
#                                        file's "changes" says whether there is anything to do)
#   spcs-iac-ci.sh apply PLANFILE        apply exactly the saved plan; refused when it is stale
#
# The state lives in the account (SPCS_IAC_STATE=snowflake://DATABASE.SCHEMA), so every runner sees the
# same state, and the lock in the account serialises applies: a second runner waits up to
# SPCS_IAC_LOCK_TIMEOUT seconds, then fails naming the holder. No CI concurrency setting is needed.
set -euo pipefail
: "${SPCS_IAC_STATE:?set SPCS_IAC_STATE=snowflake://DATABASE.SCHEMA (the state in the account)}"
lock_timeout="${SPCS_IAC_LOCK_TIMEOUT:-900}"
spcs_iac=(${SPCS_IAC_CMD:-spcs-iac})

case "${1:-}" in
  plan)
    stack="${2:?stack file}"; out="${3:?plan file}"
    "${spcs_iac[@]}" validate "$stack"
    "${spcs_iac[@]}" plan "$stack" --target snowflake --out "$out"
    ;;
  apply)
    plan="${2:?plan file}"
    "${spcs_iac[@]}" apply "$plan" --lock-timeout "$lock_timeout"
    ;;
  *)
    echo "usage: $0 plan STACK PLANFILE | apply PLANFILE" >&2
    exit 2
    ;;
esac
