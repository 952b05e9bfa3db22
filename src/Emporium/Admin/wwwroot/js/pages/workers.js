// #/workers: the worker processes (what Celery's Flower shows), online first, refreshed every few seconds.
import { api, describe } from '../api.js';
import { alertBox, formatDate, formatNumber, h, setChildren } from '../dom.js';

const REFRESH_MS = 3000;
const STATUS_TEXT = { online: 'Online', lost: 'Lost', stopped: 'Stopped' };

export async function workersPage({ signal }) {
  const heading = h('h1', {}, 'Workers');
  let workers;
  try {
    workers = (await api('/api/workers')).data.results;
  } catch (error) {
    return h('section', {}, heading, alertBox('The workers could not be loaded.', describe(error)));
  }

  const message = h('div', { class: 'form-message' });
  const listing = h('div', { class: 'worker-list' });
  let timer = null;

  function fill() {
    setChildren(listing, workers.length === 0
      ? h('p', { class: 'empty' }, 'No worker has reported in the last day. Start a process with Emporium:Role worker or all.')
      : table(workers));
  }

  async function reload() {
    try {
      const next = (await api('/api/workers')).data.results;
      if (signal.aborted) return;
      workers = next;
      message.replaceChildren();
      fill();
    } catch (error) {
      if (!signal.aborted) message.replaceChildren(alertBox('The workers could not be refreshed.', describe(error)));
    }
    if (!signal.aborted) timer = setTimeout(reload, REFRESH_MS);
  }

  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  fill();
  timer = setTimeout(reload, REFRESH_MS);
  return h('section', {},
    heading,
    h('p', { class: 'hint' }, 'A worker that stops renewing its heartbeat is lost; other workers take over its jobs when their leases expire.'),
    message,
    listing);
}

function table(workers) {
  return h('table', { class: 'data' },
    h('caption', { class: 'visually-hidden' }, 'Worker processes'),
    h('thead', {}, h('tr', {},
      ['Worker', 'Status', 'Role and kinds', 'Current jobs', 'Finished', 'Per minute', 'Heartbeat'].map((title) => h('th', { scope: 'col' }, title)))),
    h('tbody', {}, workers.map((worker) => h('tr', { dataset: { workerId: worker.id } },
      h('td', {}, h('span', { class: 'mono' }, `${worker.host}:${worker.process_id}`), h('br'), h('small', {}, `since ${formatDate(worker.started_at)}, ${worker.version}`)),
      h('td', {}, h('span', { class: `badge badge-${worker.status}` }, STATUS_TEXT[worker.status] ?? worker.status)),
      h('td', {}, `${worker.role}, ${worker.concurrency} at once`, h('br'), h('small', {}, worker.kinds)),
      h('td', {}, worker.current_jobs.length === 0 ? '—' : h('ul', {}, worker.current_jobs.map((job) => h('li', {},
        h('a', { href: `#/jobs/${job.id}` }, `#${job.id}`), ` ${job.kind}`,
        job.percent == null ? '' : ` ${formatNumber(Math.round(job.percent))} %`,
        worker.status === 'lost' && job.lease_expires_at ? h('small', {}, ` (released ${formatDate(job.lease_expires_at)})`) : '')))),
      h('td', {}, `${formatNumber(worker.jobs_completed)} completed`, h('br'), h('small', {}, `${formatNumber(worker.jobs_failed)} failed`)),
      h('td', {}, formatNumber(worker.jobs_per_minute)),
      h('td', {}, formatDate(worker.heartbeat_at))))));
}
