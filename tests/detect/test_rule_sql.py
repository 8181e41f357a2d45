"""The rules' SQL files: one per rule, none left over, each one runs in DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailwarden.detect import EMPTY_CONTEXT, list_rules
from mailwarden.detect.engine import Engine
from mailwarden.detect.rules import base
from mailwarden.detect.rules.base import RESULT_COLUMNS, SHARED_SQL, Rule, code_rows, read_sql

RULES_DIR = Path(base.__file__).parent


def test_every_rule_has_its_sql_file_and_every_sql_file_belongs_to_a_rule() -> None:
    files = {path.relative_to(RULES_DIR).as_posix() for path in RULES_DIR.rglob("*.sql")}
    rule_files = {rule.sql_file for rule in list_rules()}
    assert len(rule_files) == len(list_rules())
    assert rule_files <= files, sorted(rule_files - files)
    assert files - rule_files == set(SHARED_SQL)


def test_a_query_is_one_statement_read_once() -> None:
    for rule in list_rules():
        assert rule.sql.strip() and not rule.sql.rstrip().endswith(";"), rule.id
        assert rule.sql is read_sql(rule.sql_file)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with Engine(memory_limit="256MB", threads=1) as engine:
        engine.load_context(EMPTY_CONTEXT, code_rows())
        for name in SHARED_SQL:
            engine.connection.execute(read_sql(name))
        yield engine


@pytest.mark.parametrize("rule", list_rules(), ids=lambda rule: rule.id)
def test_every_query_prepares_and_returns_the_result_columns(engine: Engine,
                                                             rule: Rule) -> None:
    params = rule.parameters()
    described = engine.query(f"DESCRIBE SELECT * FROM ({rule.sql})", params)
    assert {row["column_name"] for row in described} == set(RESULT_COLUMNS)
    assert engine.query(f"SELECT {', '.join(RESULT_COLUMNS)} FROM ({rule.sql})", params) == []
