"""HTTP routes of the member import: read the upload, call the service, shape the answer."""

import hashlib
import ntpath
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response

from app.auth.dependencies import PrincipalDep
from app.auth.principal import Action
from app.db import SessionDep
from app.errors import AppError, InvalidInput, problem_responses
from app.idempotency.dependencies import IdempotencyDep
from app.imports import service
from app.imports.schemas import ImportMode, ImportProblem, ImportResult
from app.imports.template import example_branch_code, template_response
from app.routing import APIRouter
from app.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, SpreadsheetFormat

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# The form around the file: part headers, boundaries, the file name.
_FORM_OVERHEAD = 64 * 1024
_FILE_FIELD = "file"

router = APIRouter(prefix="/imports", tags=["imports"], responses=problem_responses(401))


class FileTooLarge(AppError):
    status, type, title = 413, "file-too-large", "The file is larger than 20 MB"


class NoFileUploaded(InvalidInput):
    type, title = "no-file", "No file was uploaded"


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": [_FILE_FIELD],
                "properties": {
                    _FILE_FIELD: {
                        "type": "string",
                        "format": "binary",
                        "description": "XLSX (or XLS), or CSV in UTF-8 or GB18030; 20 MB at most.",
                    }
                },
            }
        }
    },
}


async def member_file(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> AsyncIterator[service.MemberFile]:
    """The uploaded file, read with its size counted as it arrives.

    The caller's right is checked first, so that a refused upload is not read. The
    transaction that looked the caller up ends before the upload is read: on SQLite it holds
    the write lock, and an upload over a slow phone link would hold every other writer up.
    """
    principal.require(Action.write_member)
    await run_in_threadpool(session.commit)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + _FORM_OVERHEAD:
        raise FileTooLarge(f"The upload declares {int(declared):,} bytes.")
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith("multipart/form-data"):
        raise NoFileUploaded(
            f"Send the file as multipart/form-data, in a field named {_FILE_FIELD}."
        )
    parser = MultiPartParser(request.headers, _counted(request), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise NoFileUploaded(f"The upload cannot be read: {exc.message}") from None
    try:
        upload = form.get(_FILE_FIELD)
        if not isinstance(upload, UploadFile):
            raise NoFileUploaded(f"Send the file in a form field named {_FILE_FIELD}.")
        if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            raise FileTooLarge(f"The file has {upload.size:,} bytes.")
        yield service.MemberFile(name=_base_name(upload.filename), content=upload.file)
    finally:
        await form.close()


async def _counted(request: Request) -> AsyncIterator[bytes]:
    # Content-Length can be absent (chunked) or wrong: what counts is what arrives.
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_UPLOAD_BYTES + _FORM_OVERHEAD:
            raise FileTooLarge("The upload went past 20 MB.")
        yield chunk


def _base_name(filename: str | None) -> str | None:
    # Some browsers send the whole path (C:\fakepath\党员.xlsx); ntpath splits / and \ alike.
    if not filename:
        return None
    return ntpath.basename(filename)[:200] or None


@router.post(
    "/members",
    summary="Import members from an XLSX or CSV file",
    description=(
        "Every row is checked first; if any is wrong, nothing is written and the answer (422) "
        "lists the errors by row and column, as the spreadsheet numbers them (the header is "
        "row 1). `mode=create` (default) registers every row as a new member; `mode=upsert` "
        "updates the members whose ID number is registered. `dry_run=true` checks and counts "
        "without writing. Headers are the Chinese labels of the template or English codes."
    ),
    responses=problem_responses(403, 409, 413, 422, models={422: ImportProblem}),
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
def import_members(
    session: SessionDep,
    principal: PrincipalDep,
    upload: Annotated[service.MemberFile, Depends(member_file, scope="function")],
    idempotency: IdempotencyDep,
    mode: Annotated[ImportMode, Query(description="create, or upsert by ID number.")] = (
        ImportMode.create
    ),
    dry_run: Annotated[bool, Query(description="Check and count, write nothing.")] = False,
) -> ImportResult:
    # The request a key stands for: the file's bytes and how they are imported.
    request = {"sha256": _sha256(upload.content), "mode": mode, "dry_run": dry_run}
    return idempotency.answer(
        request,
        200,
        lambda: service.import_members(session, principal, upload, mode=mode, dry_run=dry_run),
    )


def _sha256(content) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: content.read(1 << 20), b""):
        digest.update(chunk)
    content.seek(0)
    return digest.hexdigest()


@router.get(
    "/members/template",
    summary="Download the member import template",
    response_class=Response,
    responses={
        200: {
            "description": "The template: Chinese headers and one example row.",
            "content": {
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
                CSV_MEDIA_TYPE.split(";")[0]: {"schema": {"type": "string"}},
            },
        },
        **problem_responses(422),
    },
)
def get_member_template(
    session: SessionDep,
    principal: PrincipalDep,
    fmt: Annotated[
        SpreadsheetFormat, Query(alias="format", description="xlsx (with pick lists) or csv.")
    ] = SpreadsheetFormat.xlsx,
) -> Response:
    return template_response(fmt, example_branch_code(session, principal))
