// PostGraphile v4 on the benchmark's own PostgreSQL: the third contestant of
// bench/graphql_reads.py, which installs postgraphile@4 and starts this script.
//
//   node bench/postgraphile_peer.mjs
//
// Settings come from the environment:
//   PEER_NODE_MODULES  the node_modules folder postgraphile@4 is installed in
//   PEER_DATABASE_URL  a login role that may SET ROLE alpaca_chat_app
//   PEER_PORT          the port to listen on (127.0.0.1)
//   PEER_TOKEN         the bearer token a request must carry
//   PEER_USER_ID       the benchmark user's id
// A request with that token runs in one transaction as alpaca_chat_app with
// app.user_id set to that user, so the same row-level security policies decide
// what it sees as for the app's tenant transaction; any other request sees
// nothing. Comparing one constant token is cheaper than the app's session
// lookup, so the comparison does not favour the app.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";

const env = process.env;
const require = createRequire(path.join(env.PEER_NODE_MODULES, "noop.js"));
const { postgraphile } = require("postgraphile");

const expected = `Bearer ${env.PEER_TOKEN}`;
const handler = postgraphile(env.PEER_DATABASE_URL, "app", {
  graphiql: false,
  disableQueryLog: true,
  ignoreRBAC: true,
  retryOnInitFail: false,
  pgSettings: (request) =>
    request.headers.authorization === expected
      ? { role: "alpaca_chat_app", "app.user_id": env.PEER_USER_ID }
      : { role: "alpaca_chat_app", "app.user_id": "" },
});

createServer(handler).listen(Number(env.PEER_PORT), "127.0.0.1", () => {
  console.log(`postgraphile peer listening on ${env.PEER_PORT}`);
});
