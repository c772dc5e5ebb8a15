"""schemathesis against the merged OpenAPI on the running system (loopback, bounded examples):
no server error anywhere, every success matching its documented schema, and every error in the
one shape of the contract.

(schemathesis' own pytest plugin does not run under pytest 9 yet, so this drives its
generator directly: one bounded hypothesis run per operation.)"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from devstack.client import Client
from tests.e2e.conftest import PASSWORD

EXAMPLES_PER_OPERATION = 6


def test_no_server_error_and_errors_in_one_shape(stack):
    token = Client(stack.url()).register("fuzz_resident", PASSWORD, "Fuzz", "resident").token
    schema = schemathesis.openapi.from_url(f"{stack.url()}/openapi.json")
    counts = {"operations": 0, "calls": 0, "errors": 0}
    problems: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()
        counts["operations"] += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case):
            response = case.call(base_url=stack.url(), headers={"Authorization": f"Bearer {token}"}, timeout=10)
            counts["calls"] += 1
            where = f"{case.method} {case.formatted_path}"
            if response.status_code < 400:
                try:
                    case.validate_response(response, checks=[response_schema_conformance])
                except Exception as error:  # schemathesis raises a group of check failures
                    problems.append(f"{where} -> {response.status_code} does not match its schema: {error}"[:400])
            if response.status_code >= 500:
                problems.append(f"{where} -> {response.status_code}: {response.text[:200]}")
            elif response.status_code >= 400:
                counts["errors"] += 1
                try:
                    body = response.json()
                except ValueError:
                    body = None
                if not (isinstance(body, dict) and set(body) == {"error"}
                        and {"code", "message", "details"} <= set(body["error"])):
                    problems.append(f"{where} -> {response.status_code} not in the error shape: {response.text[:200]}")

        call()

    print(f"schemathesis: {counts['operations']} operations, {counts['calls']} calls, "
          f"{counts['errors']} refused with a 4xx, {len(problems)} problems")
    assert counts["operations"] >= 30
    assert not problems, "\n".join(problems[:20])
