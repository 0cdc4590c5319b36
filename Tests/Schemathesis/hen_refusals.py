"""A schemathesis check for Hen Backup's API (loaded with SCHEMATHESIS_HOOKS by
FaultSuiteTests.schemathesisFindsNothingWrongWithTheAPI; see schemathesis.toml beside it).

schemathesis.toml lets positive_data_acceptance accept a 400 or 422 on the few operations whose
documented refusals no schema can express (a cursor this server never gave out, a restore target
outside restore.allowed_targets, a repository the backup does not use, a check's read_data_subset that is
none of the forms restic takes). This check takes back
everything else that allowance would let through: on those operations such a refusal of a
schema-valid request must be exactly the documented one, with its error code and its sentence.
"""

import os
import re

import schemathesis

CURSOR = ("bad_request", re.compile(r"^The cursor .* is not one this server gave", re.S))
NOT_USED = ("invalid_request", re.compile(r"^Backup .+ does not use repository ", re.S))
TARGET = [
    ("invalid_request", re.compile(r"^Restores through the API are turned off: restore\.allowed_targets", re.S)),
    ("invalid_request", re.compile(r"^Restores may only write below .+ is outside them", re.S)),
    ("invalid_request", re.compile(r"^The restore target .+ is a file, not a directory\.$", re.S)),
    ("invalid_request", re.compile(r"^The restore target .+ lies in a directory named \.hen-restore-", re.S)),
]
SUBSET = ("invalid_request", re.compile(r"^read_data_subset \".*\" for repository .+ is not a percentage \(5%\), a fraction \(1/10\) or a size \(500M\)\.$", re.S))

# Operation (as schemathesis labels it) -> status -> the refusals the document states for it.
DOCUMENTED = {
    "GET /jobs": {400: [CURSOR]},
    "GET /snapshots": {400: [CURSOR], 422: [NOT_USED]},
    "GET /repositories/{name}/snapshots/{id}/tree": {400: [CURSOR]},
    "GET /repositories/{name}/snapshots/{id}/diff": {400: [CURSOR]},
    "POST /backups/{name}/backup": {422: [NOT_USED]},
    "POST /restores": {422: TARGET},
    "POST /repositories/{name}/check": {422: [SUBSET]},
}


@schemathesis.check
def documented_refusal(ctx, response, case):
    """A schema-valid request refused with 400 or 422 on these operations is refused for the documented reason."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    expected = DOCUMENTED.get(case.operation.label, {}).get(response.status_code)
    if expected is None:
        return None
    try:
        error = response.json()["error"]
        code, message = error["code"], error["message"]
    except Exception as failure:
        raise AssertionError(f"A {response.status_code} without Hen's error body: {failure}") from None
    if not any(code == want and pattern.search(message) for want, pattern in expected):
        raise AssertionError(
            f"{case.operation.label} refused a schema-valid request with {response.status_code} {code}: {message!r}, "
            "which is not one of the refusals its documentation states"
        )
    # One line per judged refusal, for the test's figures (and to show that this check ran at all).
    log = os.environ.get("HEN_REFUSALS_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{case.operation.label} {response.status_code}\n")
    return None
