// The page a "Confirm?" notification opens (#/proposal?id=<proposal id>, PUSH-01):
// the person's own proposal, read as it stands now, on its card with Confirm and
// Dismiss (components/proposal.js). Opening it only reads it; the order is sent by
// the person's tap on Confirm, never by the notification. The server shows only the
// person's own proposals: another person's id, like an unknown one, is not found.

import { html } from '../html.js';
import { useEffect, useState } from '../../vendor/hooks.module.js';
import { ApiError, request } from '../graphql.js';
import * as ops from '../operations.js';
import { ErrorText } from './ui.js';
import { ProposalCard } from './proposal.js';

const PROPOSAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function ProposalPage({ params }) {
  const id = params.get('id') || '';
  const [loaded, setLoaded] = useState({ proposal: null, error: null });
  useEffect(() => {
    // not an id at all: the same answer the server gives for one it does not show
    if (!PROPOSAL_ID.test(id)) {
      setLoaded({ proposal: null, error: new ApiError('No such order proposal', { code: 'NOT_FOUND' }) });
      return undefined;
    }
    let current = true;
    request(ops.ORDER_PROPOSAL, { id })
      .then((data) => { if (current) setLoaded({ proposal: data.proposal, error: null }); })
      .catch((error) => { if (current) setLoaded({ proposal: null, error }); });
    return () => { current = false; };
  }, [id]);

  return html`<section class="page" aria-labelledby="proposal-title" data-testid="proposal-page">
    <div class="page-head"><h1 id="proposal-title">Waiting for your confirmation</h1></div>
    ${loaded.proposal && html`<${ProposalCard} proposal=${loaded.proposal} />`}
    ${!loaded.proposal && !loaded.error && html`<p class="muted" aria-busy="true">Loading the proposal…</p>`}
    <${ErrorText} error=${loaded.error} testid="proposal-error" />
    <div class="card-actions"><a class="btn" href="#/orders">See orders</a></div>
  </section>`;
}
