"""The emulator's persistent state: SQLite schema and every query. The only sqlite3 importer.

Connections come from a small pool (the threaded server starts a thread per request, so
per-thread connections would be opened and dropped constantly); WAL mode lets readers run
beside the writer; every write takes the one process-wide write lock, so concurrent requests
never interleave half-done writes. File bytes live on disk in a folder next to the database;
rows only name them.
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from reconciler.emulator import jsoncodec

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, created_at INTEGER NOT NULL,
  bytes INTEGER NOT NULL, filename TEXT NOT NULL, purpose TEXT NOT NULL, blob TEXT,
  job_id TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  bytes INTEGER NOT NULL, filename TEXT NOT NULL, purpose TEXT NOT NULL, mime_type TEXT NOT NULL,
  status TEXT NOT NULL, file_id TEXT);
CREATE TABLE IF NOT EXISTS parts (
  id TEXT PRIMARY KEY, upload_id TEXT NOT NULL, created_at INTEGER NOT NULL,
  bytes INTEGER NOT NULL, blob TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, created_at REAL NOT NULL,
  doc TEXT NOT NULL, has_metadata INTEGER NOT NULL, cancelled_at REAL, paused_at REAL,
  paused_total REAL NOT NULL DEFAULT 0, reached_status TEXT, reached_sim REAL NOT NULL DEFAULT 0,
  finished_at REAL);
CREATE TABLE IF NOT EXISTS job_metadata (
  job_seq INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS job_metadata_kv ON job_metadata (key, value, job_seq);
CREATE INDEX IF NOT EXISTS job_metadata_job ON job_metadata (job_seq, key);
CREATE INDEX IF NOT EXISTS files_listed ON files (purpose, deleted, seq);
CREATE TABLE IF NOT EXISTS deleted_models (id TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS analyses (
  file_id TEXT NOT NULL, kind TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (file_id, kind));
CREATE TABLE IF NOT EXISTS permissions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, checkpoint TEXT NOT NULL,
  project_id TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deployments (
  name TEXT PRIMARY KEY, doc TEXT NOT NULL, created_at REAL NOT NULL, changed_at REAL NOT NULL,
  last_used_at REAL, previous_model TEXT, deleting_at REAL);
CREATE TABLE IF NOT EXISTS operations (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, deployment TEXT NOT NULL, started_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS azure_jobs (
  job_id TEXT PRIMARY KEY, training_type TEXT, resumed_at REAL);
"""

# Columns added after the first release: a database from then gains them on open.
_ADDED_JOB_COLUMNS = (
    ("reached_status", "TEXT"),
    ("reached_sim", "REAL NOT NULL DEFAULT 0"),
    ("finished_at", "REAL"),
)
_TERMINAL_SQL = "('succeeded', 'failed', 'cancelled')"

Row = dict[str, Any]


class Store:
    """SQLite state of one emulator instance (one database file, one blob folder)."""

    def __init__(self, db_path: str) -> None:
        self.db_path = os.path.abspath(db_path)
        self.blob_dir = self.db_path + ".blobs"
        os.makedirs(os.path.dirname(self.db_path), exist_ok=True)
        os.makedirs(self.blob_dir, exist_ok=True)
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all_conns: list[sqlite3.Connection] = []
        self._write_lock = threading.Lock()
        self.generation = 0  # bumped by every write, so readers can cache derived views
        with self._write_lock, self._lease() as conn:
            conn.executescript(_SCHEMA)  # executescript manages its own transaction
            have = {r["name"] for r in conn.execute("PRAGMA table_info(jobs)")}
            for name, kind in _ADDED_JOB_COLUMNS:
                if name not in have:
                    conn.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")

    # -- connections -------------------------------------------------------------------------

    @contextmanager
    def _lease(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._all_conns.append(conn)
        try:
            yield conn
        finally:
            self._idle.put(conn)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock, self._lease() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self.generation += 1

    def _one(self, sql: str, args: tuple[Any, ...]) -> Row | None:
        with self._lease() as conn:
            row = conn.execute(sql, args).fetchone()
        return dict(row) if row is not None else None

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[Row]:
        with self._lease() as conn:
            cursor = conn.cursor()
            # Plain tuples zipped with the column names: a quarter cheaper than sqlite3.Row
            # then dict() on a 10,000-row page.
            cursor.row_factory = None
            rows = cursor.execute(sql, args).fetchall()
            names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _column(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        """The first column of every row."""
        with self._lease() as conn:
            cursor = conn.cursor()
            cursor.row_factory = None
            return [row[0] for row in cursor.execute(sql, args).fetchall()]

    def blob_path(self, name: str) -> str:
        return os.path.join(self.blob_dir, name)

    # -- files -------------------------------------------------------------------------------

    def insert_file(self, row: Mapping[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO files (id, created_at, bytes, filename, purpose, blob, job_id)"
                " VALUES (:id, :created_at, :bytes, :filename, :purpose, :blob, :job_id)",
                {"blob": None, "job_id": None, **row},
            )

    def get_file(self, file_id: str) -> Row | None:
        return self._one("SELECT * FROM files WHERE id = ? AND deleted = 0", (file_id,))

    def list_files(
        self, *, purpose: str | None, after: str | None, order: str, limit: int
    ) -> list[Row]:
        return self._all(*_files_page("*", purpose, after, order, limit))

    def list_file_seqs(
        self, *, purpose: str | None, after: str | None, order: str, limit: int
    ) -> list[int]:
        """The seqs of a page of files not deleted (files_by_seq reads the rows); with a
        purpose, the (purpose, deleted, seq) index answers it alone."""
        return self._column(*_files_page("seq", purpose, after, order, limit))

    def files_by_seq(self, seqs: Sequence[int]) -> dict[int, Row]:
        """File rows by seq (files deleted meanwhile are missing)."""
        marks = ", ".join("?" * len(seqs))
        return {row["seq"]: row for row in
                self._all(f"SELECT * FROM files WHERE seq IN ({marks}) AND deleted = 0",
                          tuple(seqs))}

    def delete_file(self, file_id: str) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE files SET deleted = 1 WHERE id = ? AND deleted = 0", (file_id,)
            )
            return cur.rowcount > 0

    # -- uploads -----------------------------------------------------------------------------

    def insert_upload(self, row: Mapping[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO uploads (id, created_at, expires_at, bytes, filename, purpose,"
                " mime_type, status) VALUES (:id, :created_at, :expires_at, :bytes, :filename,"
                " :purpose, :mime_type, 'pending')",
                dict(row),
            )

    def get_upload(self, upload_id: str) -> Row | None:
        return self._one("SELECT * FROM uploads WHERE id = ?", (upload_id,))

    def set_upload_status(self, upload_id: str, status: str, file_id: str | None = None) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE uploads SET status = ?, file_id = COALESCE(?, file_id) WHERE id = ?",
                (status, file_id, upload_id),
            )

    def complete_upload(self, upload_id: str, file_row: Mapping[str, Any]) -> None:
        """Insert the file and mark the upload completed in one transaction."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO files (id, created_at, bytes, filename, purpose, blob)"
                " VALUES (:id, :created_at, :bytes, :filename, :purpose, :blob)",
                dict(file_row),
            )
            conn.execute(
                "UPDATE uploads SET status = 'completed', file_id = ? WHERE id = ?",
                (file_row["id"], upload_id),
            )

    def insert_part(self, row: Mapping[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO parts (id, upload_id, created_at, bytes, blob)"
                " VALUES (:id, :upload_id, :created_at, :bytes, :blob)",
                dict(row),
            )

    def list_parts(self, upload_id: str) -> list[Row]:
        return self._all("SELECT * FROM parts WHERE upload_id = ?", (upload_id,))

    def delete_parts(self, upload_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))

    # -- jobs --------------------------------------------------------------------------------

    def insert_job(self, job_id: str, created_at: float, doc: Mapping[str, Any]) -> None:
        """Insert a job and its metadata index rows (plus its reserved result file) atomically."""
        metadata = doc.get("metadata")
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO jobs (id, created_at, doc, has_metadata) VALUES (?, ?, ?, ?)",
                (job_id, created_at, json.dumps(doc), 0 if metadata is None else 1),
            )
            seq = cur.lastrowid
            for key, value in (metadata or {}).items():
                conn.execute(
                    "INSERT INTO job_metadata (job_seq, key, value) VALUES (?, ?, ?)",
                    (seq, key, value),
                )
            conn.execute(
                "INSERT INTO files (id, created_at, bytes, filename, purpose, job_id)"
                " VALUES (?, ?, 0, 'step_metrics.csv', 'fine-tune-results', ?)",
                (doc["result_file"], int(created_at), job_id),
            )

    def get_job(self, job_id: str) -> Row | None:
        return _decode_job(self._one("SELECT * FROM jobs WHERE id = ?", (job_id,)))

    def list_job_seqs(
        self,
        *,
        metadata: Mapping[str, str] | None,
        metadata_null: bool,
        after: str | None,
        limit: int,
    ) -> list[int]:
        """The seqs of a page of jobs, newest first; `metadata` pairs combine with AND
        (jobs_by_seq reads the rows).

        With a filter, the first pair drives the query through the (key, value, job_seq)
        index, which answers it alone (a job's metadata rows come and go with the job), so each
        page costs the same however deep the cursor is and reads no job row.
        """
        pairs = list((metadata or {}).items())
        args: list[Any] = []
        if pairs:
            sql = "SELECT m.job_seq FROM job_metadata m WHERE m.key = ? AND m.value = ?"
            args += list(pairs[0])
            for key, value in pairs[1:]:
                sql += (" AND EXISTS (SELECT 1 FROM job_metadata x WHERE x.job_seq = m.job_seq"
                        " AND x.key = ? AND x.value = ?)")
                args += [key, value]
            order = "m.job_seq"
        else:
            sql = "SELECT seq FROM jobs WHERE 1 = 1"
            order = "seq"
            if metadata_null:
                sql += " AND has_metadata = 0"
        if after is not None:
            sql += f" AND {order} < COALESCE((SELECT seq FROM jobs WHERE id = ?), -1)"
            args.append(after)
        sql += f" ORDER BY {order} DESC LIMIT ?"
        args.append(limit)
        return self._column(sql, tuple(args))

    def jobs_by_seq(self, seqs: Sequence[int]) -> dict[int, Row]:
        """Whole job rows by seq (jobs deleted meanwhile are missing)."""
        marks = ", ".join("?" * len(seqs))
        rows = self._all(f"SELECT * FROM jobs WHERE seq IN ({marks})", tuple(seqs))
        return {row["seq"]: decode_job(row) for row in rows}

    def job_by_model(self, fine_tuned_model: str) -> Row | None:
        """The job whose (future) fine-tuned model id is `fine_tuned_model`."""
        return _decode_job(
            self._one(
                "SELECT * FROM jobs WHERE json_extract(doc, '$.fine_tuned_model') = ?",
                (fine_tuned_model,),
            )
        )

    def all_jobs(self) -> list[Row]:
        return [r for r in (_decode_job(x) for x in self._all("SELECT * FROM jobs", ())) if r]

    def jobs_with_models(self) -> list[Row]:
        """Jobs whose fine-tuned model was not deleted (the model list's candidates). Deleted
        models are left out by SQLite: at 20,000 jobs with 2,000 models, decoding every job's
        document to drop most of them was most of what listing models cost."""
        sql = ("SELECT * FROM jobs WHERE json_extract(doc, '$.fine_tuned_model')"
               " NOT IN (SELECT id FROM deleted_models)")
        return [r for r in (_decode_job(x) for x in self._all(sql, ())) if r]

    def update_job(self, job_id: str, **fields: float | None) -> None:
        allowed = {"cancelled_at", "paused_at", "paused_total"}
        assert set(fields) <= allowed
        sets = ", ".join(f"{name} = ?" for name in fields)
        with self._write() as conn:
            conn.execute(f"UPDATE jobs SET {sets} WHERE id = ?", (*fields.values(), job_id))

    def record_reached(self, reached: Sequence[tuple[str, str, float, float | None]]) -> None:
        """Persist how far jobs got: (job id, status, simulated progress, finish time once
        terminal), all in one transaction. Progress never moves back, and a terminal status is
        never overwritten."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE jobs SET reached_status = ?, reached_sim = MAX(reached_sim, ?),"
                " finished_at = ? WHERE id = ? AND (reached_status IS NULL"
                f" OR reached_status NOT IN {_TERMINAL_SQL})",
                [(status, sim, finished, job_id) for job_id, status, sim, finished in reached],
            )

    # -- models, analyses, permissions -------------------------------------------------------

    def deleted_models(self) -> set[str]:
        return {r["id"] for r in self._all("SELECT id FROM deleted_models", ())}

    def delete_model(self, model_id: str, when: int) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO deleted_models (id, deleted_at) VALUES (?, ?)",
                (model_id, when),
            )

    def get_analysis(self, file_id: str, kind: str) -> dict[str, Any] | None:
        row = self._one("SELECT doc FROM analyses WHERE file_id = ? AND kind = ?", (file_id, kind))
        return json.loads(row["doc"]) if row else None

    def put_analysis(self, file_id: str, kind: str, doc: Mapping[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO analyses (file_id, kind, doc) VALUES (?, ?, ?)",
                (file_id, kind, json.dumps(doc)),
            )

    def insert_permission(self, row: Mapping[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO permissions (id, checkpoint, project_id, created_at)"
                " VALUES (:id, :checkpoint, :project_id, :created_at)",
                dict(row),
            )

    def list_permissions(self, checkpoint: str) -> list[Row]:
        return self._all(
            "SELECT * FROM permissions WHERE checkpoint = ? ORDER BY seq DESC", (checkpoint,)
        )

    def delete_permission(self, checkpoint: str, permission_id: str) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "DELETE FROM permissions WHERE checkpoint = ? AND id = ?",
                (checkpoint, permission_id),
            )
            return cur.rowcount > 0

    # -- Azure dialect: deployments, their operations, job extras, job deletion -------------

    def get_deployment(self, name: str) -> Row | None:
        return _decode_doc(self._one("SELECT * FROM deployments WHERE name = ?", (name,)))

    def all_deployments(self) -> list[Row]:
        rows = self._all("SELECT * FROM deployments ORDER BY created_at, name", ())
        return [r for r in (_decode_doc(x) for x in rows) if r]

    def put_deployment(self, row: Mapping[str, Any]) -> None:
        """Insert or replace deployment `row["name"]` (doc is stored as JSON)."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO deployments (name, doc, created_at, changed_at,"
                " last_used_at, previous_model, deleting_at) VALUES (:name, :doc, :created_at,"
                " :changed_at, :last_used_at, :previous_model, :deleting_at)",
                {**row, "doc": json.dumps(row["doc"])},
            )

    def update_deployment(self, name: str, **fields: float | None) -> None:
        allowed = {"last_used_at", "deleting_at"}
        assert set(fields) <= allowed
        sets = ", ".join(f"{column} = ?" for column in fields)
        with self._write() as conn:
            conn.execute(f"UPDATE deployments SET {sets} WHERE name = ?",
                         (*fields.values(), name))

    def insert_operation(self, op_id: str, kind: str, deployment: str, started_at: float) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO operations (id, kind, deployment, started_at)"
                         " VALUES (?, ?, ?, ?)", (op_id, kind, deployment, started_at))

    def get_operation(self, op_id: str) -> Row | None:
        return self._one("SELECT * FROM operations WHERE id = ?", (op_id,))

    def get_azure_job(self, job_id: str) -> Row | None:
        return self._one("SELECT * FROM azure_jobs WHERE job_id = ?", (job_id,))

    def put_azure_job(self, job_id: str, *, training_type: str | None = None,
                      resumed_at: float | None = None) -> None:
        """Record a job's Azure-only facts; a None field keeps what was there."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO azure_jobs (job_id, training_type, resumed_at) VALUES (?, ?, ?)"
                " ON CONFLICT (job_id) DO UPDATE SET"
                " training_type = COALESCE(excluded.training_type, training_type),"
                " resumed_at = COALESCE(excluded.resumed_at, resumed_at)",
                (job_id, training_type, resumed_at),
            )

    def delete_job(self, job_id: str, when: int) -> None:
        """Remove a job, its metadata rows and result file; its model counts as deleted."""
        job = self.get_job(job_id)
        if job is None:
            return
        with self._write() as conn:
            conn.execute("DELETE FROM job_metadata WHERE job_seq = ?", (job["seq"],))
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            conn.execute("DELETE FROM azure_jobs WHERE job_id = ?", (job_id,))
            conn.execute("UPDATE files SET deleted = 1 WHERE job_id = ?", (job_id,))
            conn.execute("INSERT OR IGNORE INTO deleted_models (id, deleted_at) VALUES (?, ?)",
                         (job["doc"]["fine_tuned_model"], when))

    def close(self) -> None:
        """Close every pooled connection (call once no request is in flight)."""
        while self._all_conns:
            self._all_conns.pop().close()
        self._idle = queue.SimpleQueue()


def _files_page(columns: str, purpose: str | None, after: str | None, order: str,
                limit: int) -> tuple[str, tuple[Any, ...]]:
    """The query of a page of files not deleted, and its arguments."""
    sql = f"SELECT {columns} FROM files WHERE deleted = 0"
    args: list[Any] = []
    if purpose is not None:
        sql += " AND purpose = ?"
        args.append(purpose)
    op, direction = ("<", "DESC") if order == "desc" else (">", "ASC")
    if after is not None:
        sql += f" AND seq {op} COALESCE((SELECT seq FROM files WHERE id = ?), -1)"
        args.append(after)
    sql += f" ORDER BY seq {direction} LIMIT ?"
    args.append(limit)
    return sql, tuple(args)


def _decode_doc(row: Row | None) -> Row | None:
    if row is None:
        return None
    row["doc"] = jsoncodec.loads(row["doc"])
    return row


_decode_job = _decode_doc


def decode_job(row: Row) -> Row:
    """A job row with its `doc` decoded (in place)."""
    row["doc"] = jsoncodec.loads(row["doc"])
    return row
