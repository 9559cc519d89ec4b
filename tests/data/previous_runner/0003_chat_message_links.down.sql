revoke update (message_id) on app.order_proposals from alpaca_chat_app;
