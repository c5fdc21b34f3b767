"""The `campaign` command line."""

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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


def main() -> None:
    cli()
