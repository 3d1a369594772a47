#!/usr/bin/env bash
# `make audit`: known vulnerabilities in the locked Python packages and in the npm packages.
# Usage: scripts/audit.sh PIP_AUDIT LOCK_FILE
# Exit 0 only when every package was checked and none has a known vulnerability. A package that could not be
# checked (the advisory service did not answer) fails the audit too: never a silent pass.
set -uo pipefail
pip_audit=$1
lock=$2
status=0

echo "== Python: pip-audit over $lock (PyPI's advisories; every pin of requirements.lock is in it)"
json=$("$pip_audit" --disable-pip --require-hashes -r "$lock" --progress-spinner off --format json 2>/dev/null)
if [ -z "$json" ]; then
  "$pip_audit" --disable-pip --require-hashes -r "$lock" --progress-spinner off  # say why, in its words
  status=1
else
  python3 - "$json" <<'PY' || status=1
import json, sys

report = json.loads(sys.argv[1])
checked = [d for d in report["dependencies"] if "skip_reason" not in d]
skipped = [d for d in report["dependencies"] if "skip_reason" in d]
findings = [(d["name"], d["version"], v) for d in checked for v in d.get("vulns", [])]
for name, version, vuln in findings:
    fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
    print(f"  {name} {version}: {vuln['id']} (fixed in {fixed})")
print(f"{len(checked)} packages checked, {len(findings)} known vulnerabilities; {len(skipped)} could not be checked")
if skipped:
    print("  e.g. " + "; ".join(d["skip_reason"] for d in skipped[:2]))
    print("  (pip-audit reads PyPI's per-release JSON; where it does not answer, nothing is known either way)")
sys.exit(1 if findings or skipped else 0)
PY
fi

echo
echo "== npm: npm audit over package-lock.json (the registry's advisories)"
npm audit || status=1

echo
if [ "$status" -eq 0 ]; then
  echo "audit: every locked package checked, no known vulnerabilities"
else
  echo "audit: FAILED — the findings, or the packages that could not be checked, are above"
fi
exit "$status"
