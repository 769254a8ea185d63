import asyncio

from bot.core.conversation import Scope
from bot.core.events import Usage
from bot.core.store import ClaimOutcome, ClaimStore, ThreadStore, UsageLog


async def test_first_claim_wins_and_duplicates_are_refused(db) -> None:
    first, second = ClaimStore(db, "replica-a"), ClaimStore(db, "replica-b")
    results = await asyncio.gather(*(store.claim("event:Ev1") for store in (first, second) * 5))
    assert sum(r.outcome is ClaimOutcome.NEW for r in results) == 1
    assert all(r.outcome in (ClaimOutcome.NEW, ClaimOutcome.DUPLICATE) for r in results)


async def test_done_claims_stay_done(db) -> None:
    store = ClaimStore(db, "a", lease_seconds=0.05)
    claim = await store.claim("event:Ev2")
    await store.finish(claim)
    await asyncio.sleep(0.1)
    assert (await store.claim("event:Ev2")).outcome is ClaimOutcome.DUPLICATE


async def test_expired_lease_is_taken_over_with_the_half_written_reply(db) -> None:
    # The lease is long enough that a loaded machine cannot let it lapse between two calls.
    dead = ClaimStore(db, "dead", lease_seconds=1.0)
    claim = await dead.claim("event:Ev3")
    await dead.record_replies(claim, "C1", ["111.000100"])
    assert (await ClaimStore(db, "b", 1.0).claim("event:Ev3")).outcome is ClaimOutcome.DUPLICATE
    await asyncio.sleep(1.1)
    racers = [ClaimStore(db, f"r{i}", 5.0) for i in range(4)]
    results = await asyncio.gather(*(r.claim("event:Ev3") for r in racers))
    taken = [r for r in results if r.outcome is ClaimOutcome.TAKEN_OVER]
    assert len(taken) == 1
    assert taken[0].previous_channel == "C1" and taken[0].previous_replies == ["111.000100"]
    assert not await dead.renew(claim)  # the dead owner has lost it


async def test_a_resumed_durable_run_adopts_its_claim_with_a_live_lease(db) -> None:
    dead = ClaimStore(db, "dead", lease_seconds=60.0)
    claim = await dead.claim("event:Ev5")
    await dead.record_replies(claim, "C1", ["111.000200"])
    restarted = ClaimStore(db, "restarted", lease_seconds=60.0)
    adopted = await restarted.adopt("event:Ev5")
    assert adopted.outcome is ClaimOutcome.TAKEN_OVER
    assert adopted.previous_replies == ["111.000200"]
    assert not await dead.renew(claim)  # the dead owner has lost it
    again = await restarted.adopt("event:Ev5")  # still the dead owner's half answer to clear
    assert again.outcome is ClaimOutcome.TAKEN_OVER and again.previous_replies == ["111.000200"]
    assert (await ClaimStore(db, "b").claim("event:Ev5")).outcome is ClaimOutcome.DUPLICATE
    fresh = await restarted.adopt("event:Ev6")  # purged meanwhile: written again
    assert fresh.outcome is ClaimOutcome.NEW and await restarted.state("event:Ev6") == "running"
    first = await restarted.claim("event:Ev7")
    assert (await restarted.adopt(first.key)).outcome is ClaimOutcome.NEW  # took it first


async def test_a_worker_adopts_a_claim_queued_for_it_as_new_and_holds_it(db) -> None:
    """An acknowledging replica claims, queues and finishes; the worker has nothing to clean
    up, and a crash of that worker later is a take-over like any other."""
    replica = ClaimStore(db, "replica", lease_seconds=60.0)
    await replica.finish(await replica.claim("event:Ev8"))
    worker = ClaimStore(db, "worker", lease_seconds=60.0)
    adopted = await worker.adopt("event:Ev8")
    assert adopted.outcome is ClaimOutcome.NEW
    assert await worker.state("event:Ev8") == "running"
    assert (await replica.claim("event:Ev8")).outcome is ClaimOutcome.DUPLICATE  # a Slack retry
    await worker.record_replies(adopted, "C1", ["111.000300"])
    restarted = await ClaimStore(db, "worker-again", lease_seconds=60.0).adopt("event:Ev8")
    assert restarted.outcome is ClaimOutcome.TAKEN_OVER
    assert restarted.previous_replies == ["111.000300"]


async def test_held_claim_keeps_its_lease_alive(db) -> None:
    store = ClaimStore(db, "a", lease_seconds=0.9)  # renewed every 0.3 s
    claim = await store.claim("event:Ev4")
    async with store.held(claim):
        await asyncio.sleep(2.0)
        assert (await ClaimStore(db, "b").claim("event:Ev4")).outcome is ClaimOutcome.DUPLICATE
    assert await store.state("event:Ev4") == "done"


async def test_threads_and_replies_are_stored(db) -> None:
    threads = ThreadStore(db)
    assert not await threads.is_member("C1", "1.1")
    await threads.join("C1", "1.1", "T1", "U1")
    await threads.join("C1", "1.1", "T1", "U1")
    assert await threads.is_member("C1", "1.1")
    log = UsageLog(db)
    await log.record(
        Scope("T1", "C1", "public", "1.1", "U1"),
        Usage("claude-haiku-4-5", input_tokens=10, output_tokens=5, cost_usd=0.01),
        "done",
    )
    assert await log.totals("T1") == (1, 10, 5, 0.01)


async def test_only_messages_after_teammate_was_asked_are_follow_ups(db) -> None:
    threads = ThreadStore(db)
    await threads.join("C1", "100.000100", since_ts="100.000500")
    assert await threads.is_member("C1", "100.000100", "100.000900")
    assert not await threads.is_member("C1", "100.000100", "100.000200")  # older, arrived late
    assert await threads.is_member("C1", "100.000100")


async def test_a_burst_of_claims_is_written_and_finished_together(db) -> None:
    """Over a thousand claims asked for at once, some twice: each key is won once, by its first
    ask, and finishing them all marks each done."""
    store = ClaimStore(db, "burst", lease_seconds=60.0)
    keys = [f"event:Burst{i}" for i in range(1200)]
    claims = await asyncio.gather(*(store.claim(key) for key in keys + keys[:50]))
    assert [c.outcome for c in claims[:1200]] == [ClaimOutcome.NEW] * 1200
    assert [c.outcome for c in claims[1200:]] == [ClaimOutcome.DUPLICATE] * 50
    await asyncio.gather(*(store.finish(claim) for claim in claims[:1200]))
    assert {await store.state(key) for key in keys[::97]} == {"done"}
    assert (await ClaimStore(db, "other").claim(keys[0])).outcome is ClaimOutcome.DUPLICATE
