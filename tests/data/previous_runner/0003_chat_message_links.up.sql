-- Chat turns link the order proposals they made to the assistant message that
-- shows them (CHAT-01). The proposals exist before that message does (the model
-- proposes mid-turn, the reply is written last), so the runtime role may set
-- message_id afterwards: that one column, nothing else, still under RLS.
grant update (message_id) on app.order_proposals to alpaca_chat_app;
