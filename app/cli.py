"""The `campaign` command line."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from app.auth.principal import Role
from app.config import get_settings
from app.imports.schemas import ImportMode

if TYPE_CHECKING:
    from app.errors import AppError

cli = typer.Typer(help="Campaign tracker: the organisation department's campaign service.")
console = Console()


@cli.command()
def migrate() -> None:
    """Upgrade the database (DATABASE_URL) to the newest schema."""
    from app.migrate import upgrade

    upgrade()
    console.print("[green]Database is at the newest migration.[/green]")


@cli.command()
def demo(
    scale: Annotated[float, typer.Option(min=0.001, max=1000, help="1.0 = the first batch.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 2005,
) -> None:
    """Migrate, then fill an empty database with demo data (does nothing if it has some)."""
    from app.migrate import upgrade

    upgrade()
    _seed(scale, seed)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    demo: Annotated[bool, typer.Option("--demo", help="Migrate and seed demo data first.")] = False,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    if demo:
        from app.migrate import upgrade

        upgrade()
        _seed(1.0, 2005)
    console.print(f"Serving on http://{host}:{port} (API docs at /docs)")
    uvicorn.run(
        "app.main:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=get_settings().log_level.lower(),
    )


@cli.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name (stored lower-case).")],
    role: Annotated[Role, typer.Option(help="What the user may do.", case_sensitive=False)],
    district: Annotated[str | None, typer.Option(help="District code (district_admin).")] = None,
    unit: Annotated[
        list[str] | None,
        typer.Option(help="Unit code (unit_admin); repeat for an inspector's units."),
    ] = None,
    branch: Annotated[str | None, typer.Option(help="Branch code (branch_secretary).")] = None,
    display_name: Annotated[str | None, typer.Option(help="Shown name; default USERNAME.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user, e.g. the first city admin: campaign create-user admin --role city_admin."""
    from pydantic import ValidationError

    from app.auth.principal import SYSTEM
    from app.db import get_engine, new_session
    from app.errors import AppError
    from app.users import service
    from app.users.schemas import UserCreate

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with new_session(get_engine(), write=True) as session:
            scope = service.scope_from_codes(
                session, role, district=district, units=unit, branch=branch
            )
            data = UserCreate(
                username=username,
                display_name=display_name or username,
                role=role,
                password=password,
                **scope,
            )
            user = service.create_user(session, SYSTEM, data)
            session.commit()
    except ValidationError as exc:
        for error in exc.errors():
            console.print(f"[red]{'.'.join(map(str, error['loc']))}: {error['msg']}[/red]")
        raise typer.Exit(1) from None
    except AppError as exc:
        console.print(f"[red]{exc.title}: {exc.detail or ''}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]Created {user.role} {user.username!r} (id {user.id}).[/green]")


@cli.command("verify-totals")
def verify_totals(
    fix: Annotated[bool, typer.Option("--fix", help="Rewrite the totals that differ.")] = False,
) -> None:
    """Recompute the running totals (members' study, branches' sessions) from the attendance
    and session rows and report any difference."""
    from app.db import get_engine, new_session
    from app.study import branch_totals, totals

    # (name, what the rows are called, module, how a key reads)
    kinds = (
        ("member", "attendance", totals, "member {}, batch {}, {}"),
        ("branch", "sessions", branch_totals, "branch {}, batch {}, {}"),
    )
    working = console.status("Recomputing totals from attendance and sessions…")
    with working, new_session(get_engine(), write=fix) as session:
        found = {kind: source.differences(session) for kind, _, source, _ in kinds}
        if fix and any(found.values()):
            for kind, _, source, _ in kinds:
                source.repair(session, found[kind])
            session.commit()
    if not any(found.values()):
        console.print("[green]Every total agrees with the attendance and session rows.[/green]")
        return
    for kind, rows, _, key in kinds:
        for d in found[kind][:50]:
            console.print(
                f"{key.format(*d.key)}: stored {d.stored}, {rows} say {d.expected}",
                highlight=False,
            )
    counted = [f"{len(found[kind]):,} {kind} totals" for kind, *_ in kinds if found[kind]]
    more = " (first 50 of each shown)" if any(len(f) > 50 for f in found.values()) else ""
    if fix:
        console.print(f"[yellow]Repaired {' and '.join(counted)}{more}.[/yellow]")
        return
    console.print(f"[red]{' and '.join(counted)} differ{more}; run with --fix to repair.[/red]")
    raise typer.Exit(1)


@cli.command("import-members")
def import_members(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="An XLSX or CSV file."),
    ],
    mode: Annotated[
        ImportMode,
        typer.Option(case_sensitive=False, help="create: new members; upsert: by ID number."),
    ] = ImportMode.create,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count; write nothing.")
    ] = False,
) -> None:
    """Import members from a spreadsheet, as POST /api/v1/imports/members does: every row is
    checked, then all are written or none."""
    from app.auth.principal import SYSTEM
    from app.db import get_engine, new_session
    from app.errors import AppError
    from app.imports import service

    try:
        with (
            file.open("rb") as content,
            _progress() as report,
            new_session(get_engine(), write=True) as session,
        ):
            member_file = service.MemberFile(name=file.name, content=content)
            result = service.import_members(
                session, SYSTEM, member_file, mode=mode, dry_run=dry_run, progress=report
            )
            session.commit()
    except service.ImportRejected as exc:
        _print_row_errors(exc)
        raise typer.Exit(1) from None
    except AppError as exc:
        console.print(f"[red]{exc.title}: {exc.detail or ''}[/red]")
        raise typer.Exit(1) from None
    verb = "Would create" if dry_run else "Created"
    console.print(
        f"[green]{verb} {result.created:,}, "
        f"{'would update' if dry_run else 'updated'} {result.updated:,}, "
        f"unchanged {result.unchanged:,} of {result.rows:,} rows.[/green]"
    )
    if result.ignored_columns:
        console.print(f"Columns ignored: {'、'.join(result.ignored_columns)}", highlight=False)


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A bar per step; a step of unknown length pulses until its total is known."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def report(step: str, done: int, total: int | None) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield report


def _print_row_errors(exc: "AppError") -> None:
    table = Table("row", "column", "value", "problem", title=exc.title, title_justify="left")
    for e in exc.errors:
        table.add_row(str(e["row"]), e["column"] or "", e["value"] or "", e["message"])
    console.print(table)
    console.print(f"[red]{exc.detail} Nothing was written.[/red]", highlight=False, soft_wrap=True)


def _seed(scale: float, seed: int) -> None:
    from app.db import get_engine
    from app.demo import seed_demo

    with _progress() as progress:
        result = seed_demo(get_engine(), scale=scale, seed=seed, progress=progress)
    if result.already_seeded:
        console.print("The database already holds data; the demo wrote nothing.")
    else:
        console.print(
            f"Demo written in {result.seconds:.1f} s: {result.districts:,} districts, "
            f"{result.units:,} units, {result.branches:,} branches, {result.members:,} members, "
            f"{result.sessions:,} study sessions, {result.attendance:,} attendance records; "
            f"{result.units_past_study:,} units past study, "
            f"{result.evaluations:,} evaluations, "
            f"{result.rectification_items:,} rectification items, "
            f"{result.inspections:,} inspections."
        )
    _print_demo_users(create=not result.already_seeded)


def _print_demo_users(*, create: bool) -> None:
    from app.db import get_engine
    from app.demo.users import demo_users

    users = demo_users(get_engine(), create=create)
    if not users:
        return
    # Plain lines, never a table that a narrow terminal would wrap mid-password.
    console.print("Demo users (username / password), log in at /docs → Authorize:")
    for u in users:
        line = f"  {u.username} / {u.password}   {u.role.value}: {u.scope}"
        console.print(line, soft_wrap=True, highlight=False)


def main() -> None:
    cli()
