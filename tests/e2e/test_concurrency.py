"""Reserved concurrency (Put/Get/DeleteFunctionConcurrency) and provisioned concurrency configs."""

from __future__ import annotations

import pytest

from helpers import (
    LAST_MODIFIED_RE,
    create_function,
    expect_error,
    function_arn,
    status_of,
    unique,
    wait_ready,
)


def test_reserved_concurrency_lifecycle(lam, fn):
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=fn)
    put = lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=10)
    assert status_of(put) == 200
    assert put["ReservedConcurrentExecutions"] == 10
    assert lam.get_function_concurrency(FunctionName=fn)["ReservedConcurrentExecutions"] == 10
    assert lam.get_function(FunctionName=fn)["Concurrency"] == {"ReservedConcurrentExecutions": 10}

    put = lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)
    assert put["ReservedConcurrentExecutions"] == 0
    assert lam.get_function_concurrency(FunctionName=fn)["ReservedConcurrentExecutions"] == 0

    d = lam.delete_function_concurrency(FunctionName=fn)
    assert status_of(d) == 204
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=fn)
    assert "Concurrency" not in lam.get_function(FunctionName=fn)


def test_reserved_concurrency_through_arn(lam, fn):
    lam.put_function_concurrency(FunctionName=function_arn(fn), ReservedConcurrentExecutions=3)
    assert lam.get_function_concurrency(FunctionName=fn)["ReservedConcurrentExecutions"] == 3
    lam.delete_function_concurrency(FunctionName=fn)


def test_reserved_concurrency_above_unreserved_minimum(lam, fn):
    # the account limit is 1000 and at least 100 must stay unreserved
    expect_error(lambda: lam.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=1000),
                 "InvalidParameterValueException", 400)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=fn)


def test_reserved_concurrency_on_qualified_name(lam, fn):
    lam.publish_version(FunctionName=fn)
    expect_error(lambda: lam.put_function_concurrency(FunctionName=f"{fn}:1", ReservedConcurrentExecutions=1),
                 "InvalidParameterValueException", 400,
                 "This operation is permitted on Lambda functions only. Aliases and versions do not support "
                 "this operation.")


def test_reserved_concurrency_missing_function(lam):
    name = unique("missing")
    expect_error(lambda: lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1),
                 "ResourceNotFoundException", 404)
    expect_error(lambda: lam.get_function_concurrency(FunctionName=name), "ResourceNotFoundException", 404,
                 f"Function not found: {function_arn(name)}")
    expect_error(lambda: lam.delete_function_concurrency(FunctionName=name), "ResourceNotFoundException", 404)


# -- provisioned concurrency ----------------------------------------------------------------------

@pytest.fixture
def published(lam, cleanup):
    name = unique()
    cleanup.append(name)
    create_function(lam, name)
    wait_ready(lam, name)
    lam.publish_version(FunctionName=name)
    return name


def test_provisioned_concurrency_lifecycle(lam, published):
    name = published
    put = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1",
                                                 ProvisionedConcurrentExecutions=2)
    assert status_of(put) == 202
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    assert put["Status"] in ("IN_PROGRESS", "READY")
    assert 0 <= put["AllocatedProvisionedConcurrentExecutions"] <= 2
    assert 0 <= put["AvailableProvisionedConcurrentExecutions"] <= 2
    assert LAST_MODIFIED_RE.match(put["LastModified"]), put["LastModified"]

    got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    assert got["RequestedProvisionedConcurrentExecutions"] == 2
    assert got["Status"] in ("IN_PROGRESS", "READY")

    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert len(listed) == 1
    assert listed[0]["FunctionArn"] == function_arn(name, "1")
    assert listed[0]["RequestedProvisionedConcurrentExecutions"] == 2

    d = lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    assert status_of(d) == 204
    expect_error(lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1"),
                 "ProvisionedConcurrencyConfigNotFoundException", 404,
                 "No Provisioned Concurrency Config found for this function")
    assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []


def test_provisioned_concurrency_on_alias(lam, published):
    name = published
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    put = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live",
                                                 ProvisionedConcurrentExecutions=1)
    assert put["RequestedProvisionedConcurrentExecutions"] == 1
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"] for c in listed] == [function_arn(name, "live")]
    # the version behind a provisioned alias cannot get its own config
    expect_error(lambda: lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1",
                                                                ProvisionedConcurrentExecutions=1),
                 "ResourceConflictException", 409)
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")


def test_provisioned_concurrency_update_replaces(lam, published):
    name = published
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=3)
    got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    assert got["RequestedProvisionedConcurrentExecutions"] == 3
    assert len(lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]) == 1
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")


PC_ERRORS = {
    "put-on-latest": (
        lambda lam, n: lam.put_provisioned_concurrency_config(FunctionName=n, Qualifier="$LATEST",
                                                              ProvisionedConcurrentExecutions=1),
        "InvalidParameterValueException", 400,
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions."),
    "get-on-latest": (
        lambda lam, n: lam.get_provisioned_concurrency_config(FunctionName=n, Qualifier="$LATEST"),
        "InvalidParameterValueException", 400,
        "The function resource provided must be an alias or a published version."),
    "get-unset": (
        lambda lam, n: lam.get_provisioned_concurrency_config(FunctionName=n, Qualifier="1"),
        "ProvisionedConcurrencyConfigNotFoundException", 404,
        "No Provisioned Concurrency Config found for this function"),
    "put-missing-version": (
        lambda lam, n: lam.put_provisioned_concurrency_config(FunctionName=n, Qualifier="10",
                                                              ProvisionedConcurrentExecutions=1),
        "ResourceNotFoundException", 404, "Function not found: {arn}:10"),
    "put-missing-alias": (
        lambda lam, n: lam.put_provisioned_concurrency_config(FunctionName=n, Qualifier="noalias",
                                                              ProvisionedConcurrentExecutions=1),
        "ResourceNotFoundException", 404, "Cannot find alias arn: {arn}:noalias"),
    "get-missing-alias": (
        lambda lam, n: lam.get_provisioned_concurrency_config(FunctionName=n, Qualifier="noalias"),
        "ResourceNotFoundException", 404, "Cannot find alias arn: {arn}:noalias"),
    "list-missing-function": (
        lambda lam, n: lam.list_provisioned_concurrency_configs(FunctionName=n + "-missing"),
        "ResourceNotFoundException", 404, "Function not found: {arn}-missing"),
}


@pytest.mark.parametrize("case", sorted(PC_ERRORS))
def test_provisioned_concurrency_errors(lam, published, case):
    call, code, status, message = PC_ERRORS[case]
    expect_error(lambda: call(lam, published), code, status, message.format(arn=function_arn(published)))


def test_provisioned_concurrency_zero_is_invalid(lam_noval, published):
    expect_error(lambda: lam_noval.put_provisioned_concurrency_config(FunctionName=published, Qualifier="1",
                                                                      ProvisionedConcurrentExecutions=0),
                 "ValidationException", 400,
                 "Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: "
                 "Member must have value greater than or equal to 1")


def test_delete_unset_provisioned_concurrency_succeeds(lam, published):
    # deleting a config that does not exist (on an existing version) answers 204, as AWS does
    assert status_of(lam.delete_provisioned_concurrency_config(FunctionName=published, Qualifier="1")) == 204
