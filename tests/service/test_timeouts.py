"""A timeout around an await never eats the caller's cancel (Ctrl+C, a Cancel button)."""

import asyncio
import sys

import pytest

from eachlabs_widgets._service.timeouts import within


async def _cancel_as_it_ends(bound) -> asyncio.Task:
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(bound(done))
    await asyncio.sleep(0)  # the task now waits for ``done``
    done.set_result(1)  # the work ends in the same turn of the loop as the cancel lands
    task.cancel()
    return task


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10 has only wait_for")
async def test_a_cancel_that_lands_as_the_work_ends_is_kept():
    task = await _cancel_as_it_ends(lambda work: within(10, work))
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="wait_for was fixed in 3.12")
async def test_wait_for_of_this_python_loses_that_cancel():
    # why within() exists: the same race with wait_for returns the result
    task = await _cancel_as_it_ends(lambda work: asyncio.wait_for(work, 10))
    assert await task == 1


async def test_time_running_out_raises_timeout_error():
    with pytest.raises(asyncio.TimeoutError):
        await within(0.01, asyncio.sleep(5))
    assert await within(None, asyncio.sleep(0, result=3)) == 3
