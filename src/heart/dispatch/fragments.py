"""The board's view: its live fragments (alerts, queue, units, map data…) rendered from one ``Board``.

The same fragments make the first page load (``dispatch.pages``) and every live re-render, which the app factory
wires to a feed (``heart.live.add_feed`` with ``render_board``): no HTTP here, and no wiring.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from heart.db import utcnow
from heart.dispatch.board import Board, build_board
from heart.dispatch.taps import token_for
from heart.realtime.feed import Rendered
from heart.templating import templates
from heart.triage.service import policy_named

PARTS = ("alerts", "queue", "outside", "phone", "active", "units", "mapdata")


def board_parts(board: Board) -> dict[str, str]:
    """Each live fragment of the board, rendered from ``board`` (shared by every open board)."""
    context = {"board": board, "now": board.now, "token_for": token_for}
    return {part: templates.env.get_template(f"dispatch/_{part}.html").render(context) for part in PARTS}


def render_board(factory: sessionmaker[Session]) -> Rendered:
    """The board's live fragments as of now (runs in a worker thread)."""
    with factory() as session:
        if session.get_bind().dialect.name == "postgresql":  # one snapshot for every query of the render
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        board = build_board(session=session, now=utcnow(), policy=policy_named(None))
        return Rendered(board.last_event_id, board_parts(board))
