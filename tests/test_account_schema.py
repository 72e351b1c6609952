"""Where an account's tables live: a PostgreSQL schema of its own, named from the account, set
as every connection's search path through the URL (oms.persistence.database.with_schema)."""

from __future__ import annotations

import pytest

from oms.cluster.accounts import account_schema, account_url
from oms.persistence.database import schema_of, with_schema

BASE = "postgresql+psycopg://oms:s3cret@db:5432/oms"


def test_an_accounts_schema_is_its_name_in_lower_case_as_an_identifier() -> None:
    assert account_schema("main") == "acct_main"
    assert account_schema("Desk-2.eu") == "acct_desk_2_eu"
    assert len(account_schema("a" * 58)) == 63  # PostgreSQL's identifier limit


def test_the_url_carries_the_schema_and_keeps_its_other_options() -> None:
    url = account_url(BASE + "?options=-c%20statement_timeout%3D5000", "Desk-2")

    assert schema_of(url) == "acct_desk_2"
    assert "statement_timeout" in url and "s3cret" in url  # the password is kept, for connect
    assert schema_of(BASE) is None
    assert schema_of(with_schema(url, "other")) == "other"  # the last search path wins


@pytest.mark.parametrize("schema", ["", "Upper", "a-b", "a;drop", "1abc", "x" * 64])
def test_a_schema_that_is_not_a_plain_identifier_is_refused(schema: str) -> None:
    with pytest.raises(ValueError, match="schema"):
        with_schema(BASE, schema)


def test_a_schema_needs_postgresql() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        with_schema("sqlite:///var/oms.db", "acct_main")
