"""Assignment as plain Python: which team handles a ticket, and which of its online agents
takes it next.

- A team handles the categories and languages it lists (an empty list means any). Among the
  teams that accept a ticket, the most specific wins: a team naming the ticket's language and
  category beats one that takes anything; ties go to the first team in the given order.
- Only members who are online (a desk socket open) get tickets.
- Round robin: the next online member after the one who got the previous ticket, by id.
- Least loaded: the online member with the fewest open tickets; ties go round robin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ROUND_ROBIN = "round_robin"
LEAST_LOADED = "least_loaded"


@dataclass(frozen=True)
class TeamInfo:
    id: int
    name: str
    strategy: str = ROUND_ROBIN
    member_ids: tuple[int, ...] = ()
    languages: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    last_assigned_id: int | None = None


@dataclass(frozen=True)
class Pick:
    agent_id: int | None
    reason: str


def _language_matches(team: TeamInfo, language: str) -> bool:
    wanted = {lang.casefold() for lang in team.languages}
    return language.casefold() in wanted or language.split("-")[0].casefold() in wanted


def team_for(teams: Iterable[TeamInfo], *, category: str, language: str) -> TeamInfo | None:
    best, best_score = None, -1
    for team in teams:
        if team.categories and category not in team.categories:
            continue
        if team.languages and not _language_matches(team, language):
            continue
        score = 2 * bool(team.languages) + bool(team.categories)
        if score > best_score:
            best, best_score = team, score
    return best


def _after(ids: list[int], last: int | None) -> list[int]:
    """ids (sorted) rotated so that the first one follows `last`."""
    if last is None:
        return ids
    later = [i for i in ids if i > last]
    return later + [i for i in ids if i <= last]


def pick_agent(
    team: TeamInfo, *, online_ids: frozenset[int], open_tickets: Mapping[int, int]
) -> Pick:
    online = sorted(m for m in set(team.member_ids) if m in online_ids)
    if not online:
        return Pick(None, f"Nobody in {team.name} is online: the ticket waits unassigned")
    order = _after(online, team.last_assigned_id)
    if team.strategy == LEAST_LOADED:
        fewest = min(open_tickets.get(m, 0) for m in order)
        chosen = next(m for m in order if open_tickets.get(m, 0) == fewest)
        return Pick(chosen, f"{team.name}: online member with the fewest open tickets ({fewest})")
    return Pick(order[0], f"{team.name}: next online member in turn")
