// Upload a catalog CSV; the import runs as a background job, followed live on #/import/{id}.
import { ApiError, describe, upload } from '../api.js';
import { alertBox, clearFieldErrors, field, formatBytes, h, showFieldErrors } from '../dom.js';
import { navigate } from '../app.js';
import { exportButton } from './shared.js';
import { IMPORT_KIND, rememberUpload } from './job-view.js';

export async function importPage({ signal }) {
  const file = h('input', { type: 'file', id: 'import-file', accept: '.csv,text/csv' });
  const dryRun = h('input', { type: 'checkbox', id: 'import-dry-run' });
  const sent = h('progress', { 'aria-label': 'Upload progress' });
  const sentText = h('p', { class: 'progress-summary' });
  const uploading = h('div', { class: 'upload-progress', hidden: true }, sent, sentText);
  const message = h('div', { class: 'form-message' });
  const button = h('button', { type: 'submit' }, 'Upload and import');

  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'Upload a CSV file' },
    field({
      label: 'CSV file',
      name: 'file',
      control: file,
      hint: 'UTF-8 with a header row. sku and name are required; description, price, active, brand (slug) and categories (slugs separated by |) are optional. A product whose SKU exists is updated.',
    }),
    field({
      label: 'Dry run: check every row and count the changes, write nothing',
      name: 'dry_run',
      control: dryRun,
    }),
    uploading,
    message,
    h('div', { class: 'actions' }, button));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    clearFieldErrors(form);
    const chosen = file.files[0];
    if (!chosen) {
      showFieldErrors(form, { file: ['Choose a CSV file to upload.'] });
      return;
    }

    const body = new FormData();
    body.append('file', chosen, chosen.name);
    const dry = dryRun.checked;
    button.disabled = true;
    uploading.hidden = false;
    sent.removeAttribute('value');
    sentText.textContent = `Uploading ${chosen.name}… Stay on this page until the upload is done.`;
    try {
      const { data } = await upload(`/api/products/upload${dry ? '?dry_run=true' : ''}`, body, {
        signal,
        onProgress: (done, total) => {
          sent.max = total;
          sent.value = done;
          sentText.textContent = `Uploading ${chosen.name}: ${formatBytes(done)} of ${formatBytes(total)}`;
        },
      });
      rememberUpload(data.job_id, { fileName: chosen.name, dryRun: dry });
      navigate(`#/import/${data.job_id}`);
    } catch (error) {
      if (signal.aborted) return;
      const unplaced = error instanceof ApiError ? showFieldErrors(form, error.errors) : [];
      message.replaceChildren(alertBox(describe(error), null, unplaced.map((text) => h('p', {}, text))));
    } finally {
      button.disabled = false;
      uploading.hidden = true;
    }
  });

  const exportMessage = h('div', { class: 'form-message' });
  return h('section', {},
    h('h1', {}, 'Import products'),
    h('div', { class: 'columns' },
      h('div', {},
        h('h2', {}, 'Upload'),
        form),
      h('div', {},
        h('h2', {}, 'Export'),
        h('div', { class: 'card' },
          h('p', {}, 'Download every product in the import format, edit it in a spreadsheet, and upload it here again.'),
          exportMessage,
          h('div', { class: 'actions' }, exportButton(new URLSearchParams(), exportMessage))),
        h('p', {}, h('a', { href: `#/jobs?kind=${IMPORT_KIND}` }, 'Earlier imports')))));
}
