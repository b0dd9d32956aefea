"""``streamapp import-csv`` on a real worker: exact totals; a second import changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis

from streamapp.store.keys import Keys
from tests.integration.conftest import Stack, wait_until
from tests.integration.http_helpers import run_cli
from tests.integration.kafka_helpers import create_topic, read_all

pytestmark = pytest.mark.integration

# Customer a orders the same amount twelve times on one day: more repeats than the worker's
# window of remembered messageIds (8), so only the import's own record keeps a rerun harmless.
ROWS = [("a", "20240131", "19.90")] * 12 + [
    ("b", "2024-02-01", "1,000.05"),
    ("b", "2024-02-01T10:30:00+01:00", "0.10"),
    ("c", "20240203", "$7"),
    ("", "20240203", "5"),          # no customer
    ("c", "31/02/2024", "5"),       # not a date
    ("c", "20240204", "lots"),      # not an amount
]
EXPECTED = {"a": (12, 23880), "b": (2, 100015), "c": (1, 700)}  # orders, cents


def write_csv(path: Path) -> Path:
    lines = ["cust;day;total;ref"] + [f"{c};{d};{a};r{i}" for i, (c, d, a) in enumerate(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return path


async def totals(redis: Redis, prefix: str) -> dict[str, tuple[int, int]]:
    out = {}
    for customer in EXPECTED:
        orders, cents = await redis.hmget(Keys(prefix).profile(customer), "n", "r")
        out[customer] = (int(orders or 0), int(cents or 0))
    return out


async def test_import_twice_counts_once(stack: Stack, redis: Redis, tmp_path: Path) -> None:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic)
    csv_file = write_csv(tmp_path / "orders.csv")
    mapping = ["--customer-column", "cust", "--time-column", "day", "--amount-column", "total",
               "--order-id-column", "ref", "--currency", "eur", "--delimiter", ";"]

    dry = await run_cli(stack, "import-csv", str(csv_file), *mapping, "--dry-run")
    assert dry.returncode == 1 and "15 of 18 rows are valid" in " ".join(dry.stdout.split())
    assert len(await read_all(bootstrap, stack.events_topic)) == 0

    stack.start_worker()
    first = await run_cli(stack, "import-csv", str(csv_file), *mapping)
    assert first.returncode == 1, first.stdout + first.stderr  # three rows were refused
    errors = " ".join(first.stderr.split())
    assert "line 17: cust is empty" in errors
    assert "line 18: '31/02/2024' is not a date" in errors
    assert "line 19: amount 'lots' is not a number" in errors
    assert "sent 15 orders" in " ".join(first.stdout.split())
    await wait_until(lambda: _matches(redis, stack.name), 90,
                     "the imported orders did not reach the profiles", stack.worker_log, stack)

    second = await run_cli(stack, "import-csv", str(csv_file), *mapping)
    assert second.returncode == 0 and "imported before" in second.stdout, second.stdout
    renamed = csv_file.rename(tmp_path / "orders-copy.csv")  # the same export, another name
    third = await run_cli(stack, "import-csv", str(renamed), *mapping)
    assert third.returncode == 0 and "imported before" in third.stdout, third.stdout
    assert len(await read_all(bootstrap, stack.events_topic)) == 15
    await asyncio.sleep(2)
    assert await totals(redis, stack.name) == EXPECTED


async def _matches(redis: Redis, prefix: str) -> bool:
    return await totals(redis, prefix) == EXPECTED


def test_missing_column_is_a_usage_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from streamapp.cli.main import app

    result = CliRunner().invoke(app, ["import-csv", str(write_csv(tmp_path / "o.csv"))])
    assert result.exit_code == 2
    assert "no column" in result.output
