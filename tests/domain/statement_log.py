"""The SQL statements a block of code sends, read from Tortoise's ``tortoise.db_client`` debug
records the way ``bench/sql_statements.py`` counts them (kept in memory, never printed: they
hold bound values)."""

import contextlib
import logging
from collections.abc import Iterator


class StatementLog(logging.Handler):
    """The statements of Tortoise's client logger, kept in memory only."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection", "Closed connection")):
            self.statements.append(message)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.statements if f'"{table}"' in s]


@contextlib.contextmanager
def statements() -> Iterator[StatementLog]:
    log = StatementLog()
    db_log = logging.getLogger("tortoise.db_client")
    level, propagate = db_log.level, db_log.propagate
    db_log.setLevel(logging.DEBUG)
    db_log.propagate = False  # kept, never printed
    db_log.addHandler(log)
    try:
        yield log
    finally:
        db_log.removeHandler(log)
        db_log.setLevel(level)
        db_log.propagate = propagate
