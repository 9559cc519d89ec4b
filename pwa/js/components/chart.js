// A line chart of values over time (HIST-01, HIST-03), drawn by uPlot.
//
// uPlot (pwa/vendor/uPlot.esm.js, ~42 KB gzipped) is imported lazily the first
// time a chart renders, and its stylesheet is linked then too, so neither is
// part of the first load and the figures paint without waiting for it. Colours
// come from the theme's CSS variables and are read again when the colour scheme
// changes. The chart is decoration for sighted users: its container carries a
// text summary (role="img" + aria-label) and the same words are shown below it.

import { html } from '../html.js';
import { useEffect, useRef, useState } from '../../vendor/hooks.module.js';

let uplot = null;
function loadUplot() {
  if (!uplot) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('../../vendor/uPlot.min.css', import.meta.url).href;
    document.head.append(link);
    uplot = import('../../vendor/uPlot.esm.js').then((m) => m.default);
  }
  return uplot;
}

function themeColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function useColorScheme() {
  const [dark, setDark] = useState(() => matchMedia('(prefers-color-scheme: dark)').matches);
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const on = () => setDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return dark;
}

// Around the data, never from zero: a portfolio's moves are small next to its size.
function yRange(u, min, max) {
  const pad = max > min ? (max - min) * 0.1 : Math.max(Math.abs(max) * 0.005, 1);
  return [min - pad, max + pad];
}

/**
 * times: seconds since the epoch; values: numbers (display only, never money maths);
 * tone: 'pos' | 'neg' | 'neutral' picks the line colour; summary: the text alternative.
 */
export function LineChart({ times, values, tone = 'neutral', summary, testid = 'chart', height = 180 }) {
  const box = useRef(null);
  const plot = useRef(null);
  const dark = useColorScheme();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let gone = false;
    let observer = null;
    loadUplot().then((UPlot) => {
      if (gone || !box.current) return;
      const stroke = themeColor(tone === 'pos' ? '--pos' : tone === 'neg' ? '--neg' : '--accent');
      const grid = themeColor('--border');
      const text = themeColor('--muted');
      const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '12px system-ui' };
      const opts = {
        width: box.current.clientWidth || 320,
        height,
        legend: { show: false },
        cursor: { y: false, points: { size: 6 } },
        scales: { x: { time: true }, y: { range: yRange } },
        axes: [{ ...axis, space: 70 }, { ...axis, size: 56, space: 36 }],
        series: [{}, { stroke, width: 2, fill: `${stroke}22`, points: { show: values.length < 3 } }],
      };
      // A lone point (a new account) is drawn as a level line up to now.
      const data = times.length === 1 ? [[times[0], Math.max(times[0] + 60, Date.now() / 1000)], [values[0], values[0]]] : [times, values];
      plot.current?.destroy();
      plot.current = new UPlot(opts, data, box.current);
      box.current.dataset.points = String(values.length);
      observer = new ResizeObserver(() => {
        if (plot.current && box.current) plot.current.setSize({ width: box.current.clientWidth, height });
      });
      observer.observe(box.current);
    }).catch(() => setFailed(true));
    return () => { gone = true; observer?.disconnect(); plot.current?.destroy(); plot.current = null; };
  }, [times, values, tone, dark, height]);
  return html`<figure class="chart">
    <div class="chart-box" ref=${box} role="img" aria-label=${summary} data-testid=${testid}></div>
    <figcaption class="muted small" data-testid=${`${testid}-summary`}>${failed ? `${summary} (chart unavailable)` : summary}</figcaption>
  </figure>`;
}

/** "up 3.20 % this month" from the first and last value (numbers, display only). */
export function changeSummary(first, last, span) {
  if (!Number.isFinite(first) || !Number.isFinite(last) || first === 0) return `no change ${span}`;
  const pct = ((last - first) / Math.abs(first)) * 100;
  if (Math.abs(pct) < 0.005) return `unchanged ${span}`;
  return `${pct > 0 ? 'up' : 'down'} ${Math.abs(pct).toFixed(2)} % ${span}`;
}

export const SPANS = { '1D': 'today', '1W': 'this week', '1M': 'this month', '1A': 'this year' };
export const PERIODS = [['1D', '1D'], ['1W', '1W'], ['1M', '1M'], ['1A', '1Y']];

export function PeriodPicker({ value, onChange, label, testid }) {
  return html`<div class="period-picker" role="group" aria-label=${label} data-testid=${testid}>
    ${PERIODS.map(([p, shown]) => html`<button type="button" class=${`btn btn-small ${value === p ? 'is-on' : ''}`}
      aria-pressed=${value === p} data-testid=${`${testid}-${shown.toLowerCase()}`} onClick=${() => onChange(p)}>${shown}</button>`)}
  </div>`;
}
