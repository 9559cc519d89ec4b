// The portfolio chart (HIST-01) and the activity feed with its CSV export (HIST-02).

import { html } from '../html.js';
import { useMemo, useState } from '../../vendor/hooks.module.js';
import { request } from '../graphql.js';
import * as ops from '../operations.js';
import { useStore, activeAccount } from '../store.js';
import * as fmt from '../format.js';
import { ErrorText, useLoader, AccountTag } from './ui.js';
import { LineChart, PeriodPicker, SPANS, changeSummary } from './chart.js';
import { NoAccount } from './ui.js';
import { SymbolLink } from './market.js';

export function PortfolioChart({ account }) {
  const [period, setPeriod] = useState('1D');
  const rev = useStore((s) => s.rev.positions);
  const { data, error, loading } = useLoader(
    () => request(ops.PORTFOLIO_HISTORY, { accountId: account.id, period }).then((d) => d.portfolioHistory),
    [account.id, period, rev]);
  const series = useMemo(() => {
    const points = data?.points || [];
    return { times: points.map((p) => Date.parse(p.at) / 1000), values: points.map((p) => Number(p.equity)) };
  }, [data]);
  const span = SPANS[period];
  const summary = data && series.values.length
    ? `Portfolio value ${changeSummary(Number(data.baseValue), series.values.at(-1), span)}`
    : `No portfolio history ${span}`;
  const plTone = fmt.tone(data?.profitLoss);
  return html`<section class="card chart-card" aria-labelledby="pchart-title" data-testid="portfolio-chart">
    <div class="card-head">
      <h2 id="pchart-title">Value over time</h2>
      <${PeriodPicker} value=${period} onChange=${setPeriod} label="Period" testid="portfolio-period" />
    </div>
    ${data && html`<p class="chart-pl">
      <span class=${`strong tone-${plTone}`} data-testid="portfolio-pl" data-value=${data.profitLoss}>
        <span class="sr-only">Profit and loss ${span}: </span>${fmt.money(data.profitLoss, { signed: true })}</span>
      <span class=${`small tone-${plTone}`}> (${fmt.fractionPercent(data.profitLossPercent)})</span>
      <span class="muted small"> ${span}</span></p>`}
    ${data?.note && html`<p class="muted small" data-testid="portfolio-chart-note">${data.note}</p>`}
    <${ErrorText} error=${error} />
    ${!data && loading && html`<p class="muted" aria-busy="true">Loading history…</p>`}
    ${data && series.values.length > 0 && html`<${LineChart} times=${series.times} values=${series.values}
      tone=${plTone === 'pos' ? 'pos' : plTone === 'neg' ? 'neg' : 'neutral'} summary=${summary} testid="portfolio-chart-plot" />`}
    ${data && series.values.length === 0 && html`<p class="muted" data-testid="portfolio-chart-empty">${summary}.</p>`}
  </section>`;
}

const KIND = { FILL: 'Fill', DIV: 'Dividend', FEE: 'Fee', CSD: 'Deposit', CSW: 'Withdrawal', INT: 'Interest' };

function csvCell(value) {
  const text = value === null || value === undefined ? '' : String(value);
  // Quote every cell; a leading = + - @ is prefixed so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function activitiesCsv(items) {
  const head = ['time', 'kind', 'symbol', 'side', 'qty', 'price', 'net_amount', 'description', 'id'];
  const rows = items.map((a) => [a.at, a.kind, a.symbol, a.side, a.qty, a.price, a.netAmount, a.description, a.id]);
  return [head, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export function ActivityPage() {
  const acc = useStore(activeAccount);
  const { data, error, loading } = useLoader(async () => {
    if (!acc) return [];
    return (await request(ops.ACTIVITIES, { accountId: acc.id, limit: 200 })).activities;
  }, [acc?.id]);
  const download = useMemo(() => {
    if (!data || !data.length) return null;
    return URL.createObjectURL(new Blob([activitiesCsv(data)], { type: 'text/csv' }));
  }, [data]);
  if (!acc) return html`<${NoAccount} />`;
  return html`<section class="page" aria-labelledby="activity-title" data-testid="activity">
    <div class="page-head">
      <h1 id="activity-title">Activity</h1>
      <div class="head-actions">
        ${download && html`<a class="btn" href=${download} download=${`activity-${acc.nickname}.csv`} data-testid="activity-csv">Download CSV</a>`}
      </div>
    </div>
    <p class="muted small">Fills, dividends and fees of <${AccountTag} account=${acc} />, newest first.</p>
    <${ErrorText} error=${error} />
    ${!data && loading && html`<p class="muted" aria-busy="true">Loading activity…</p>`}
    ${data && data.length === 0 && html`<p class="empty" data-testid="activity-empty">No activity yet.</p>`}
    ${data && data.length > 0 && html`<ul class="rows" data-testid="activity-list">
      ${data.map((a) => html`<li class="row activity-row" key=${a.id} data-testid="activity-row" data-kind=${a.kind}>
        <div class="row-main">
          <span class="strong">${KIND[a.kind] || a.kind}${a.symbol ? ' ' : ''}${a.symbol && html`<${SymbolLink} symbol=${a.symbol} />`}</span>
          <span class="muted small">${fmt.dateTime(a.at)}${a.side ? ` · ${a.side}` : ''}${a.qty ? ` · ${fmt.qty(a.qty)}` : ''}${a.price ? ` @ ${fmt.price(a.price)}` : ''}</span>
        </div>
        <div class="row-value"><span class=${`strong tone-${fmt.tone(a.netAmount)}`}>${fmt.money(a.netAmount, { signed: true })}</span></div>
      </li>`)}
    </ul>`}
  </section>`;
}
