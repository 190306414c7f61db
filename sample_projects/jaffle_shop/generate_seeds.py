"""Write the jaffle_shop seed CSVs (deterministic: same bytes on every run).

Run from anywhere: ``python sample_projects/jaffle_shop/generate_seeds.py``. The files land in
``seeds/`` next to this script. Standard library only; all randomness comes from one
``random.Random(42)``, so changing the order of draws changes the data; add new draws at the
end of a table's loop, or regenerate and update the tests that pin figures.

NULL is an empty field, booleans are ``true``/``false``, decimals have two places, dates are
``YYYY-MM-DD`` and timestamps ``YYYY-MM-DD HH:MM:SS`` (payments add ``.mmm``).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import random
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

Row = dict[str, Any]

SEEDS_DIR = Path(__file__).resolve().parent / "seeds"

N_CUSTOMERS = 300
N_ORDERS = 2000
CUSTOMERS_WITHOUT_ORDERS = range(291, 301)  # the newest sign-ups never ordered
ORPHAN_CUSTOMER_IDS = (9001, 9002, 9003)  # orders whose customer_id matches no customer

# fmt: off
FIRST_NAMES = (
    "Michael", "Shawn", "Kathleen", "Jimmy", "Katherine", "Sarah", "Martin", "Frank",
    "Jennifer", "Henry", "Fred", "Irene", "Gary", "Rose", "Angela", "Emily", "David", "Laura",
    "Paul", "Anna", "Thomas", "Maria", "Lucas", "Nina", "Oliver", "Grace", "José", "Søren",
    "Chloé", "Amélie", "Jürgen", "Ines",
)
LAST_NAMES = (
    "Perez", "Elliott", "Mason", "Gomez", "Reyes", "Ward", "Lopez", "Young", "Hamilton",
    "Carter", "Fox", "Harper", "Rice", "Ross", "Brooks", "Hunt", "Barnes", "Kelly", "Knight",
    "Morgan", "O'Brien", "O'Connor", "D'Angelo", "Müller", "Núñez", "Bergström", "Novak",
    "Schmidt", "Dubois", "Silva",
)
COUNTRIES = (
    "United States", "United Kingdom", "Germany", "France", "Sweden", "Brazil", "China", None,
)
COUNTRY_WEIGHTS = (30, 15, 12, 10, 8, 8, 5, 7)

# Customers with deliberately awkward strings: (customer_id, first_name, last_name, email).
# None keeps the generated value.
AWKWARD_CUSTOMERS = (
    (7, "Zoë", "O'Brien", None),
    (13, "Åsa", "Lindström", None),
    (21, "Wei", "李", None),
    (42, "Percent", "Under_score", "50%_off@example.com"),
    (55, "Dash", "Comment -- /* not a comment */", None),
    (66, "Back", "Slash\\Name", None),
    (77, 'Jo "JJ"', "Quote", None),
    (88, "100%_real", "O'Connor", "100%_real@example.com"),
)
LOWERCASE_GERMANY = (101, 202)  # same country, other spelling: tests case_sensitive: false
NULL_EMAILS = (150, 250, 275)

STATUSES = ("completed", "shipped", "returned", "placed", "return_pending", None)
STATUS_WEIGHTS = (60, 15, 8, 10, 6, 1)
DISCOUNT_CODES = (
    "SPRING", "SAVE_10", "50%", "O'Brien's", "'); DROP TABLE orders; --", "naïve", "a%b_c",
)
SHIPPING_COSTS_CENTS = (0, 0, 499, 499, 999, 1450)

PRODUCTS = (  # (product, base price in cents)
    ("classic jaffle", 650), ("cheese toastie", 550), ("ham & cheese jaffle", 750),
    ("vegan jaffle", 800), ("café latte", 420), ("flat white", 400), ("hot chocolate", 380),
    ("orange juice", 350), ("chef's special", 1250), ("party box (12)", 5400),
)
ITEM_COUNT_WEIGHTS = (25, 30, 22, 13, 10)  # 1..5 items per order
QUANTITY_WEIGHTS = (60, 25, 10, 5)  # 1..4 of each item

PAYMENT_METHODS = ("credit_card", "bank_transfer", "coupon", "gift_card")
PAYMENT_METHOD_WEIGHTS = (55, 20, 15, 10)
PAYMENT_COUNT_WEIGHTS = (4, 70, 18, 8)  # 0..3 payments per order
ZERO_AMOUNT_CHECKS = 20  # 0.00 card checks; payments' sql_filter (amount > 0) hides them

ORDER_START = dt.datetime(2023, 1, 1)
ORDER_END = dt.datetime(2025, 12, 31, 23, 59, 59)
SIGNUP_START = dt.date(2022, 1, 1)
SIGNUP_END = dt.date(2024, 12, 31)
# fmt: on


def _money(cents: int | None) -> str | None:
    return None if cents is None else f"{cents // 100}.{cents % 100:02d}"


def _bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d")


def _ts(value: dt.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _ts_millis(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def _pick(rng: random.Random, values: Sequence[Any], weights: Sequence[int]) -> Any:
    return rng.choices(values, weights=weights, k=1)[0]


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.lower() if c.isalnum())


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _random_datetime(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    return start + dt.timedelta(seconds=rng.randint(0, int((end - start).total_seconds())))


def customers(rng: random.Random) -> list[Row]:
    """~300 customers with awkward names, NULLs and a few referrals."""
    awkward = {cid: (first, last, email) for cid, first, last, email in AWKWARD_CUSTOMERS}
    rows = []
    for cid in range(1, N_CUSTOMERS + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email: str | None = f"{_slug(first)}.{_slug(last)}{cid}@example.com"
        if cid in awkward:
            first, last, fixed_email = awkward[cid]
            local = f"{_slug(first) or 'customer'}.{_slug(last) or 'x'}{cid}"
            email = fixed_email or f"{local}@example.com"
        country = _pick(rng, COUNTRIES, COUNTRY_WEIGHTS)
        signup = _random_date(rng, SIGNUP_START, SIGNUP_END)
        created = dt.datetime.combine(signup, dt.time()) + dt.timedelta(
            seconds=rng.randint(0, 86399)
        )
        nulls = rng.random()
        vip = rng.random()
        score = rng.randint(0, 99999)
        referrer = rng.randint(1, cid - 1) if cid > 1 and rng.random() < 0.15 else None
        if cid == 21:
            country = "China"
        if cid in LOWERCASE_GERMANY:
            country = "germany"
        rows.append(
            {
                "customer_id": cid,
                "first_name": first,
                "last_name": last,
                "email": None if cid in NULL_EMAILS else email,
                "country": country,
                "signup_date": None if nulls < 0.03 else _date(signup),
                "created_at": None if 0.03 <= nulls < 0.08 else _ts(created),
                "is_vip": _bool(None if vip < 0.04 else vip > 0.84),
                "lifetime_score": None if 0.08 <= nulls < 0.16 else _money(score),
                "referrer_id": referrer,
            }
        )
    return rows


def _order_items(rng: random.Random, order_id: int, first_id: int) -> list[Row]:
    n_items = _pick(rng, range(1, 6), ITEM_COUNT_WEIGHTS)
    items = []
    for offset in range(n_items):
        product, base = rng.choice(PRODUCTS)
        price = base + rng.choice((0, 0, 0, 50, -50))  # a few price changes over time
        items.append(
            {
                "order_item_id": first_id + offset,
                "order_id": order_id,
                "product": product,
                "quantity": _pick(rng, range(1, 5), QUANTITY_WEIGHTS),
                "unit_price": price,
            }
        )
    return items


def orders_and_items(rng: random.Random) -> tuple[list[Row], list[Row]]:
    """~2000 orders over 2023-2025 (ids follow time) and their 1-5 items each."""
    times = sorted(_random_datetime(rng, ORDER_START, ORDER_END) for _ in range(N_ORDERS))
    buyers = [c for c in range(1, N_CUSTOMERS + 1) if c not in CUSTOMERS_WITHOUT_ORDERS]
    no_time = set(rng.sample(range(1, N_ORDERS + 1), 10))
    no_date = set(sorted(no_time)[:3])
    orphans = set(rng.sample(range(1, N_ORDERS + 1), 6))
    orders, items = [], []
    for order_id, ordered_at in enumerate(times, start=1):
        order_items = _order_items(rng, order_id, len(items) + 1)
        items.extend(order_items)
        subtotal = sum(int(i["quantity"]) * int(i["unit_price"]) for i in order_items)
        customer = rng.choice(ORPHAN_CUSTOMER_IDS) if order_id in orphans else rng.choice(buyers)
        status = _pick(rng, STATUSES, STATUS_WEIGHTS)
        roll = rng.random()
        gift = rng.random()
        discount = rng.choice(DISCOUNT_CODES) if rng.random() < 0.08 else None
        orders.append(
            {
                "order_id": order_id,
                "customer_id": customer,
                "order_date": None if order_id in no_date else _date(ordered_at.date()),
                "ordered_at": None if order_id in no_time else _ts(ordered_at),
                "status": status,
                "amount": None if roll < 0.02 else subtotal,
                "shipping_cost": rng.choice(SHIPPING_COSTS_CENTS),
                "is_gift": _bool(None if gift < 0.05 else gift > 0.85),
                "discount_code": discount,
                "_when": ordered_at,  # payments time off the true moment, even when hidden
            }
        )
    return orders, items


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    cuts = sorted(rng.randint(1, max(total - 1, 1)) for _ in range(parts - 1))
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


def payments(rng: random.Random, orders: list[Row]) -> list[Row]:
    """0-3 payments per order, a few failed, plus zero-amount card checks; ids follow time."""
    rows = []
    for order in orders:
        weights = (40, 50, 7, 3) if order["status"] == "placed" else PAYMENT_COUNT_WEIGHTS
        n = _pick(rng, range(4), weights)
        if not n:
            continue
        amount = order["amount"] if order["amount"] is not None else rng.randint(500, 9000)
        total = int(amount) + int(order["shipping_cost"])
        when: dt.datetime = order["_when"]
        for part in _split(rng, total, n):
            gap = dt.timedelta(seconds=rng.randint(5, 3600), milliseconds=rng.randint(0, 999))
            when = when + gap
            rows.append(
                {
                    "order_id": order["order_id"],
                    "payment_method": _pick(rng, PAYMENT_METHODS, PAYMENT_METHOD_WEIGHTS),
                    "amount": part,
                    "created_at": when,
                    "status": "failed" if rng.random() < 0.07 else "success",
                }
            )
    for order in rng.sample(orders, ZERO_AMOUNT_CHECKS):
        when = order["_when"] - dt.timedelta(milliseconds=rng.randint(1000, 60000))
        rows.append(
            {
                "order_id": order["order_id"],
                "payment_method": "credit_card",
                "amount": 0,
                "created_at": when,
                "status": "success",
            }
        )
    rows.sort(key=lambda r: (r["created_at"], r["order_id"]))
    for payment_id, row in enumerate(rows, start=1):
        row["payment_id"] = payment_id
    return rows


def _write(name: str, header: Sequence[str], rows: Iterable[Row]) -> int:
    path = SEEDS_DIR / name
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if row[col] is None else row[col] for col in header])
            count += 1
    print(f"wrote {count:5d} rows to {path}")
    return count


def main() -> None:
    """Generate all four seed files."""
    rng = random.Random(42)
    SEEDS_DIR.mkdir(exist_ok=True)
    customer_rows = customers(rng)
    order_rows, item_rows = orders_and_items(rng)
    payment_rows = payments(rng, order_rows)
    for row in order_rows:
        row["amount"] = _money(row["amount"])
        row["shipping_cost"] = _money(row["shipping_cost"])
    for row in item_rows:
        row["unit_price"] = _money(row["unit_price"])
    for row in payment_rows:
        row["amount"] = _money(row["amount"])
        row["created_at"] = _ts_millis(row["created_at"])
    _write(
        "customers.csv",
        (
            "customer_id",
            "first_name",
            "last_name",
            "email",
            "country",
            "signup_date",
            "created_at",
            "is_vip",
            "lifetime_score",
            "referrer_id",
        ),
        customer_rows,
    )
    _write(
        "orders.csv",
        (
            "order_id",
            "customer_id",
            "order_date",
            "ordered_at",
            "status",
            "amount",
            "shipping_cost",
            "is_gift",
            "discount_code",
        ),
        order_rows,
    )
    _write(
        "payments.csv",
        (
            "payment_id",
            "order_id",
            "payment_method",
            "amount",
            "created_at",
            "status",
        ),
        payment_rows,
    )
    _write(
        "order_items.csv",
        (
            "order_item_id",
            "order_id",
            "product",
            "quantity",
            "unit_price",
        ),
        item_rows,
    )


if __name__ == "__main__":
    main()
