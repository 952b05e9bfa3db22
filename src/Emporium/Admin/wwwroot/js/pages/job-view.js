// One background job, live: its status, progress and outcome, followed through GET /api/jobs/{id}/events.
// #/jobs/12 shows any job; #/import/12 is the same view reached from the import page.
import { api, ApiError, describe, download, events } from '../api.js';
import { alertBox, formatDate, formatDuration, formatNumber, h, saveFile, setChildren } from '../dom.js';
import { announce } from '../app.js';

export const ACTIVE = ['PENDING', 'PROCESSING'];
export const RETRYABLE = ['DEAD', 'FAILED', 'CANCELLED'];
export const IMPORT_KIND = 'catalog.import';

const KINDS = {
  'catalog.import': { title: 'Import', unit: 'rows' },
  'catalog.bulk_delete': { title: 'Bulk delete', unit: 'products' },
};

// How long to wait before following a job again after its stream broke (server restart, proxy timeout).
const RECONNECT_MS = 1000;

// What the import page knows about the files it uploaded in this tab: the API does not echo the payload back.
const uploads = new Map();

export function rememberUpload(id, details) {
  uploads.set(String(id), details);
}

function unitOf(kind) {
  return KINDS[kind]?.unit ?? 'items';
}

export function jobTitle(job) {
  return KINDS[job.kind] ? `${KINDS[job.kind].title} job ${job.id}` : `Job ${job.id}`;
}

export function statusBadge(job) {
  return h('span', { class: `badge badge-${job.status.toLowerCase()}` }, job.status);
}

function formatPercent(percent) {
  // Floored, so a job that is not finished never claims 100 %.
  return `${Math.floor(percent * 10) / 10} %`;
}

/** "1,200 of 5,000 rows · 24 % · 850 rows/s · about 5 s left"; empty while a running job has counted nothing yet. */
export function progressSummary(job) {
  const progress = job.progress;
  if (!progress) return job.status === 'PENDING' ? 'Waiting for a worker' : '';
  // Nothing counted yet (an import's first pass reads the file): the message says what is happening.
  if (progress.processed === 0 && ACTIVE.includes(job.status)) return '';
  const unit = unitOf(job.kind);
  const parts = [progress.total === null || progress.total === undefined
    ? `${formatNumber(progress.processed)} ${unit}`
    : `${formatNumber(progress.processed)} of ${formatNumber(progress.total)} ${unit}`];
  if (progress.percent !== null && progress.percent !== undefined) parts.push(formatPercent(progress.percent));
  if (progress.rows_per_second) parts.push(`${formatNumber(progress.rows_per_second)} ${unit}/s`);
  if (job.status === 'PROCESSING' && progress.eta_seconds !== null && progress.eta_seconds !== undefined) {
    parts.push(`about ${formatDuration(progress.eta_seconds)} left`);
  }
  return parts.join(' · ');
}

/**
 * Sets a <progress> from the job: indeterminate while a running job has nothing countable yet (waiting for a worker,
 * or an import's first pass counting rows), full for a completed job that never reported.
 */
export function updateBar(bar, job) {
  const progress = job.progress;
  const countable = progress && progress.total > 0 && !(progress.processed === 0 && ACTIVE.includes(job.status));
  if (countable) {
    bar.max = progress.total;
    bar.value = Math.min(progress.processed, progress.total);
  } else if (ACTIVE.includes(job.status)) {
    bar.removeAttribute('value');
  } else {
    bar.max = 1;
    bar.value = job.status === 'COMPLETED' ? 1 : 0;
  }
}

export async function retryJob(job) {
  return (await api(`/api/jobs/${job.id}/retry`, { method: 'POST' })).data;
}

/** Retry without the checkpoint: the job runs from the beginning (an import reads its file from the top again). */
export async function restartJob(job) {
  if (!window.confirm(`Start ${jobTitle(job).toLowerCase()} over from the beginning? Rows it already committed will count as unchanged.`)) return null;
  return (await api(`/api/jobs/${job.id}/retry?from_start=true`, { method: 'POST' })).data;
}

/** Cancelling stops a running import after its current batch; what was committed stays. */
export async function cancelJob(job) {
  if (!window.confirm(`Cancel ${jobTitle(job).toLowerCase()}? Work it has already committed stays.`)) return null;
  return (await api(`/api/jobs/${job.id}/cancel`, { method: 'POST' })).data;
}

function delay(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * Calls onJob with the job on every `progress` event and the final `done` one, and resolves when the job is done or
 * `signal` aborts. A stream that breaks (network, server restart) is opened again after a second, which also
 * catches up at once: the first event of a new stream is the job as it is now. An answer such as 404 or 403 ends it.
 */
export async function followJob(id, onJob, { signal, onConnection = () => {} }) {
  while (!signal.aborted) {
    try {
      for await (const event of events(`/api/jobs/${id}/events`, { signal })) {
        onConnection(true);
        const job = JSON.parse(event.data);
        onJob(job);
        if (event.type === 'done') return;
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status < 500) throw error;
    }
    onConnection(false);
    await delay(RECONNECT_MS, signal);
  }
}

export async function jobPage({ id, path, signal }) {
  const fromImport = path.startsWith('/import/');
  const back = fromImport
    ? h('a', { href: '#/import' }, 'Import another file')
    : h('a', { href: '#/jobs' }, 'All jobs');
  let job;
  try {
    ({ data: job } = await api(`/api/jobs/${id}`));
  } catch (error) {
    const title = error instanceof ApiError && error.status === 404 ? 'Job not found' : 'The job could not be loaded';
    return h('section', {}, h('h1', {}, title), alertBox(describe(error)), h('p', {}, back));
  }
  return jobView(job, { signal, back });
}

function jobView(initial, { signal, back }) {
  let job = initial;
  let following = false;
  let shownOutcome = null;
  let shownStatus = null;
  const upload = uploads.get(String(job.id));

  const status = h('p', { class: 'job-status', role: 'status', tabindex: '-1' });
  const bar = h('progress', { class: 'job-progress', 'aria-label': 'Progress' });
  const summary = h('p', { class: 'progress-summary' });
  const message = h('p', { class: 'progress-message muted' });
  const connection = h('p', { class: 'hint connection' });
  const outcome = h('div', { class: 'job-outcome' });
  const actionMessage = h('div', { class: 'form-message' });
  const times = h('dl', { class: 'job-times' });
  const cancel = h('button', { type: 'button', class: 'danger', onclick: () => act(cancelJob) }, 'Cancel job');
  const retry = h('button', { type: 'button', onclick: () => act(retryJob) }, 'Retry');
  const restart = h('button', { type: 'button', class: 'secondary', onclick: () => act(restartJob) }, 'Start over');

  function show(button, visible) {
    if (!visible && document.activeElement === button) status.focus();
    button.hidden = !visible;
  }

  function update(next) {
    const changed = next.status !== job.status;
    job = next;
    // A live region: rewritten only when what it says changes, not on every progress event.
    const statusKey = `${job.status}|${job.attempts}|${job.max_attempts}|${job.cancel_requested}`;
    if (statusKey !== shownStatus) {
      shownStatus = statusKey;
      setChildren(status, statusBadge(job),
        ` · attempt ${job.attempts} of ${job.max_attempts}`,
        job.cancel_requested && job.status === 'PROCESSING' ? ' · cancel requested, stopping after the current step' : null);
    }
    updateBar(bar, job);
    summary.textContent = progressSummary(job);
    // An import's message while it writes repeats the counts the summary starts with.
    const said = job.progress?.message ?? '';
    message.textContent = said && summary.textContent.startsWith(said) ? '' : said;
    show(cancel, ACTIVE.includes(job.status) && !job.cancel_requested);
    show(retry, RETRYABLE.includes(job.status));
    // Only an import resumes from a checkpoint, so only there does starting over differ from retrying.
    show(restart, RETRYABLE.includes(job.status) && job.kind === IMPORT_KIND && job.status !== 'FAILED');
    setChildren(times,
      h('div', {}, h('dt', {}, 'Created'), h('dd', {}, formatDate(job.created_at))),
      job.started_at ? h('div', {}, h('dt', {}, 'Started'), h('dd', {}, formatDate(job.started_at))) : null,
      job.finished_at
        ? h('div', {}, h('dt', {}, 'Finished'), h('dd', {}, formatDate(job.finished_at), job.started_at
          ? ` (took ${formatDuration((new Date(job.finished_at) - new Date(job.started_at)) / 1000)})` : null))
        : null,
      job.status === 'PENDING' && job.next_run_at && job.attempts > 0
        ? h('div', {}, h('dt', {}, 'Next try'), h('dd', {}, formatDate(job.next_run_at)))
        : null);

    // The outcome is rebuilt only when it changes, not on every progress event, so a focused button stays put.
    const key = `${job.status}|${job.error_message ?? ''}`;
    if (key !== shownOutcome) {
      shownOutcome = key;
      setChildren(outcome, outcomeOf(job));
    }
    if (changed && !ACTIVE.includes(job.status)) connection.textContent = '';
  }

  async function follow() {
    if (following || !ACTIVE.includes(job.status)) return;
    following = true;
    connection.textContent = 'Following live.';
    try {
      await followJob(job.id, update, {
        signal,
        onConnection: (open) => {
          connection.textContent = open ? 'Following live.' : 'Connection lost; reconnecting…';
        },
      });
      connection.textContent = '';
    } catch (error) {
      connection.replaceChildren(alertBox('Live updates stopped.', describe(error)));
    } finally {
      following = false;
    }
  }

  async function act(action) {
    actionMessage.replaceChildren();
    try {
      const next = await action(job);
      if (!next) return;
      update(next);
      announce(next.status === 'PENDING' && (action === retryJob || action === restartJob)
        ? `${jobTitle(next)} is queued again.`
        : next.status === 'CANCELLED' ? `${jobTitle(next)} is cancelled.` : `Cancel requested for ${jobTitle(next).toLowerCase()}.`);
      follow();
    } catch (error) {
      actionMessage.replaceChildren(alertBox(describe(error)));
    }
  }

  function outcomeOf(current) {
    const parts = [];
    const title = KINDS[current.kind]?.title.toLowerCase() ?? 'job';
    if (current.status === 'FAILED') {
      parts.push(alertBox(`The ${title} failed.`, current.error_message ?? 'No reason was given.',
        current.kind === IMPORT_KIND ? h('p', {}, 'Nothing was written. Fix the file and upload it again.') : null));
    } else if (current.status === 'DEAD') {
      parts.push(alertBox(`The ${title} stopped after ${current.attempts} attempts.`, current.error_message ?? 'No reason was given.',
        current.kind === IMPORT_KIND ? h('p', {}, 'Rows committed before it stopped stay; Retry resumes after the last committed batch.') : null));
    } else if (current.status === 'CANCELLED') {
      parts.push(h('p', { class: 'notice' }, `The ${title} was cancelled.`, current.error_message ? ` ${current.error_message}` : ''));
    } else if (current.status === 'PENDING' && current.error_message) {
      parts.push(h('p', { class: 'notice' }, `The last attempt failed: ${current.error_message} It will be tried again.`));
    } else if (current.status === 'COMPLETED') {
      parts.push(...(current.kind === IMPORT_KIND ? importResult(current) : genericResult(current)));
    }
    return parts;
  }

  function importResult(current) {
    const result = current.result ?? {};
    const dry = Boolean(result.dry_run);
    const count = (key, label) => h('div', {}, h('dt', {}, label), h('dd', { dataset: { count: key } }, formatNumber(result[key] ?? 0)));
    const rejected = result.rejected ?? 0;
    const downloadMessage = h('div', { class: 'form-message' });
    const parts = [
      h('h2', {}, dry ? 'Dry run result' : 'Result'),
      dry ? h('p', { class: 'notice dry-run' }, 'Dry run: nothing was written. The counts say what importing this file would do.') : null,
      h('dl', { class: 'counts' },
        count('rows', 'Rows'),
        count('created', dry ? 'Would be created' : 'Created'),
        count('updated', dry ? 'Would be updated' : 'Updated'),
        count('unchanged', 'Unchanged'),
        count('rejected', 'Rejected'),
        count('duplicates', 'Duplicates')),
      result.duplicates > 0 ? h('p', { class: 'hint' }, 'Duplicates are rows whose SKU appears again further down the file; the last one wins.') : null,
      result.unknown_columns?.length
        ? h('p', { class: 'notice unknown-columns' }, `Ignored columns the importer does not know: ${result.unknown_columns.join(', ')}.`)
        : null,
    ];
    if (rejected > 0) {
      const button = h('button', { type: 'button', class: 'secondary' }, 'Download errors.csv');
      button.addEventListener('click', async () => {
        downloadMessage.replaceChildren();
        button.disabled = true;
        try {
          const { blob, name } = await download(result.errors_url ?? `/api/jobs/${current.id}/errors.csv`, `job-${current.id}-errors.csv`);
          saveFile(blob, name);
        } catch (error) {
          downloadMessage.replaceChildren(alertBox('errors.csv could not be downloaded.', describe(error)));
        } finally {
          button.disabled = false;
        }
      });
      parts.push(h('div', { class: 'rejections' },
        h('p', {}, rejected === 1
          ? '1 row was rejected. errors.csv lists it with the reason; fix it there and upload that file again.'
          : `${formatNumber(rejected)} rows were rejected. errors.csv lists each with its reason; fix them there and upload that file again.`),
        h('div', { class: 'actions' }, button),
        downloadMessage));
    }
    if (result.change_sample?.length) {
      parts.push(h('table', { class: 'data changes' },
        h('caption', {}, dry ? 'Changes the import would make to existing products (a sample)' : 'Changes to existing products (a sample)'),
        h('thead', {}, h('tr', {}, ['Line', 'SKU', 'Field', 'From', 'To'].map((name) => h('th', { scope: 'col' }, name)))),
        h('tbody', {}, result.change_sample.flatMap((change) => change.changes.map((field, index) => h('tr', {},
          h('td', { class: 'number' }, index === 0 ? formatNumber(change.line) : ''),
          h('td', { class: 'mono' }, index === 0 ? change.sku : ''),
          h('td', {}, field.field),
          h('td', {}, field.from ?? '—'),
          h('td', {}, field.to ?? '—')))))));
    }
    return parts;
  }

  function genericResult(current) {
    return current.result === null || current.result === undefined
      ? []
      : [h('h2', {}, 'Result'), h('pre', { class: 'mono result' }, JSON.stringify(current.result, null, 2))];
  }

  update(job);
  follow();

  return h('section', { class: 'job-view', dataset: { jobId: job.id } },
    h('div', { class: 'page-heading' }, h('h1', {}, jobTitle(job)), back),
    h('p', { class: 'lede' },
      h('span', { class: 'mono' }, job.kind),
      upload ? ` · ${upload.fileName}${upload.dryRun ? ' (dry run)' : ''}` : null),
    h('div', { class: 'card' },
      status,
      bar,
      summary,
      message,
      connection,
      h('div', { class: 'actions' }, cancel, retry, restart),
      actionMessage,
      times),
    outcome);
}
