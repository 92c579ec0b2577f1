"""The gold record as typed columns: the Arrow schema of ``imrgold export --format parquet``
and the Hugging Face ``datasets`` features of the JSONL export, both derived from
`core.models.GoldRecord` (the single statement of the schema), never restated by hand.

Types: text is ``string``, whole numbers ``int64``, dates ``date32``, a choice (``Literal``) is
``string`` with its allowed values in the field's metadata, a list is a list (of structs for
items and diagnoses), a nested model a struct; a field may be null only where the model allows
``None``. pyarrow is the optional extra ``imrgold[parquet]``; the features need neither it nor
``datasets`` to be written.
"""

from __future__ import annotations

import datetime as dt
import json
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from imrgold.core.extras import require
from imrgold.core.models import GoldRecord

if TYPE_CHECKING:
    import pyarrow as pa

_SCALARS: dict[type, str] = {str: "string", int: "int64", float: "float64", bool: "bool",
                             dt.date: "date32"}  # fmt: skip


@dataclass(frozen=True)
class Column:
    """One column's type: a scalar (``string``, ``int64``, ``date32``...), a ``list`` of
    ``item``, or a ``struct`` of ``fields``."""

    kind: str
    nullable: bool = False
    item: Column | None = None
    fields: dict[str, Column] = field(default_factory=dict)
    choices: tuple[str, ...] = ()
    description: str | None = None


def column_of(annotation: Any, description: str | None = None) -> Column:
    """The column type of a pydantic field's annotation."""
    args = get_args(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        if len(present) != 1:
            raise TypeError(f"no column type for {annotation!r}")
        inner = column_of(present[0], description)
        return Column(**{**inner.__dict__, "nullable": True})
    if get_origin(annotation) is Literal:
        return Column("string", choices=tuple(str(a) for a in args), description=description)
    if get_origin(annotation) is list:
        return Column("list", item=column_of(args[0]), description=description)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Column("struct", fields=model_columns(annotation), description=description)
    if annotation in _SCALARS:
        return Column(_SCALARS[annotation], description=description)
    raise TypeError(f"no column type for {annotation!r}")


def model_columns(model: type[BaseModel] = GoldRecord) -> dict[str, Column]:
    return {
        name: column_of(info.annotation, info.description)
        for name, info in model.model_fields.items()
    }


# ---------------------------------------------------------------------------------------------
# Arrow


def _arrow_type(column: Column) -> pa.DataType:
    import pyarrow as pa

    if column.kind == "list":
        assert column.item is not None
        return pa.list_(_arrow_field("item", column.item))
    if column.kind == "struct":
        return pa.struct([_arrow_field(n, c) for n, c in column.fields.items()])
    return {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
            "bool": pa.bool_(), "date32": pa.date32()}[column.kind]  # fmt: skip


def _arrow_field(name: str, column: Column) -> pa.Field:
    import pyarrow as pa

    metadata = {}
    if column.description:
        metadata["description"] = column.description
    if column.choices:
        metadata["choices"] = json.dumps(list(column.choices))
    return pa.field(name, _arrow_type(column), nullable=column.nullable, metadata=metadata or None)


def arrow_schema() -> pa.Schema:
    """The Arrow schema of a gold record (needs pyarrow: ``imrgold[parquet]``)."""
    require("pyarrow", "parquet", "--format parquet")
    import pyarrow as pa

    return pa.schema([_arrow_field(n, c) for n, c in model_columns().items()])


class _Sink:
    """A write-only file that hands its bytes on instead of keeping them: the Parquet file
    streams to ``core.files.atomic_write`` a row group at a time."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False
        self._size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self._size += len(data)
        return len(data)

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def parquet_chunks(records: Iterable[GoldRecord], rows_per_group: int = 1000) -> Iterator[bytes]:
    """A Parquet file of gold records, one row a record, as the bytes of each row group."""
    schema = arrow_schema()
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema)
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record.model_dump(mode="python"))
        if len(batch) >= rows_per_group:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            batch = []
            yield sink.take()
    if batch:
        writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    writer.close()
    yield sink.take()


# ---------------------------------------------------------------------------------------------
# datasets


def _feature(column: Column) -> Any:
    if column.kind == "list":
        assert column.item is not None
        # A one-element list is datasets' spelling of a list type, read by every version.
        return [_feature(column.item)]
    if column.kind == "struct":
        return {n: _feature(c) for n, c in column.fields.items()}
    return {"dtype": column.kind, "_type": "Value"}


def datasets_features() -> dict[str, Any]:
    """The JSONL export's features in ``datasets.Features.to_dict()`` form: load it with
    ``Features.from_dict(json.load(f))`` and pass it to ``load_dataset("json", ...)``."""
    return {n: _feature(c) for n, c in model_columns().items()}


# ---------------------------------------------------------------------------------------------
# In words (docs/exports.md shows this listing; a test keeps the two the same)


def _type_words(column: Column) -> str:
    if column.kind == "list":
        assert column.item is not None
        return f"list<{_type_words(column.item)}>"
    return column.kind


def column_lines(columns: dict[str, Column] | None = None, indent: str = "") -> list[str]:
    """One line a column, nested fields indented under their list or struct: its type, ``null``
    where allowed, the choices of a choice."""
    lines = []
    for name, column in (model_columns() if columns is None else columns).items():
        words = _type_words(column) + (", null" if column.nullable else "")
        if column.choices:
            words += f" ({' | '.join(column.choices)})"
        lines.append(f"{indent}{name}: {words}")
        inner = column.item if column.kind == "list" else column
        if inner is not None and inner.kind == "struct":
            lines += column_lines(inner.fields, indent + "  ")
    return lines
