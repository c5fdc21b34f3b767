"""The `campaign` command line."""

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.auth.principal import Role
from app.config import get_settings

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


def _seed(scale: float, seed: int) -> None:
    from app.db import get_engine
    from app.demo import seed_demo

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        result = seed_demo(get_engine(), scale=scale, seed=seed, progress=progress)
    if result.already_seeded:
        console.print("The database already holds data; the demo wrote nothing.")
    else:
        console.print(
            f"Demo written in {result.seconds:.1f} s: {result.districts:,} districts, "
            f"{result.units:,} units, {result.branches:,} branches, {result.members:,} members."
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
