"""The ground truth of the demo, written next to the sources in ``truth/``.

- ``persons.parquet``: one row per person: behaviour, first channel, planted dates (lapse,
  churn after a bad experience), home, household and identity case, and what they did.
- ``records.parquet``: every customer record of every source -> its person, with what the
  source did to it (typo, swapped names, another e-mail...).
- ``orders.parquet``: every order of every source -> its person (null for anonymous store
  tickets), with its planted flags.
- ``planted.json``: the planted parameters (``behaviours.planted_parameters``), the calendar,
  the realised rates and the bad rows of the store export (file, line, field, reason).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PERSONS = "persons.parquet"
RECORDS = "records.parquet"
ORDERS = "orders.parquet"
PLANTED = "planted.json"


class TruthWriter:
    """Appends the truth tables chunk by chunk, then writes ``planted.json``.

    Parameters
    ----------
    directory : pathlib.Path
        The truth folder (created).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pq.ParquetWriter] = {}

    def append(self, name: str, columns: dict[str, Any]) -> None:
        """Append rows to one truth table (``persons.parquet``...).

        Parameters
        ----------
        name : str
            File name of the table.
        columns : dict
            Column name -> values (numpy or pyarrow arrays).
        """
        table = pa.table(columns)
        writer = self._writers.get(name)
        if writer is None:
            writer = pq.ParquetWriter(self.directory / name, table.schema)
            self._writers[name] = writer
        writer.write_table(table.cast(writer.schema))

    def close(self, planted: dict[str, Any]) -> None:
        """Close the tables and write ``planted.json``.

        Parameters
        ----------
        planted : dict
            JSON-ready planted parameters and realised values.
        """
        for writer in self._writers.values():
            writer.close()
        (self.directory / PLANTED).write_text(
            json.dumps(planted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )


def read_planted(truth_dir: str | Path) -> dict[str, Any]:
    """Read ``planted.json`` of a generated demo.

    Parameters
    ----------
    truth_dir : str or pathlib.Path
        The demo's truth folder.

    Returns
    -------
    dict
        The planted parameters and realised values.
    """
    return json.loads((Path(truth_dir) / PLANTED).read_text(encoding="utf-8"))
