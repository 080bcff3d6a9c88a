#!/usr/bin/env bash
# The scratch-org pipeline: the checks that need a real Salesforce org.
#
#   With a Dev Hub (SF_DEVHUB_AUTH_URL, an sfdx auth URL as printed by
#   `sf org display --verbose --json` → sfdxAuthUrl; or a Dev Hub already authenticated
#   under the alias $SF_DEVHUB_ALIAS, default "inbox-bridge-devhub"):
#   1. creates a scratch org from config/project-scratch-def.json (namespace from sfdx-project.json),
#   2. builds the components (TypeScript → JavaScript) and deploys force-app with the unpackaged
#      Apex tests (force-app-tests); the External Client App's contact email comes from
#      $INBOX_BRIDGE_PUBLISHER_EMAIL (a throwaway address for scratch orgs when it is unset),
#   3. runs the Apex tests with code coverage and fails below $APEX_COVERAGE_MIN percent (90),
#      before the admin holds any of the package's permission sets, as in a version's build org:
#      the tests must get their access from the personas they create, not from the admin,
#   4. assigns the three permission sets to the scratch org's admin (the bridge's tests sign in as
#      the admin, who must write the helpdesk fields like the integration user),
#   5. runs the bridge's real-org integration tests (relation-bridge/test/real-org) against the
#      same org, and fails if they did not run,
#   6. deletes the scratch org, whatever happened before (trap).
#   Without a Dev Hub it says that it skipped and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

export SF_DISABLE_TELEMETRY=true SF_AUTOUPDATE_DISABLE=true SF_SKIP_NEW_VERSION_CHECK=true SF_USE_PROGRESS_BAR=false
sf() { node node_modules/@salesforce/cli/bin/run.js "$@"; }
json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];process.stdout.write(v==null?"":String(v))})' "$1"; }

devhub_alias="${SF_DEVHUB_ALIAS:-inbox-bridge-devhub}"
scratch_alias="inbox-bridge-scratch-$(date +%s)-$$"
coverage_min="${APEX_COVERAGE_MIN:-90}"
work_dir="$(mktemp -d)"

if [[ -n "${SF_DEVHUB_AUTH_URL:-}" ]]; then
  printf '%s' "$SF_DEVHUB_AUTH_URL" > "$work_dir/devhub-auth-url"
  if ! sf org login sfdx-url --sfdx-url-file "$work_dir/devhub-auth-url" --alias "$devhub_alias" --json \
    > "$work_dir/login.json" 2> /dev/null; then
    echo "Dev Hub login with SF_DEVHUB_AUTH_URL failed: $(json_field message < "$work_dir/login.json")" >&2
    rm -rf "$work_dir"
    exit 1
  fi
  rm -f "$work_dir/devhub-auth-url" "$work_dir/login.json"
elif ! sf org display --target-org "$devhub_alias" --json > /dev/null 2>&1; then
  echo "Scratch-org pipeline SKIPPED: no Dev Hub is configured."
  echo "  Set SF_DEVHUB_AUTH_URL (an sfdx auth URL of the Dev Hub), or log in to the Dev Hub with"
  echo "  'sf org login web --alias $devhub_alias --set-default-dev-hub' (or set SF_DEVHUB_ALIAS)."
  rm -rf "$work_dir"
  exit 0
fi

delete_scratch_org() {
  local status=$?
  echo "== deleting scratch org $scratch_alias"
  if ! sf org delete scratch --target-org "$scratch_alias" --no-prompt --json > /dev/null 2>&1; then
    echo "   (nothing to delete, or the delete failed: check 'sf org list --all' on the Dev Hub)"
  fi
  rm -rf "$work_dir"
  exit "$status"
}
trap delete_scratch_org EXIT

echo "== creating scratch org $scratch_alias"
sf org create scratch --definition-file config/project-scratch-def.json --alias "$scratch_alias" \
  --target-dev-hub "$devhub_alias" --duration-days 1 --wait 30 --json > "$work_dir/create.json"

echo "== building the components and deploying force-app and force-app-tests"
export INBOX_BRIDGE_PUBLISHER_EMAIL="${INBOX_BRIDGE_PUBLISHER_EMAIL:-scratch-org@inbox-bridge.example.com}"
node scripts/lwc-build.mjs
sf project deploy start --source-dir force-app --source-dir force-app-tests --target-org "$scratch_alias" --wait 60

echo "== running the Apex tests as the admin has them after a deploy: no package permission set (coverage gate: ${coverage_min}%)"
set +e
sf apex run test --target-org "$scratch_alias" --test-level RunLocalTests --code-coverage \
  --result-format json --output-dir "$work_dir/apex-tests" --wait 60 --json > "$work_dir/apex-tests.json"
set -e
node - "$work_dir/apex-tests.json" "$coverage_min" <<'NODE'
const [file, minimum] = process.argv.slice(2);
const run = JSON.parse(require('node:fs').readFileSync(file, 'utf8'));
const summary = run.result?.summary;
if (!summary) {
  console.error(`Apex tests did not run: ${run.message ?? JSON.stringify(run)}`);
  process.exit(1);
}
for (const test of run.result.tests ?? []) {
  if (test.Outcome !== 'Pass') console.error(`FAILED ${test.FullName}: ${test.Message}\n${test.StackTrace ?? ''}`);
}
const coverage = Number.parseFloat(summary.orgWideCoverage);
const classes = run.result.coverage?.coverage ?? [];
for (const entry of classes) console.log(`  ${String(entry.coveredPercent).padStart(3)}%  ${entry.name}`);
console.log(`Apex tests: ${summary.outcome}, ${summary.passing} passed, ${summary.failing} failed; org-wide coverage ${summary.orgWideCoverage}`);
if (summary.outcome !== 'Passed' || Number(summary.failing) > 0) process.exit(1);
if (!(coverage >= Number(minimum))) {
  console.error(`Apex coverage ${coverage}% is below the ${minimum}% gate`);
  process.exit(1);
}
NODE

echo "== assigning the permission sets"
sf org assign permset --name Inbox_Bridge_Admin --name Inbox_Bridge_Sales_Rep --name Inbox_Bridge_Integration \
  --target-org "$scratch_alias"

echo "== running the bridge's real-org integration tests against the same org"
sf org display --target-org "$scratch_alias" --json > "$work_dir/org.json"
SF_REAL_INSTANCE_URL="$(json_field result.instanceUrl < "$work_dir/org.json")"
SF_REAL_ACCESS_TOKEN="$(json_field result.accessToken < "$work_dir/org.json")"
SF_REAL_NAMESPACE="$(json_field namespace < sfdx-project.json)"
SF_REAL_API_VERSION="$(json_field sourceApiVersion < sfdx-project.json)"
rm -f "$work_dir/org.json"
if [[ -z "$SF_REAL_INSTANCE_URL" || -z "$SF_REAL_ACCESS_TOKEN" ]]; then
  echo "sf org display gave no instance URL or access token for $scratch_alias" >&2
  exit 1
fi
if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then echo "::add-mask::$SF_REAL_ACCESS_TOKEN"; fi
export SF_REAL_INSTANCE_URL SF_REAL_ACCESS_TOKEN SF_REAL_NAMESPACE SF_REAL_API_VERSION
set +e
npx jest --selectProjects bridge --testPathPattern 'relation-bridge/test/real-org/' \
  --json --outputFile="$work_dir/real-org.json"
set -e
# The real-org tests skip themselves without an org: here a skipped test is a failure.
node - "$work_dir/real-org.json" <<'NODE'
const results = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8'));
console.log(
  `Bridge real-org tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ` +
    `${results.numPendingTests} skipped`,
);
if (!results.success || results.numTotalTests === 0 || results.numPendingTests > 0) process.exit(1);
NODE

echo "Scratch-org pipeline passed."
