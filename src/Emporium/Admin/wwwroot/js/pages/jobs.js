// The jobs dashboard: every background job, newest first, refreshed in place while any listed job runs.
import { api, describe } from '../api.js';
import { alertBox, formatDate, formatNumber, h, setChildren } from '../dom.js';
import { announce } from '../app.js';
import { filterForm, pager, pick } from './shared.js';
import { ACTIVE, RETRYABLE, cancelJob, jobTitle, progressSummary, retryJob, statusBadge, updateBar } from './job-view.js';

const STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED', 'DEAD'];
const KNOWN_KINDS = ['catalog.import', 'catalog.bulk_delete', 'diagnostics.sleep'];
const QUERY_KEYS = ['kind', 'status', 'page', 'page_size'];

// The API writes progress about twice a second; once a second is live enough for a list and light on the server.
const REFRESH_MS = 1000;

export async function jobsPage({ params, signal }) {
  const query = pick(params, QUERY_KEYS);
  const heading = h('h1', {}, 'Jobs');
  const filters = jobFilters(params);
  let envelope;
  try {
    envelope = await load();
  } catch (error) {
    return h('section', {}, heading, filters, alertBox('The jobs could not be loaded.', describe(error)));
  }

  const message = h('div', { class: 'form-message' });
  const listing = h('div', { class: 'job-list' });
  let timer = null;
  let latest = 0;

  async function load() {
    return (await api(`/api/jobs?${query}`)).data;
  }

  /** Loads the page again and redraws the listing; the newest answer wins when refreshes overlap. */
  let refreshFailed = false;

  async function reload() {
    const ticket = ++latest;
    try {
      const next = await load();
      if (ticket !== latest || signal.aborted) return;
      envelope = next;
      fill();
      // A refresh that works again takes away the alert of one that failed (not an action's message).
      if (refreshFailed) message.replaceChildren();
      refreshFailed = false;
    } catch (error) {
      if (ticket === latest && !signal.aborted) {
        message.replaceChildren(alertBox('The jobs could not be refreshed.', describe(error)));
        refreshFailed = true;
      }
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (signal.aborted || !envelope.results.some((job) => ACTIVE.includes(job.status))) return;
    timer = setTimeout(reload, REFRESH_MS);
  }
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });

  async function act(job, action, done) {
    message.replaceChildren();
    try {
      const next = await action(job);
      if (!next) return;
      announce(done(next));
    } catch (error) {
      message.replaceChildren(alertBox(`Could not change ${jobTitle(job).toLowerCase()}.`, describe(error)));
    }
    await reload();
  }

  function row(job) {
    const bar = h('progress', { class: 'job-progress', 'aria-label': `Progress of job ${job.id}` });
    updateBar(bar, job);
    return h('tr', { dataset: { jobId: job.id } },
      h('td', { class: 'number' }, h('a', { href: `#/jobs/${job.id}`, 'aria-label': `Open ${jobTitle(job).toLowerCase()}` }, String(job.id))),
      h('td', { class: 'mono' }, job.kind),
      h('td', {}, statusBadge(job), job.cancel_requested && job.status === 'PROCESSING' ? h('div', { class: 'muted' }, 'cancel requested') : null),
      h('td', { class: 'number' }, `${job.attempts} / ${job.max_attempts}`),
      h('td', { class: 'progress-cell' }, bar, h('div', { class: 'muted' }, progressSummary(job) || (job.progress?.message ?? ''))),
      h('td', {}, formatDate(job.created_at)),
      h('td', {}, formatDate(job.finished_at)),
      h('td', { class: 'error-cell' }, job.error_message ?? ''),
      h('td', { class: 'row-actions' },
        RETRYABLE.includes(job.status)
          ? h('button', {
            type: 'button',
            class: 'secondary',
            'aria-label': `Retry job ${job.id}`,
            dataset: { focusKey: `retry-${job.id}` },
            onclick: () => act(job, retryJob, (next) => `${jobTitle(next)} is queued again.`),
          }, 'Retry')
          : null,
        ACTIVE.includes(job.status) && !job.cancel_requested
          ? h('button', {
            type: 'button',
            class: 'danger',
            'aria-label': `Cancel job ${job.id}`,
            dataset: { focusKey: `cancel-${job.id}` },
            onclick: () => act(job, cancelJob, (next) => (next.status === 'CANCELLED'
              ? `${jobTitle(next)} is cancelled.`
              : `Cancel requested for ${jobTitle(next).toLowerCase()}.`)),
          }, 'Cancel')
          : null));
  }

  function fill() {
    // A redraw must not take the keyboard focus away: it goes back to the same control, or to the list.
    const focused = listing.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = focused?.dataset?.focusKey ?? (focused?.getAttribute('href') ? `link-${focused.getAttribute('href')}` : null);
    const running = envelope.results.filter((job) => ACTIVE.includes(job.status)).length;
    setChildren(listing,
      h('p', { class: 'summary' },
        `${formatNumber(envelope.count)} ${envelope.count === 1 ? 'job' : 'jobs'}`,
        running > 0 ? ` · ${running} running or waiting on this page, refreshed every second` : ''),
      envelope.results.length === 0
        ? h('p', { class: 'empty' }, 'No jobs match.')
        : h('table', { class: 'data jobs' },
          h('caption', { class: 'visually-hidden' }, 'Jobs'),
          h('thead', {}, h('tr', {},
            ['ID', 'Kind', 'Status', 'Attempts', 'Progress', 'Created', 'Finished', 'Error'].map((title) => h('th', { scope: 'col' }, title)),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
          h('tbody', {}, envelope.results.map(row))),
      pager(envelope, '/jobs'));
    if (focused && !listing.contains(focused)) {
      const again = focusKey?.startsWith('link-')
        ? listing.querySelector(`a[href="${CSS.escape(focusKey.slice(5))}"]`)
        : focusKey ? listing.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`) : null;
      (again ?? heading).focus();
    }
  }

  fill();
  schedule();
  return h('section', {}, heading, filters, message, listing);
}

function jobFilters(params) {
  const kinds = h('datalist', { id: 'job-kinds' }, KNOWN_KINDS.map((kind) => h('option', { value: kind })));
  const kind = h('input', { type: 'text', id: 'job-kind', name: 'kind', list: 'job-kinds', autocomplete: 'off', spellcheck: false, value: params.get('kind') ?? '' });
  const status = h('select', { id: 'job-status', name: 'status' },
    h('option', { value: '' }, 'Any'),
    STATUSES.map((value) => h('option', { value, selected: params.get('status') === value }, value)));
  return filterForm({ label: 'Filter jobs', path: '/jobs' }, ['Kind', kind, kinds], ['Status', status]);
}
