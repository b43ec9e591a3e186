"""Async EVALSHA calls that arrive together go out together: one write, one connection, in order.

While a batch is on the wire, new calls queue; when its replies are in, the queue goes out as the
next batch. A lone call therefore costs one round trip as before, and under load thousands of
concurrent reservations share a few writes and one connection instead of needing a pool connection
each (an async pool runs out of them long before 10,000 callers). Each call still gets its own
reply: a script error fails only its call, a broken connection fails the calls in flight, which
retry with the same request key and get the reservation if it had been made.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis as AsyncRedis
    from redis.asyncio.connection import AbstractConnection

_Call = tuple[bytes, "asyncio.Future[Any]"]


class ScriptPipeline:
    """Batches ``EVALSHA`` calls on ``client``; use it from one event loop."""

    def __init__(self, client: AsyncRedis) -> None:
        from redis.exceptions import NoScriptError, ResponseError

        self._client = client
        self._queue: list[_Call] = []
        self._flusher: asyncio.Task[None] | None = None
        self._connection: AbstractConnection | None = None
        self._script_error = ResponseError
        self._no_script = NoScriptError

    async def run(self, script: str, sha: str, numkeys: int, *args: str | int) -> Any:
        """The reply of ``script`` (whose SHA-1 is ``sha``) to its ``numkeys`` keys, then argv.

        A script error is raised here. The first call after Redis lost its script cache goes as a
        plain EVAL, which caches the script again.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((_pack(sha, numkeys, args), future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        try:
            return await future
        except self._no_script:
            return await self._client.eval(script, numkeys, *args)

    async def _flush(self) -> None:
        # One connection, taken once and kept: at the peak a batch goes out every few hundred
        # microseconds, and a pool's checkout and release per batch cost as much as the batch.
        # After a failure it is disconnected; redis-py connects it again on the next send.
        try:
            if self._connection is None:
                self._connection = await self._client.connection_pool.get_connection()  # type: ignore[no-untyped-call]
        except Exception as error:
            self._fail(self._queue, error)
            self._queue = []
            self._flusher = None
            return
        connection = self._connection
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await self._send(connection, batch)
                except Exception as error:
                    await connection.disconnect()
                    self._fail(batch, error)
        finally:
            # Cleared with no await since the queue was last seen empty, so a call queued from
            # now on starts a new flusher instead of waiting for this one.
            self._flusher = None

    async def _send(self, connection: AbstractConnection, batch: list[_Call]) -> None:
        packed = b"".join(command for command, _ in batch)
        await connection.send_packed_command(packed, check_health=False)
        for _, future in batch:
            try:
                reply = await connection.read_response()
            except self._script_error as error:  # this call's reply; the connection stays in step
                if not future.done():
                    future.set_exception(error)
                continue
            # A caller that gave up (its request was cancelled) has a done future: drop the reply.
            if not future.done():
                future.set_result(reply)

    @staticmethod
    def _fail(batch: list[_Call], error: Exception) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(error)


def _pack(sha: str, numkeys: int, args: tuple[str | int, ...]) -> bytes:
    """``EVALSHA sha numkeys args…`` in the Redis protocol. redis-py's general packer, which checks
    each argument's type through several layers, cost more than the rest of a reservation."""
    parts = [b"*%d\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n" % (len(args) + 3, sha.encode())]
    count = str(numkeys).encode()
    parts.append(b"$%d\r\n%s\r\n" % (len(count), count))
    for arg in args:
        data = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)
