"""``Columns``: the column-oriented table the generator passes between its steps.

A dict of equal-length arrays (numpy or pyarrow), cheap to filter, reorder and concatenate;
the generator never holds one Python object per person, order or event.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa


class Columns(dict):
    """Named, equal-length columns: numpy arrays or pyarrow arrays."""

    def __len__(self) -> int:  # the number of rows, not of columns
        for value in self.values():
            return len(value)
        return 0

    @property
    def rows(self) -> int:
        """Number of rows."""
        return len(self)

    def take(self, index: np.ndarray) -> Columns:
        """Rows at ``index`` (integer positions or a boolean mask), in that order.

        Parameters
        ----------
        index : numpy.ndarray
            Integer positions or a boolean mask.

        Returns
        -------
        Columns
            A new table with the selected rows.
        """
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        return Columns({k: _take(v, index) for k, v in self.items()})

    @staticmethod
    def concat(parts: Iterable[Columns]) -> Columns:
        """Concatenate tables that have the same columns.

        Parameters
        ----------
        parts : iterable of Columns
            Tables with the same column names.

        Returns
        -------
        Columns
            The rows of every part, in order.
        """
        parts = list(parts)
        filled = [p for p in parts if p.rows]
        if not filled:
            return parts[0] if parts else Columns()
        parts = filled
        names = list(parts[0])
        out = Columns()
        for name in names:
            values = [p[name] for p in parts]
            if isinstance(values[0], pa.Array | pa.ChunkedArray):
                out[name] = pa.concat_arrays(
                    [v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v for v in values]
                )
            else:
                out[name] = np.concatenate(values)
        return out


def _take(value, index: np.ndarray):
    if isinstance(value, pa.Array | pa.ChunkedArray):
        return value.take(pa.array(index, pa.int64()))
    return value[index]
