"""`tension users ...`: local accounts for the dashboard and tokens for its JSON API."""

from __future__ import annotations

import sys
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table

from monitor.cli import _settings, app, out, user_errors, utcnow
from monitor.errors import TensionError

users_app = typer.Typer(help="Dashboard accounts (roles viewer, officer, analyst, admin) and API tokens.")
app.add_typer(users_app, name="users")


def _store(ctx: typer.Context):
    from monitor.store import Store

    return Store.open(_settings(ctx).database_url)


@users_app.command("add")
@user_errors
def users_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help="viewer, officer, analyst or admin.")],
    by: Annotated[str, typer.Option("--by", help="Who is adding the account (audited).")] = "cli",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from "
                                                 "standard input instead of prompting.")] = False,
) -> None:
    """Add a dashboard account; the password (12+ characters) is prompted for, never an argument."""
    from monitor.web.auth import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = _store(ctx)
    try:
        add_user(store, username, password, role, by=by, now=utcnow())
    finally:
        store.close()
    out.print(f"added {username} ({role})")


@users_app.command("list")
@user_errors
def users_list(ctx: typer.Context) -> None:
    """Accounts with role and when they were added."""
    from monitor.store.schema import users

    store = _store(ctx)
    try:
        with store.transaction() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.username)).mappings().all()
    finally:
        store.close()
    table = Table("username", "role", "added", "by", "disabled")
    for row in rows:
        table.add_row(row["username"], row["role"], f"{row['created_at']:%Y-%m-%d}", row["created_by"],
                      f"{row['disabled_at']:%Y-%m-%d}" if row["disabled_at"] else "")
    out.print(table)


@users_app.command("token")
@user_errors
def users_token(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. 'police analyst feed'.")],
    by: Annotated[str, typer.Option("--by", help="Who is issuing it (audited).")] = "cli",
) -> None:
    """Issue an API token (shown once) acting with the account's role."""
    from monitor.web.auth import add_token

    if not name.strip():
        raise TensionError("--name must say what the token is for")
    store = _store(ctx)
    try:
        token = add_token(store, username, name, by=by, now=utcnow())
    finally:
        store.close()
    print(token)
