// Every GraphQL document the PWA sends, in one place, so the server can offer
// exactly these as trusted (persisted) documents. `docs/pwa-operations.graphql`
// is generated from this file (node docs/tools/export-operations.mjs).
//
// Account-scoped operations always pass the account id explicitly: the app
// acts on the account it shows, even if another device switched meanwhile.

const ACCOUNT = `fragment AccountFields on BrokerAccount {
  id nickname environment keyHint isActive createdAt lastVerifiedAt chatAutoExecute halted
}`;
const SNAPSHOT = `fragment SnapshotFields on AccountSnapshot {
  cash equity buyingPower portfolioValue lastEquity currency status asOf
  tradingBlocked patternDayTrader dayChange dayChangePercent
}`;
// An order and the exits the broker holds under it (a bracket's, OTO's or OCO's legs).
const ORDER_SCALARS = `id clientOrderId symbol side type timeInForce qty notional filledQty filledAvgPrice
  limitPrice stopPrice status submittedAt filledAt canceledAt createdAt extendedHours
  orderClass trailPrice trailPercent hwm replaces replacedBy`;
const ORDER = `fragment OrderFields on Order {
  ${ORDER_SCALARS}
  legs { ...LegFields }
}
fragment LegFields on Order {
  ${ORDER_SCALARS}
}`;
const PROPOSAL = `fragment ProposalFields on OrderProposal {
  id accountId kind targets symbol side type timeInForce qty notional limitPrice stopPrice
  orderClass trailPrice trailPercent takeProfitLimitPrice stopLossStopPrice stopLossLimitPrice
  summary estimatedCost environment expiresAt status orderId headroom
}`;
const LIMITS = `fragment LimitsFields on AccountLimits {
  maxOrderNotional maxDailyLoss maxOrdersPerDay allowedSymbols deniedSymbols allowShort
}`;
const BROKER_CONFIGURATION = `fragment BrokerConfigurationFields on BrokerConfiguration {
  suspendTrade noShorting fractionalTrading maxMarginMultiplier tradeConfirmEmail
  dtbpCheck pdtCheck maxOptionsTradingLevel
}`;
const MESSAGE = `fragment MessageFields on ChatMessage {
  id accountId role text createdAt
  toolCalls { name arguments result }
  proposals { ...ProposalFields }
  orders { ...OrderFields }
}`;
const POSITION = `fragment PositionFields on Position {
  symbol qty side avgEntryPrice currentPrice marketValue costBasis
  unrealizedPl unrealizedPlpc changeToday assetClass
}`;
const USER = `fragment UserFields on User { id email createdAt isAdmin }`;

function op(operationName, body, ...fragments) {
  return { operationName, query: [body, ...fragments].join('\n') };
}

// ── queries ────────────────────────────────────────────────────────────────
export const ME = op('Me', `query Me {
  me { ...UserFields }
}`, USER);

export const ACCOUNTS = op('Accounts', `query Accounts {
  accounts { ...AccountFields }
}`, ACCOUNT);

export const ACCOUNT_SNAPSHOT = op('AccountSnapshot', `query AccountSnapshot($id: UUID!) {
  account(id: $id) { id snapshot { ...SnapshotFields } }
}`, SNAPSHOT);

export const POSITIONS = op('Positions', `query Positions($accountId: UUID!) {
  positions(accountId: $accountId) { ...PositionFields }
}`, POSITION);

export const ORDERS = op('Orders', `query Orders($accountId: UUID!, $status: OrderStatusFilter!, $limit: Int!) {
  orders(accountId: $accountId, status: $status, limit: $limit) { ...OrderFields }
}`, ORDER);

export const CHAT_HISTORY = op('ChatHistory', `query ChatHistory($accountId: UUID!, $limit: Int!) {
  chatHistory(accountId: $accountId, limit: $limit) { ...MessageFields }
}`, MESSAGE, PROPOSAL, ORDER);

// ── auth ───────────────────────────────────────────────────────────────────
export const SIGN_IN = op('SignIn', `mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { user { ...UserFields } }
}`, USER);

export const SIGN_UP = op('SignUp', `mutation SignUp($email: String!, $password: String!, $inviteCode: String) {
  signUp(email: $email, password: $password, inviteCode: $inviteCode) { user { ...UserFields } }
}`, USER);

export const SIGN_OUT = op('SignOut', `mutation SignOut {
  signOut
}`);

export const CREATE_INVITE = op('CreateInvite', `mutation CreateInvite {
  createInvite { code expiresAt url }
}`);

// ── passkeys (KEY-01..03): options and answers in WebAuthn's JSON form ──────
const PASSKEY = `fragment PasskeyFields on Passkey { id name createdAt lastUsedAt }`;

export const PASSKEYS = op('Passkeys', `query Passkeys {
  passkeys { ...PasskeyFields }
}`, PASSKEY);

export const BEGIN_PASSKEY_REGISTRATION = op('BeginPasskeyRegistration', `mutation BeginPasskeyRegistration($passkey: JSON) {
  beginPasskeyRegistration(passkey: $passkey)
}`);

export const FINISH_PASSKEY_REGISTRATION = op('FinishPasskeyRegistration', `mutation FinishPasskeyRegistration($credential: JSON!, $name: String!) {
  finishPasskeyRegistration(credential: $credential, name: $name) { ...PasskeyFields }
}`, PASSKEY);

export const REMOVE_PASSKEY = op('RemovePasskey', `mutation RemovePasskey($id: UUID!, $passkey: JSON) {
  removePasskey(id: $id, passkey: $passkey)
}`);

export const BEGIN_PASSKEY_SIGN_IN = op('BeginPasskeySignIn', `mutation BeginPasskeySignIn {
  beginPasskeySignIn
}`);

export const FINISH_PASSKEY_SIGN_IN = op('FinishPasskeySignIn', `mutation FinishPasskeySignIn($credential: JSON!) {
  finishPasskeySignIn(credential: $credential) { user { ...UserFields } }
}`, USER);

// ── accounts ───────────────────────────────────────────────────────────────
export const ADD_ACCOUNT = op('AddAccount', `mutation AddAccount($input: AddAccountInput!) {
  addAccount(input: $input) { ...AccountFields }
}`, ACCOUNT);

export const UPDATE_CREDENTIALS = op('UpdateAccountCredentials', `mutation UpdateAccountCredentials($id: UUID!, $apiKeyId: String!, $secretKey: String!) {
  updateAccountCredentials(id: $id, apiKeyId: $apiKeyId, secretKey: $secretKey) { ...AccountFields }
}`, ACCOUNT);

export const RENAME_ACCOUNT = op('RenameAccount', `mutation RenameAccount($id: UUID!, $nickname: String!) {
  renameAccount(id: $id, nickname: $nickname) { ...AccountFields }
}`, ACCOUNT);

export const REMOVE_ACCOUNT = op('RemoveAccount', `mutation RemoveAccount($id: UUID!) {
  removeAccount(id: $id)
}`);

export const SET_ACTIVE_ACCOUNT = op('SetActiveAccount', `mutation SetActiveAccount($id: UUID!) {
  setActiveAccount(id: $id) { ...AccountFields }
}`, ACCOUNT);

export const SET_CHAT_AUTO_EXECUTE = op('SetChatAutoExecute', `mutation SetChatAutoExecute($id: UUID!, $enabled: Boolean!) {
  setChatAutoExecute(id: $id, enabled: $enabled) { ...AccountFields }
}`, ACCOUNT);

// ── trading ────────────────────────────────────────────────────────────────
export const PLACE_ORDER = op('PlaceOrder', `mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) { ...OrderFields }
}`, ORDER);

export const REPLACE_ORDER = op('ReplaceOrder', `mutation ReplaceOrder($accountId: UUID!, $orderId: String!, $input: ReplaceOrderInput!) {
  replaceOrder(accountId: $accountId, orderId: $orderId, input: $input) { ...OrderFields }
}`, ORDER);

export const CLOSE_POSITION = op('ClosePosition', `mutation ClosePosition($accountId: UUID!, $symbol: String!, $percentage: Decimal) {
  closePosition(accountId: $accountId, symbol: $symbol, percentage: $percentage) { ...OrderFields }
}`, ORDER);

// The ticket's latest quote while typing (bid/ask for the estimated cost).
export const TICKET_QUOTE = op('TicketQuote', `query TicketQuote($accountId: UUID!, $symbol: String!) {
  quote(accountId: $accountId, symbol: $symbol) { symbol bidPrice askPrice at }
}`);

export const CANCEL_ORDER = op('CancelOrder', `mutation CancelOrder($accountId: UUID!, $orderId: String!) {
  cancelOrder(accountId: $accountId, orderId: $orderId)
}`);

export const CONFIRM_ORDER = op('ConfirmOrder', `mutation ConfirmOrder($proposalId: UUID!, $passkey: JSON) {
  confirmOrder(proposalId: $proposalId, passkey: $passkey) { ...OrderFields }
}`, ORDER);

export const DISMISS_PROPOSAL = op('DismissProposal', `mutation DismissProposal($proposalId: UUID!) {
  dismissProposal(proposalId: $proposalId)
}`);

// The proposal a notification opens (components/proposal-page.js): read only, never confirmed.
export const ORDER_PROPOSAL = op('OrderProposal', `query OrderProposal($id: UUID!) {
  proposal(id: $id) { ...ProposalFields }
}`, PROPOSAL);

// ── limits, halt and the broker's brakes (RISK-01..04) ─────────────────────
export const ACCOUNT_LIMITS = op('AccountLimits', `query AccountLimits($id: UUID!) {
  account(id: $id) { id halted limits { ...LimitsFields } }
}`, LIMITS);

// Read apart from the limits: it asks the broker, which may be unreachable.
export const BROKER_BRAKES = op('BrokerBrakes', `query BrokerBrakes($id: UUID!) {
  account(id: $id) { id brokerConfiguration { ...BrokerConfigurationFields } }
}`, BROKER_CONFIGURATION);

export const SET_ACCOUNT_LIMITS = op('SetAccountLimits', `mutation SetAccountLimits($accountId: UUID!, $input: AccountLimitsInput!, $passkey: JSON) {
  setAccountLimits(accountId: $accountId, input: $input, passkey: $passkey) { ...AccountFields limits { ...LimitsFields } }
}`, ACCOUNT, LIMITS);

export const SET_BROKER_CONFIGURATION = op('SetBrokerConfiguration', `mutation SetBrokerConfiguration($accountId: UUID!, $input: BrokerConfigurationInput!, $passkey: JSON) {
  setBrokerConfiguration(accountId: $accountId, input: $input, passkey: $passkey) { ...BrokerConfigurationFields }
}`, BROKER_CONFIGURATION);

export const HALT_ACCOUNT = op('HaltAccount', `mutation HaltAccount($accountId: UUID!) {
  haltAccount(accountId: $accountId) { ...AccountFields }
}`, ACCOUNT);

export const RESUME_ACCOUNT = op('ResumeAccount', `mutation ResumeAccount($accountId: UUID!, $passkey: JSON) {
  resumeAccount(accountId: $accountId, passkey: $passkey) { ...AccountFields }
}`, ACCOUNT);

// ── chat ───────────────────────────────────────────────────────────────────
export const SEND_CHAT_MESSAGE = op('SendChatMessage', `mutation SendChatMessage($text: String!, $accountId: UUID!) {
  sendChatMessage(text: $text, accountId: $accountId) {
    userMessage { ...MessageFields }
    reply { ...MessageFields }
  }
}`, MESSAGE, PROPOSAL, ORDER);

// ── history and market views (HIST-01..04) ─────────────────────────────────
export const PORTFOLIO_HISTORY = op('PortfolioHistory', `query PortfolioHistory($accountId: UUID!, $period: String!) {
  portfolioHistory(accountId: $accountId, period: $period) {
    period timeframe baseValue profitLoss profitLossPercent note
    points { at equity profitLoss }
  }
}`);

export const ACTIVITIES = op('Activities', `query Activities($accountId: UUID!, $limit: Int!) {
  activities(accountId: $accountId, limit: $limit) { id kind symbol side qty price netAmount description at }
}`);

export const SYMBOL_VIEW = op('SymbolView', `query SymbolView($accountId: UUID!, $symbol: String!, $timeframe: String!, $limit: Int!) {
  symbols(accountId: $accountId, query: $symbol, limit: 1) { symbol name exchange tradable fractionable }
  quote(accountId: $accountId, symbol: $symbol) { symbol bidPrice askPrice at }
  bars(accountId: $accountId, symbol: $symbol, timeframe: $timeframe, limit: $limit) { at close }
}`);

export const SEARCH_SYMBOLS = op('SearchSymbols', `query SearchSymbols($accountId: UUID!, $query: String!) {
  symbols(accountId: $accountId, query: $query, limit: 8) { symbol name exchange }
}`);

const WATCHLIST = `fragment WatchlistFields on Watchlist {
  name entries { symbol name quote { bidPrice askPrice } }
}`;
export const WATCHLIST_QUERY = op('Watchlist', `query Watchlist($accountId: UUID!) {
  watchlist(accountId: $accountId) { ...WatchlistFields }
}`, WATCHLIST);

export const ADD_TO_WATCHLIST = op('AddToWatchlist', `mutation AddToWatchlist($accountId: UUID!, $symbol: String!) {
  addToWatchlist(accountId: $accountId, symbol: $symbol) { ...WatchlistFields }
}`, WATCHLIST);

export const REMOVE_FROM_WATCHLIST = op('RemoveFromWatchlist', `mutation RemoveFromWatchlist($accountId: UUID!, $symbol: String!) {
  removeFromWatchlist(accountId: $accountId, symbol: $symbol) { ...WatchlistFields }
}`, WATCHLIST);

export const MARKET_CLOCK = op('MarketClock', `query MarketClock($accountId: UUID!) {
  marketClock(accountId: $accountId) { isOpen nextOpen nextClose todayClose closesEarly }
}`);

// ── notifications (components/notifications.js) ─────────────────────────────
export const VAPID_PUBLIC_KEY = op('VapidPublicKey', `query VapidPublicKey {
  vapidPublicKey
}`);

export const NOTIFICATION_SETTINGS = op('NotificationSettings', `query NotificationSettings {
  notificationSettings { kinds hideAmounts }
}`);

export const SET_NOTIFICATION_SETTINGS = op('SetNotificationSettings', `mutation SetNotificationSettings($input: NotificationSettingsInput!) {
  setNotificationSettings(input: $input) { kinds hideAmounts }
}`);

export const ADD_PUSH_SUBSCRIPTION = op('AddPushSubscription', `mutation AddPushSubscription($input: PushSubscriptionInput!) {
  addPushSubscription(input: $input) { id }
}`);

export const REMOVE_PUSH_SUBSCRIPTION = op('RemovePushSubscription', `mutation RemovePushSubscription($endpoint: String!) {
  removePushSubscription(endpoint: $endpoint)
}`);

// ── security log and the admin's directory ────────────────────────────────
export const SECURITY_EVENTS = op('SecurityEvents', `query SecurityEvents($limit: Int!) {
  securityEvents(limit: $limit) { id kind detail at }
}`);

export const DIRECTORY = op('Directory', `query Directory {
  users(limit: 500) { id email createdAt lastSeenAt accountCount isAdmin disabled disabledAt }
  invites(limit: 100) { id createdByEmail usedByEmail createdAt expiresAt usedAt status }
}`);

export const SET_USER_DISABLED = op('SetUserDisabled', `mutation SetUserDisabled($id: UUID!, $disabled: Boolean!) {
  setUserDisabled(id: $id, disabled: $disabled)
}`);

export const REVOKE_INVITE = op('RevokeInvite', `mutation RevokeInvite($id: UUID!) {
  revokeInvite(id: $id)
}`);

// ── subscriptions ──────────────────────────────────────────────────────────
export const ACCOUNT_UPDATES = op('AccountUpdates', `subscription AccountUpdates($accountId: UUID!) {
  accountUpdates(accountId: $accountId) {
    __typename
    ... on SnapshotEvent { accountId snapshot { ...SnapshotFields } }
    ... on OrderEvent { accountId event order { ...OrderFields } }
    ... on PositionsChangedEvent { accountId }
    ... on ResyncEvent { accountId reason }
  }
}`, SNAPSHOT, ORDER);

export const ACTIVE_ACCOUNT_CHANGED = op('ActiveAccountChanged', `subscription ActiveAccountChanged {
  activeAccountChanged { ...AccountFields }
}`, ACCOUNT);

export const ALL = [
  ME, ACCOUNTS, ACCOUNT_SNAPSHOT, POSITIONS, ORDERS, CHAT_HISTORY,
  SIGN_IN, SIGN_UP, SIGN_OUT, CREATE_INVITE,
  PASSKEYS, BEGIN_PASSKEY_REGISTRATION, FINISH_PASSKEY_REGISTRATION, REMOVE_PASSKEY,
  BEGIN_PASSKEY_SIGN_IN, FINISH_PASSKEY_SIGN_IN,
  ADD_ACCOUNT, UPDATE_CREDENTIALS, RENAME_ACCOUNT, REMOVE_ACCOUNT, SET_ACTIVE_ACCOUNT, SET_CHAT_AUTO_EXECUTE,
  PLACE_ORDER, REPLACE_ORDER, CLOSE_POSITION, TICKET_QUOTE, CANCEL_ORDER, CONFIRM_ORDER, DISMISS_PROPOSAL, ORDER_PROPOSAL, SEND_CHAT_MESSAGE,
  ACCOUNT_LIMITS, BROKER_BRAKES, SET_ACCOUNT_LIMITS, SET_BROKER_CONFIGURATION, HALT_ACCOUNT, RESUME_ACCOUNT,
  PORTFOLIO_HISTORY, ACTIVITIES, SYMBOL_VIEW, SEARCH_SYMBOLS, WATCHLIST_QUERY,
  ADD_TO_WATCHLIST, REMOVE_FROM_WATCHLIST, MARKET_CLOCK,
  VAPID_PUBLIC_KEY, NOTIFICATION_SETTINGS, SET_NOTIFICATION_SETTINGS, ADD_PUSH_SUBSCRIPTION,
  REMOVE_PUSH_SUBSCRIPTION,
  SECURITY_EVENTS, DIRECTORY, SET_USER_DISABLED, REVOKE_INVITE,
  ACCOUNT_UPDATES, ACTIVE_ACCOUNT_CHANGED,
];
