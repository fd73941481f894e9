"""``[database] sql_alchemy_connect_args`` for the SQLite harness.

``CONNECT_ARGS`` (scheduler, dag-processor, triggerer, CLI): wait up to 60 s for SQLite's write lock.
With sqlite3's default of 5 s, a burst of writers (every test DAG's first scheduled run, at
start-up, beside the tests' own calls) can make the scheduler, dag-processor and triggerer exit on
"database is locked" (seen once in CI: all three at the same second).

``API_SERVER_CONNECT_ARGS``: sqlite3's default 5 s. Airflow 3.3 writes the audit log row of a REST
write (``action_logging``) from an ``async`` dependency, so on the api-server's event loop; on
SQLite that INSERT waits for the database's one write lock, and the event loop with it. When the
lock's holder is another request of the same api-server whose session commits once the event loop
runs its dependency's exit (a task's heartbeat, say), neither can go on until the wait times out:
with 60 s, the whole api-server stood still for 60 s (docs/operations.md, "SQLite")."""

CONNECT_ARGS = {"timeout": 60}
API_SERVER_CONNECT_ARGS = {"timeout": 5}
