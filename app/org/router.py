"""HTTP routes of the registry: parse, call the service, shape the answer."""

from typing import Annotated

from fastapi import Query, status

from app.auth.dependencies import PrincipalDep
from app.db import SessionDep
from app.errors import problem_responses
from app.idempotency.dependencies import IdempotencyDep
from app.imports.export import export_members
from app.org import service
from app.org.enums import MemberCategory, MemberStatus, UnitKind
from app.org.repository import (
    BranchRepository,
    DistrictRepository,
    MemberFilter,
    MemberRepository,
    UnitRepository,
)
from app.org.schemas import (
    BranchCreate,
    BranchRead,
    BranchUpdate,
    DistrictCreate,
    DistrictRead,
    DistrictUpdate,
    MemberCreate,
    MemberRead,
    MemberTransferCreate,
    MemberTransferRead,
    MemberUpdate,
    UnitCreate,
    UnitRead,
    UnitUpdate,
)
from app.pagination import Page, PageQuery, paginate
from app.routing import APIRouter
from app.schemas import MAX_ID, PathId
from app.spreadsheets import SpreadsheetFormat, spreadsheet_content

router = APIRouter(responses=problem_responses(401, 422))

Search = Annotated[str | None, Query(max_length=100, description="Part of the name or code.")]
ParentId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
READ = problem_responses(404)
WRITE = problem_responses(403, 404, 409)
CREATE = problem_responses(403, 409)


# Districts ----------------------------------------------------------------------------------


@router.get("/districts", tags=["districts"], summary="List districts")
def list_districts(
    session: SessionDep, principal: PrincipalDep, page: PageQuery, q: Search = None
) -> Page[DistrictRead]:
    stmt = DistrictRepository(session, principal).search(q)
    return paginate(session, stmt, page, DistrictRead.model_validate)


@router.post(
    "/districts",
    tags=["districts"],
    summary="Create a district",
    status_code=status.HTTP_201_CREATED,
    responses=CREATE,
)
def create_district(
    session: SessionDep, principal: PrincipalDep, body: DistrictCreate, idempotency: IdempotencyDep
) -> DistrictRead:
    return idempotency.answer(
        body,
        201,
        lambda: DistrictRead.model_validate(service.create_district(session, principal, body)),
    )


@router.get(
    "/districts/{district_id}", tags=["districts"], summary="Read a district", responses=READ
)
def get_district(session: SessionDep, principal: PrincipalDep, district_id: PathId) -> DistrictRead:
    district = service.get_or_404(DistrictRepository(session, principal), district_id, "district")
    return DistrictRead.model_validate(district)


@router.patch(
    "/districts/{district_id}", tags=["districts"], summary="Update a district", responses=WRITE
)
def update_district(
    session: SessionDep, principal: PrincipalDep, district_id: PathId, body: DistrictUpdate
) -> DistrictRead:
    return DistrictRead.model_validate(
        service.update_district(session, principal, district_id, body)
    )


# Units --------------------------------------------------------------------------------------


@router.get("/units", tags=["units"], summary="List units")
def list_units(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    district_id: ParentId = None,
    kind: UnitKind | None = None,
    q: Search = None,
) -> Page[UnitRead]:
    stmt = UnitRepository(session, principal).search(
        q, district_id=district_id, kind=kind and kind.value
    )
    return paginate(session, stmt, page, UnitRead.model_validate)


@router.post(
    "/units",
    tags=["units"],
    summary="Create a unit",
    status_code=status.HTTP_201_CREATED,
    responses=CREATE,
)
def create_unit(
    session: SessionDep, principal: PrincipalDep, body: UnitCreate, idempotency: IdempotencyDep
) -> UnitRead:
    return idempotency.answer(
        body, 201, lambda: UnitRead.model_validate(service.create_unit(session, principal, body))
    )


@router.get("/units/{unit_id}", tags=["units"], summary="Read a unit", responses=READ)
def get_unit(session: SessionDep, principal: PrincipalDep, unit_id: PathId) -> UnitRead:
    return UnitRead.model_validate(
        service.get_or_404(UnitRepository(session, principal), unit_id, "unit")
    )


@router.patch("/units/{unit_id}", tags=["units"], summary="Update a unit", responses=WRITE)
def update_unit(
    session: SessionDep, principal: PrincipalDep, unit_id: PathId, body: UnitUpdate
) -> UnitRead:
    return UnitRead.model_validate(service.update_unit(session, principal, unit_id, body))


# Branches -----------------------------------------------------------------------------------


@router.get("/branches", tags=["branches"], summary="List branches")
def list_branches(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    unit_id: ParentId = None,
    district_id: ParentId = None,
    q: Search = None,
) -> Page[BranchRead]:
    stmt = BranchRepository(session, principal).search_in(
        q, unit_id=unit_id, district_id=district_id
    )
    return paginate(session, stmt, page, BranchRead.model_validate)


@router.post(
    "/branches",
    tags=["branches"],
    summary="Create a branch",
    status_code=status.HTTP_201_CREATED,
    responses=CREATE,
)
def create_branch(
    session: SessionDep, principal: PrincipalDep, body: BranchCreate, idempotency: IdempotencyDep
) -> BranchRead:
    return idempotency.answer(
        body,
        201,
        lambda: BranchRead.model_validate(service.create_branch(session, principal, body)),
    )


@router.get("/branches/{branch_id}", tags=["branches"], summary="Read a branch", responses=READ)
def get_branch(session: SessionDep, principal: PrincipalDep, branch_id: PathId) -> BranchRead:
    branch = service.get_or_404(BranchRepository(session, principal), branch_id, "branch")
    return BranchRead.model_validate(branch)


@router.patch(
    "/branches/{branch_id}", tags=["branches"], summary="Update a branch", responses=WRITE
)
def update_branch(
    session: SessionDep, principal: PrincipalDep, branch_id: PathId, body: BranchUpdate
) -> BranchRead:
    return BranchRead.model_validate(service.update_branch(session, principal, branch_id, body))


# Members ------------------------------------------------------------------------------------


@router.get(
    "/members",
    tags=["members"],
    summary="List members",
    description="A page of JSON; or, with `format=csv` or `format=xlsx`, every member the "
    "filters match as a spreadsheet with Chinese headers (`limit` and `offset` ignored).",
    responses=spreadsheet_content("A page of members, or all of them as a spreadsheet."),
)
def list_members(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    branch_id: ParentId = None,
    unit_id: ParentId = None,
    district_id: ParentId = None,
    category: MemberCategory | None = None,
    status: MemberStatus | None = None,
    q: Annotated[str | None, Query(max_length=50, description="Part of the name.")] = None,
    export_format: Annotated[
        SpreadsheetFormat | None, Query(alias="format", description="csv or xlsx: export.")
    ] = None,
) -> Page[MemberRead]:
    f = MemberFilter(branch_id, unit_id, district_id, category, status, q)
    if export_format is not None:
        return export_members(session, principal, f, export_format)  # type: ignore[return-value]
    stmt = MemberRepository(session, principal).search(f)
    return paginate(session, stmt, page, lambda m: MemberRead.for_caller(principal, m))


@router.post(
    "/members",
    tags=["members"],
    summary="Register a member",
    status_code=status.HTTP_201_CREATED,
    responses=CREATE,
)
def create_member(
    session: SessionDep, principal: PrincipalDep, body: MemberCreate, idempotency: IdempotencyDep
) -> MemberRead:
    return idempotency.answer(
        body,
        201,
        lambda: MemberRead.for_caller(principal, service.create_member(session, principal, body)),
    )


@router.get("/members/{member_id}", tags=["members"], summary="Read a member", responses=READ)
def get_member(session: SessionDep, principal: PrincipalDep, member_id: PathId) -> MemberRead:
    member = service.get_or_404(MemberRepository(session, principal), member_id, "member")
    return MemberRead.for_caller(principal, member)


@router.patch("/members/{member_id}", tags=["members"], summary="Update a member", responses=WRITE)
def update_member(
    session: SessionDep, principal: PrincipalDep, member_id: PathId, body: MemberUpdate
) -> MemberRead:
    return MemberRead.for_caller(
        principal, service.update_member(session, principal, member_id, body)
    )


@router.post(
    "/members/{member_id}/transfer",
    tags=["members"],
    summary="Move a member to another branch",
    status_code=status.HTTP_201_CREATED,
    responses=WRITE,
)
def transfer_member(
    session: SessionDep,
    principal: PrincipalDep,
    member_id: PathId,
    body: MemberTransferCreate,
    idempotency: IdempotencyDep,
) -> MemberTransferRead:
    def produce() -> MemberTransferRead:
        move = service.transfer_member(session, principal, member_id, body)
        return service.transfer_reads(session, principal, [move])[0]

    return idempotency.answer(body, 201, produce)


@router.get(
    "/members/{member_id}/transfers",
    tags=["members"],
    summary="List a member's moves between branches",
    responses=READ,
)
def list_member_transfers(
    session: SessionDep, principal: PrincipalDep, member_id: PathId, page: PageQuery
) -> Page[MemberTransferRead]:
    return service.list_transfers(session, principal, member_id, page)
