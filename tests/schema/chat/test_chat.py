"""The chat domain in-process, with no model configured (the built-in interpreter, CHAT-02).

TRADE-01 (the chat acts on the account the person chose, its orders become
proposals), CHAT-03 (history per user and account), ISO-02.
"""

from __future__ import annotations

from tests.fixtures.inprocess import InProcessApp, codes

SEND = """mutation($text: String!, $a: UUID) {
  sendChatMessage(text: $text, accountId: $a) {
    userMessage { role text accountId }
    reply { role text accountId proposals { id status accountId } toolCalls { name } }
  } }"""
HISTORY = """query($a: UUID, $limit: Int! = 50) {
  chatHistory(accountId: $a, limit: $limit) { role text accountId } }"""


async def test_trade01_send_chat_message_proposes_on_the_chosen_account(
    app: InProcessApp,
) -> None:
    alice = await app.sign_up()
    await app.add_paper_account(alice.token, "Main")
    side = await app.add_paper_account(alice.token, "Side")
    turn = (await app.data(SEND, {"text": "buy 1 AAPL", "a": side.id}, token=alice.token))[
        "sendChatMessage"
    ]
    assert turn["userMessage"] == {"role": "USER", "text": "buy 1 AAPL", "accountId": side.id}
    reply = turn["reply"]
    assert reply["role"] == "ASSISTANT" and reply["accountId"] == side.id
    [proposal] = reply["proposals"]
    assert proposal["status"] == "PENDING" and proposal["accountId"] == side.id
    assert [call["name"] for call in reply["toolCalls"]] == ["propose_order"]
    assert app.sandbox.stats()[side.keys["account_number"]]["orders_received"] == 0


async def test_send_chat_message_refuses_empty_text_strangers_and_anonymous(
    app: InProcessApp,
) -> None:
    alice, bob = await app.sign_up(), await app.sign_up()
    account = await app.add_paper_account(alice.token)
    empty = await app.gql(SEND, {"text": "", "a": account.id}, token=alice.token)
    assert codes(empty) == ["BAD_USER_INPUT"]
    stranger = await app.gql(SEND, {"text": "positions", "a": account.id}, token=bob.token)
    assert codes(stranger) == ["NOT_FOUND"]
    assert codes(await app.gql(SEND, {"text": "positions"})) == ["UNAUTHENTICATED"]


async def test_chat03_chat_history_is_kept_per_account_and_owner(app: InProcessApp) -> None:
    alice, bob = await app.sign_up(), await app.sign_up()
    main = await app.add_paper_account(alice.token, "Main")
    side = await app.add_paper_account(alice.token, "Side")
    await app.data(SEND, {"text": "balance", "a": side.id}, token=alice.token)
    history = (await app.data(HISTORY, {"a": side.id}, token=alice.token))["chatHistory"]
    assert [(m["role"], m["accountId"]) for m in history] == [
        ("USER", side.id),
        ("ASSISTANT", side.id),
    ]
    assert history[0]["text"] == "balance"
    assert await app.data(HISTORY, {"a": main.id}, token=alice.token) == {"chatHistory": []}
    assert codes(await app.gql(HISTORY, {"a": side.id}, token=bob.token)) == ["NOT_FOUND"]
    no_messages = await app.gql(HISTORY, {"a": side.id, "limit": 0}, token=alice.token)
    assert codes(no_messages) == ["BAD_USER_INPUT"]
