"""Findings 3 and 5: protected explores are hidden and refused; no hint or message names what
the user may not see, nor the attribute values that would open it."""

from __future__ import annotations

import pytest

import metricql as mq
from tests.security.conftest import ANALYST, FINANCE, query


def test_additional_explore_required_attributes_hide_and_forbid(acme: mq.Project) -> None:
    q = mq.MetricQuery(explore_name="pii_accounts", metrics=["accounts_account_count"])
    assert "pii_accounts" not in acme.explores_for(ANALYST)
    with pytest.raises(mq.ForbiddenError, match="pii_accounts"):
        acme.compile(q, user=ANALYST)
    assert "pii_accounts" in acme.explores_for(FINANCE)
    acme.compile(q, user=FINANCE)
    acme.compile(q.model_copy(update={"explore_name": "accounts"}), user=ANALYST)


def _error(acme: mq.Project, q: mq.MetricQuery, user: mq.UserContext | None) -> mq.MetricQLError:
    with pytest.raises(mq.MetricQLError) as err:
        acme.compile(q, user=user)
    return err.value


def test_explore_hints_draw_only_from_visible_explores(acme: mq.Project) -> None:
    typo = mq.MetricQuery(explore_name="pii_acounts", metrics=["accounts_account_count"])
    assert "pii_accounts" in str(_error(acme, typo, None))  # a trusted caller gets the hint
    shown = _error(acme, typo, ANALYST)
    assert isinstance(shown, mq.UnknownExploreError)
    assert "pii_accounts" not in str(shown) and "invoices" not in str(shown)


def test_field_hints_draw_only_from_visible_fields(acme: mq.Project) -> None:
    typo = query(dimensions=["accounts_annual_revenu"])
    assert "accounts_annual_revenue" in str(_error(acme, typo, None))
    shown = _error(acme, typo, ANALYST)
    assert isinstance(shown, mq.UnknownFieldError)
    assert "annual_revenue'" not in str(shown.hint)


@pytest.mark.parametrize(
    "q",
    [
        query(dimensions=["accounts_annual_revenue"]),
        query(dimensions=["invoices_amount_cents"]),
        mq.MetricQuery(explore_name="invoices", metrics=["invoices_invoiced"]),
        mq.MetricQuery(explore_name="pii_accounts", metrics=["accounts_account_count"]),
    ],
)
def test_forbidden_messages_do_not_state_the_required_values(
    acme: mq.Project, q: mq.MetricQuery
) -> None:
    shown = _error(acme, q, ANALYST)
    assert isinstance(shown, mq.ForbiddenError)
    text = f"{shown} {shown.to_dict()}"
    assert (
        "finance" not in text
        and "'yes'" not in text
        and "pii" not in text.replace("pii_accounts", "")
    )


def test_listing_hides_protected_tables_and_joins(acme: mq.Project) -> None:
    seen = acme.explores_for(ANALYST)
    assert "invoices" not in seen  # the protected table's own explore
    accounts = seen["accounts"]
    assert "invoices" not in accounts.tables
    assert all(j.table != "invoices" for j in accounts.joins)
    assert "users_email" not in accounts.dimensions
    assert "invoices" in acme.explores_for(FINANCE)["accounts"].tables


def test_server_explore_hints_draw_only_from_visible_explores(acme: mq.Project) -> None:
    from metricql.server.auth import Principal
    from metricql.server.requests import explore_for
    from metricql.server.schemas import ApiError

    principal = Principal(user=ANALYST, manage=False)
    with pytest.raises(ApiError) as err:
        explore_for(acme, "pii_acounts", principal)
    assert "pii_accounts" not in f"{err.value.message} {err.value.data}"


def test_unknown_field_message_does_not_confirm_a_protected_field(acme: mq.Project) -> None:
    as_metric = query(metrics=["accounts_annual_revenue"])  # a protected dimension
    assert "it is a dimension" in str(_error(acme, as_metric, None))
    assert "it is a dimension" not in str(_error(acme, as_metric, ANALYST))
    visible = query(metrics=["accounts_region"])
    assert "it is a dimension" in str(_error(acme, visible, ANALYST))
