"""``[database] sql_alchemy_connect_args`` for the SQLite harness: wait up to 60 s for SQLite's write
lock. With sqlite3's default of 5 s, a burst of writers (every test DAG's first scheduled run, at
start-up, beside the tests' own calls) can make the scheduler, dag-processor and triggerer exit on
"database is locked" (seen once in CI: all three at the same second)."""

CONNECT_ARGS = {"timeout": 60}
