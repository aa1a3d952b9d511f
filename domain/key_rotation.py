"""Rotating the at-rest key: every stored secret re-encrypted under the first configured key.

``smsauth rotate-key`` runs ``rotate_all``. Rows are read in batches and each value is written
back with a conditional UPDATE (only where the row still holds the token that was read), so a
writer running at the same time is never overwritten. A value already under the first key is left
as it is, which makes a second run a check: when it re-encrypts nothing, the old keys may go.
Every column that holds a ``SecretBox`` token must be listed in ``ENCRYPTED_COLUMNS``.
"""

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tortoise.models import Model

from domain.models import Challenge, SigningKey, SmsGateway, SmsMessage
from domain.secret_box import SecretBox, SecretKeyError, add_key_to_file, load_secret_box
from domain.settings import Settings

BATCH_SIZE = 500
#: How often a value that keeps changing under us is read again before giving up on it.
MAX_TRIES = 3


class RotationRefused(Exception):
    """Nothing to rotate to, or a request that does not fit the configuration (exit 2)."""


@dataclass(frozen=True)
class EncryptedColumn:
    """A column holding ``SecretBox`` tokens, and what its values are, for the report."""

    kind: str
    model: type[Model]
    column: str

    @property
    def name(self) -> str:
        return f"{self.model._meta.db_table}.{self.column}"

    @property
    def pk(self) -> str:
        return self.model._meta.pk_attr


ENCRYPTED_COLUMNS = (
    EncryptedColumn("SMS gateway secrets", SmsGateway, "secrets"),
    EncryptedColumn("queued message texts", SmsMessage, "payload"),
    EncryptedColumn("signing keys", SigningKey, "private_jwk"),
    EncryptedColumn("challenge secrets", Challenge, "secret"),
)


class Outcome(enum.Enum):
    ROTATED = "re-encrypted"
    CURRENT = "already under the first key"
    GONE = "deleted or cleared meanwhile"
    UNDECRYPTABLE = "cannot be decrypted with any configured key"
    BUSY = "kept changing while being re-encrypted"


@dataclass
class ColumnReport:
    column: EncryptedColumn
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    #: Primary keys of the rows that need attention (undecryptable or busy), as text.
    problems: list[tuple[Outcome, str]] = field(default_factory=list)

    def add(self, outcome: Outcome, pk: Any) -> None:
        self.counts[outcome] += 1
        if outcome in (Outcome.UNDECRYPTABLE, Outcome.BUSY):
            self.problems.append((outcome, str(pk)))


@dataclass
class RotationReport:
    columns: list[ColumnReport]

    @property
    def ok(self) -> bool:
        return not any(report.problems for report in self.columns)

    def lines(self) -> list[str]:
        """What the command prints: counts per kind, then every row that needs attention."""
        out = []
        for report in self.columns:
            counts = report.counts
            gone = counts[Outcome.GONE]
            out.append(
                f"{report.column.kind} ({report.column.name}): "
                f"{counts[Outcome.ROTATED]} re-encrypted, "
                f"{counts[Outcome.CURRENT]} already under the first key"
                + (f", {gone} deleted meanwhile" if gone else "")
            )
        for report in self.columns:
            for outcome, pk in report.problems:
                out.append(
                    f"NOT ROTATED {report.column.name} {report.column.pk}={pk}: {outcome.value}"
                )
        return out


def rotation_box(settings: Settings, *, new_key: bool = False) -> SecretBox:
    """The box to rotate with; with ``new_key``, a fresh key is first put in the key file."""
    if settings.secret_key:
        if new_key:
            raise RotationRefused(
                "--new-key writes the key file, but SMSAUTH_SECRET_KEY is set: put a new key "
                "in front of it on every instance (SMSAUTH_SECRET_KEY=<new>,<old>; "
                "'smsauth generate-key' prints one), then run 'smsauth rotate-key'"
            )
    elif settings.is_sqlite:
        path = Path(settings.key_file)
        if not path.exists():
            raise RotationRefused(
                f"no key file at {path}: run this where the server runs, or set SMSAUTH_KEY_FILE"
            )
        if new_key:
            add_key_to_file(path)
    box = load_secret_box(settings)
    if box.key_count < 2:
        where = "SMSAUTH_SECRET_KEY" if settings.secret_key else "the key file"
        raise RotationRefused(
            f"{where} holds one key, so there is nothing to rotate to: "
            + (
                "put a new key in front of it on every instance (SMSAUTH_SECRET_KEY=<new>,<old>; "
                "'smsauth generate-key' prints one), then run 'smsauth rotate-key' again"
                if settings.secret_key
                else "run 'smsauth rotate-key --new-key'"
            )
        )
    return box


async def rotate_all(box: SecretBox, batch_size: int = BATCH_SIZE) -> RotationReport:
    """Re-encrypt every stored secret under ``box``'s first key."""
    return RotationReport([await rotate_column(c, box, batch_size) for c in ENCRYPTED_COLUMNS])


async def rotate_column(
    column: EncryptedColumn, box: SecretBox, batch_size: int = BATCH_SIZE
) -> ColumnReport:
    """One column, in batches of rows ordered by primary key."""
    report = ColumnReport(column)
    after: Any = None
    while True:
        query = column.model.filter(**{f"{column.column}__isnull": False})
        if after is not None:
            query = query.filter(**{f"{column.pk}__gt": after})
        rows = (
            await query.order_by(column.pk).limit(batch_size).values_list(column.pk, column.column)
        )
        for pk, token in rows:
            report.add(await rotate_value(column, pk, token, box), pk)
        if len(rows) < batch_size:
            return report
        after = rows[-1][0]


async def rotate_value(column: EncryptedColumn, pk: Any, token: str, box: SecretBox) -> Outcome:
    """Re-encrypt one value read as ``token``; the row is written only if it still holds it."""
    for _ in range(MAX_TRIES):
        try:
            new = box.rotated(token)
        except SecretKeyError:
            return Outcome.UNDECRYPTABLE
        if new is None:
            return Outcome.CURRENT
        row = column.model.filter(**{column.pk: pk, column.column: token})
        if await row.update(**{column.column: new}):
            return Outcome.ROTATED
        # Someone wrote the row since it was read: look at what it holds now.
        now = await column.model.filter(**{column.pk: pk}).values_list(column.column, flat=True)
        if not now or now[0] is None:
            return Outcome.GONE
        token = now[0]
    return Outcome.BUSY
