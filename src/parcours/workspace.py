"""A workspace: a folder with ``parcours.yaml`` and the warehouse it describes."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml

from parcours.config import CONFIG_FILE, Config, load_config, render_config
from parcours.engine import Engine
from parcours.errors import UserInputError
from parcours.schema import SYSTEM_TABLES

_SOURCES_EXAMPLE = """
# Example of a source, for a store system exporting French-style CSV:
# sources:
#   store:
#     delimiter: ";"
#     encoding: cp1252
#     decimal: ","
#     date_format: "%d/%m/%Y %H:%M"
#     tables:
#       orders:
#         rename: {NUM_TICKET: order_id, ID_CLIENT: customer_id, DATE_HEURE: ordered_at}
#         constants: {currency: EUR}
#         values: {channel: {MAG: store, WEB: web}}
"""


class Workspace:
    """The folder, its validated config and (opened on first use) its engine.

    Open one per command or request with :meth:`open`; close it with :meth:`close` or a
    ``with`` block.
    """

    def __init__(self, directory: Path, config: Config) -> None:
        self.dir = directory
        self.config = config

    @classmethod
    def open(cls, directory: str | Path) -> Workspace:
        directory = Path(directory)
        path = directory / CONFIG_FILE
        if not path.is_file():
            raise UserInputError(
                f"no {CONFIG_FILE} in {directory}",
                hint=f"create a workspace with: parcours init {directory}",
            )
        return cls(directory, load_config(path))

    @classmethod
    def init(
        cls,
        directory: str | Path,
        sources: dict[str, Any] | None = None,
        engine: Literal["duckdb", "spark"] = "duckdb",
    ) -> Workspace:
        """Create a workspace with a commented ``parcours.yaml`` (kept if it exists)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / CONFIG_FILE
        if not path.exists():
            text = render_config() + "\n" + _SOURCES_EXAMPLE
            text = text.replace("\nengine: duckdb\n", f"\nengine: {engine}\n", 1)
            if sources:
                text = (
                    text.replace("sources: {}\n", "")
                    + "\n"
                    + yaml.safe_dump({"sources": sources}, sort_keys=False, allow_unicode=True)
                )
            path.write_text(text, encoding="utf-8")
        ws = cls.open(directory)
        # The tables ingestion reports into exist from the start, so they can be queried.
        ws.engine.create_missing(SYSTEM_TABLES)
        ws.close()
        return ws

    @cached_property
    def engine(self) -> Engine:
        return Engine.connect(self.config, self.dir)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.close()
            del self.__dict__["engine"]

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
