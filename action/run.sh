#!/usr/bin/env bash
# The gridops action's main step (action.yml): runs `gridops COMMAND ARG...` and writes the
# step outputs. ARGs come one per line of the `args` input: never split on spaces, never
# expanded by a shell (no globs, no $(...)). Blank lines are skipped.
#
# Environment: GRIDOPS_COMMAND (validate, plan, apply or drift), GRIDOPS_ARGS, GRIDOPS_ON_DRIFT
# (failure or success: what exit 2, "live differs from git", does to the step), GITHUB_OUTPUT,
# RUNNER_TEMP. Exits with gridops' exit code, except 2 with GRIDOPS_ON_DRIFT=success (0).
set -uo pipefail

case "${GRIDOPS_COMMAND:-}" in
  validate|plan|apply|drift) ;;
  *) echo "::error title=gridops::the command input must be validate, plan, apply or drift"
     exit 1 ;;
esac
case "${GRIDOPS_ON_DRIFT:-failure}" in
  failure|success) ;;
  *) echo "::error title=gridops::the on-drift input must be failure or success"
     exit 1 ;;
esac

args=()
plan_json=""
after_out=false
while IFS= read -r line || [ -n "$line" ]; do
  line="${line%$'\r'}"
  if [[ "$line" =~ ^[[:space:]]*$ ]]; then continue; fi
  if "$after_out"; then plan_json="$line"; after_out=false; fi
  case "$line" in
    --out) after_out=true ;;
    --out=*) plan_json="${line#--out=}" ;;
  esac
  args+=("$line")
done <<< "${GRIDOPS_ARGS:-}"

# plan and drift save their plan for the outputs (and for the caller: the plan-json output).
if [ -z "$plan_json" ] && { [ "$GRIDOPS_COMMAND" = plan ] || [ "$GRIDOPS_COMMAND" = drift ]; }
then
  plan_json="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/gridops-plan.json"
  args+=(--out "$plan_json")
fi
if [ -n "$plan_json" ]; then rm -f -- "$plan_json"; fi

status=0
gridops "$GRIDOPS_COMMAND" "${args[@]}" || status=$?

# -P: the working directory (the calling repository) is not put on the import path, so a
# folder there named like a gridops module is never imported.
python -P -m reconciler.github.action_outputs --exit-code "$status" --plan "$plan_json" \
  >> "${GITHUB_OUTPUT:-/dev/null}"

if [ "$status" -eq 2 ] && [ "${GRIDOPS_ON_DRIFT:-failure}" = success ]; then
  echo "gridops: live differs from git (exit 2); on-drift: success"
  exit 0
fi
exit "$status"
