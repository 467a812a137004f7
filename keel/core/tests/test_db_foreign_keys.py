"""Statement-level foreign keys (PostgreSQL) refuse what a foreign-key constraint refuses."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from keel.core.db_foreign_keys import Reference, install_sql, installed, uninstall_sql

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps its native foreign keys"),
]

REFERENCES = [
    Reference("parent_id", "kfk_parent", company=True),
    Reference("code", "kfk_code", "code", type="varchar"),
]


def _scratch_schema(cursor) -> None:
    cursor.execute("CREATE TABLE kfk_parent (id bigint PRIMARY KEY, company_id bigint NOT NULL)")
    cursor.execute("CREATE TABLE kfk_code (code varchar(3) PRIMARY KEY)")
    cursor.execute("CREATE TABLE kfk_child (id bigserial PRIMARY KEY, company_id bigint NOT NULL,"
                   " parent_id bigint, code varchar(3), note text NOT NULL DEFAULT '')")
    cursor.execute("INSERT INTO kfk_parent VALUES (1, 10), (2, 10), (3, 20)")
    cursor.execute("INSERT INTO kfk_code VALUES ('EUR'), ('USD')")
    for statement in install_sql("kfk_child", REFERENCES):
        cursor.execute(statement, None)


@pytest.fixture
def scratch(db):
    with connection.cursor() as cursor:
        _scratch_schema(cursor)
    return connection


def run(sql, params=None):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def rows(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_rows_with_existing_or_null_keys_are_taken(scratch):
    run("INSERT INTO kfk_child (company_id, parent_id, code) VALUES (10, 1, 'EUR'), (10, 2, NULL), (20, NULL, 'USD')")
    assert rows("SELECT count(*) FROM kfk_child") == [(3,)]


def test_a_statement_with_one_missing_parent_is_refused_whole(scratch):
    with pytest.raises(IntegrityError) as refused:
        run("INSERT INTO kfk_child (company_id, parent_id, code) SELECT 10, 1 + g % 2, 'EUR' FROM generate_series(1, 500) g"
            " UNION ALL SELECT 10, 99, 'EUR'")
    assert "kfk_child.parent_id -> kfk_parent.id" in str(refused.value)
    assert refused.value.__cause__.diag.message_detail == 'Key (parent_id)=(99) is not present in table "kfk_parent".'
    with pytest.raises(IntegrityError, match="kfk_child.code -> kfk_code.code"):
        run("INSERT INTO kfk_child (company_id, parent_id, code) VALUES (10, 1, 'XXX')")
    assert rows("SELECT count(*) FROM kfk_child") == [(0,)]


def test_an_update_to_a_missing_key_is_refused_and_other_updates_pass(scratch):
    run("INSERT INTO kfk_child (company_id, parent_id, code) VALUES (10, 1, 'EUR')")
    with pytest.raises(IntegrityError):
        run("UPDATE kfk_child SET parent_id = 42")
    run("UPDATE kfk_child SET note = 'checked nothing', parent_id = 2")
    assert rows("SELECT parent_id, note FROM kfk_child") == [(2, "checked nothing")]


def test_a_referenced_parent_cannot_be_deleted_or_rekeyed(scratch):
    run("INSERT INTO kfk_child (company_id, parent_id, code) VALUES (10, 1, 'EUR')")
    with pytest.raises(IntegrityError, match="update or delete on table \"kfk_parent\""):
        run("DELETE FROM kfk_parent WHERE id IN (1, 2)")
    with pytest.raises(IntegrityError):
        run("UPDATE kfk_parent SET id = 7 WHERE id = 1")
    with pytest.raises(IntegrityError):
        run("DELETE FROM kfk_code WHERE code = 'EUR'")
    run("DELETE FROM kfk_parent WHERE id = 2")  # nobody refers to it
    run("UPDATE kfk_parent SET company_id = 10 WHERE id = 3")  # the key is unchanged
    assert rows("SELECT id FROM kfk_parent ORDER BY id") == [(1,), (3,)]
    run("DELETE FROM kfk_child")
    run("DELETE FROM kfk_parent WHERE id = 1")  # children first, then the parent


def test_the_parent_check_only_counts_children_of_the_same_company(scratch):
    """With company=True the parent side joins on the company (to use company-first indexes):
    a child of another company pointing at the parent is not the parent's child."""
    run("ALTER TABLE kfk_child DISABLE TRIGGER USER")
    run("INSERT INTO kfk_child (company_id, parent_id) VALUES (20, 1)")
    run("ALTER TABLE kfk_child ENABLE TRIGGER USER")
    run("DELETE FROM kfk_parent WHERE id = 1")


def test_uninstall_removes_every_trigger_and_function(scratch):
    with connection.cursor() as cursor:
        assert installed(cursor, "kfk_child")
        for statement in uninstall_sql("kfk_child", REFERENCES):
            cursor.execute(statement, None)
        assert not installed(cursor, "kfk_child")
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'keel_fk_kfk%%'")
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'keel_fk_kfk%%'")
        assert cursor.fetchone() == (0,)
    run("INSERT INTO kfk_child (company_id, parent_id) VALUES (10, 99)")  # unchecked now


def test_identifiers_must_be_plain():
    with pytest.raises(ValueError, match="plain SQL identifier"):
        install_sql("child; DROP TABLE x", REFERENCES)


@pytest.mark.django_db(transaction=True)
def test_a_delete_waits_for_a_concurrent_child_insert_and_is_then_refused():
    """The child insert locks its parent FOR KEY SHARE: a concurrent delete of the parent
    waits, and once the child is committed the delete's check sees it."""
    settings = connection.settings_dict
    dsn = f"host={settings['HOST'] or '127.0.0.1'} port={settings['PORT'] or 5432} user={settings['USER']}" \
          f" dbname={settings['NAME']}"
    schema = f"kfk_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            admin.execute(f"SET search_path = {schema}")
            _scratch_schema(admin.cursor())
            inserter = psycopg.connect(dsn, options=f"-c search_path={schema}")
            deleter = psycopg.connect(dsn, options=f"-c search_path={schema}")
            outcome = {}

            def delete_parent():
                try:
                    deleter.execute("DELETE FROM kfk_parent WHERE id = 1")
                    deleter.commit()
                    outcome["deleted"] = True
                except psycopg.errors.ForeignKeyViolation:
                    deleter.rollback()
                    outcome["refused"] = True

            inserter.execute("INSERT INTO kfk_child (company_id, parent_id) VALUES (10, 1)")
            worker = threading.Thread(target=delete_parent)
            worker.start()
            time.sleep(0.3)
            assert worker.is_alive(), "the delete should wait for the inserter's lock"
            inserter.commit()
            worker.join(10)
            assert outcome == {"refused": True}
            assert admin.execute("SELECT count(*) FROM kfk_parent WHERE id = 1").fetchone() == (1,)
            inserter.close()
            deleter.close()
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
