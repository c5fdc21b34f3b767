from enum import StrEnum

from pydantic import BaseModel, Field

from app.errors import FieldError, Problem


class ImportMode(StrEnum):
    create = "create"  # every row is a new member; an ID number already registered is an error
    upsert = "upsert"  # a row whose ID number is registered updates that member


class ImportResult(BaseModel):
    file_name: str | None
    mode: ImportMode
    dry_run: bool = Field(description="True: nothing was written; the counts say what would be.")
    rows: int = Field(description="Member rows read (blank rows are skipped).")
    created: int
    updated: int
    unchanged: int = Field(description="Rows matching a registered member in every column.")
    ignored_columns: list[str] = Field(
        description="Headers the importer does not know (序号, 备注...), left as they are."
    )


class RowError(BaseModel):
    row: int = Field(description="The row number as the spreadsheet shows it; the header is 1.")
    column: str | None = Field(description="The header as written in the file.")
    value: str | None = Field(description="The cell as read; ID numbers and phones masked.")
    code: str = Field(examples=["invalid_id_number"], description="Stable, for programs.")
    message: str


class ImportProblem(Problem):
    """A refused import: nothing was written. Row errors come in row order."""

    errors: list[RowError | FieldError] = Field(
        default_factory=list,
        description="Row errors (at most 200) for a refused file; field errors for bad "
        "query parameters.",
    )
    error_count: int | None = Field(
        default=None, description="Every error found in the file, listed or not."
    )
