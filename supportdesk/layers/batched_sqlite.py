"""channels-lite with batched sends and receives (see the package's docstring).

Imported only at the embedded default, where channels_lite is an installed app."""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import timedelta

from asgiref.sync import sync_to_async
from channels_lite.layers import ChannelEmpty
from channels_lite.layers.core import SQLiteChannelLayer
from channels_lite.models import Event, GroupMembership
from django.db import transaction
from django.db.models import Count
from django.utils import timezone


class BatchedSQLiteChannelLayer(SQLiteChannelLayer):
    """channels-lite whose group sends and receives cost a few queries, not a few per socket."""

    # Rows read back per query; the process's poller hands them out from memory.
    RECEIVE_BATCH = 500

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._received: defaultdict[str, deque] = defaultdict(deque)

    async def _receive_single_from_db(self, channel: str):
        waiting = self._received[channel]
        if not waiting:
            await self._receive_batch(channel, waiting)
        if not waiting:
            raise ChannelEmpty()
        message = waiting.popleft()
        return self._extract_message_channel(message, channel), message

    async def _receive_batch(self, channel: str, into: deque) -> None:
        messages = await self._execute_with_retry(lambda: self._claim_batch(channel))
        into.extend(messages)

    @sync_to_async
    def _claim_batch(self, channel: str) -> list[dict]:
        """Up to RECEIVE_BATCH undelivered messages of `channel`, oldest first, marked
        delivered in the same (IMMEDIATE, so write-locked from the start) transaction: another
        reader of the channel cannot claim them too."""
        with transaction.atomic(using=self.database):
            rows = list(
                Event.objects.using(self.database)
                .filter(delivered=False, channel_name=channel, expires_at__gte=timezone.now())
                .order_by("expires_at", "id")
                .values_list("id", "data")[: self.RECEIVE_BATCH]
            )
            if rows:
                Event.objects.using(self.database).filter(id__in=[pk for pk, _ in rows]).update(
                    delivered=True
                )
        return [self.deserialize(data) for _, data in rows]

    async def group_send(self, group: str, message: dict) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        channels = [
            name
            async for name in GroupMembership.objects.filter(
                group_name=group, expires_at__gte=timezone.now()
            ).values_list("channel_name", flat=True)
        ]
        if not channels:
            return
        full = await self._full_channels(channels)
        expiry = timezone.now() + timedelta(seconds=self.expiry)
        events = []
        for channel in channels:
            if channel in full:
                continue  # over capacity: dropped, as the channel layer spec says
            if "!" in channel:
                data = dict(message, __asgi_channel__=channel)
                name = self.non_local_name(channel)
            else:
                data, name = message, channel
            events.append(Event(channel_name=name, data=self.serialize(data), expires_at=expiry))
        if events:
            await self._execute_with_retry(lambda: Event.objects.abulk_create(events))

    async def _full_channels(self, channels: list[str]) -> set[str]:
        """Normal channels already holding `capacity` undelivered messages, in one query.

        A process-local channel's rows are stored under its process's name and read back by
        that process in batches into per-socket buffers, which keep only the newest
        `capacity` messages each: counting them here would add the rows of every other socket
        of that process, and a dead process's rows expire with the layer's expiry."""
        if not self.enforce_capacity:
            return set()
        normal = [c for c in channels if "!" not in c]
        if not normal:
            return set()
        counts = (
            Event.objects.filter(
                channel_name__in=normal, delivered=False, expires_at__gte=timezone.now()
            )
            .values_list("channel_name")
            .annotate(n=Count("id"))
        )
        return {name async for name, n in counts if n >= self.get_capacity(name)}
