import { api, describe, upload } from '../api.js';
import { alertBox, formatBytes, h, setChildren } from '../dom.js';
import { announce } from '../app.js';

const SETTLED = ['ready', 'failed'];

/**
 * The Images card of a product's page: a drop zone (or file picker) that uploads with previews and progress, then the
 * product's images in order with their processing status (refreshed until every one is ready or failed), alt text,
 * Move up / Move down, Retry for a failed one, and Delete. Changes update the card in place.
 */
export function imagesSection(product) {
  const list = h('ol', { class: 'image-list', 'aria-label': 'Images in order' });
  const uploads = h('div', { class: 'image-uploads', 'aria-live': 'polite' });
  const message = h('div', { class: 'form-message' });
  const heading = h('h2', { id: 'images-heading' });
  const input = h('input', { type: 'file', id: 'image-files', multiple: true, accept: 'image/*', class: 'visually-hidden' });
  const zone = h('div', { class: 'dropzone', tabindex: 0, role: 'button', 'aria-describedby': 'dropzone-hint' },
    h('strong', {}, 'Drop images here'),
    h('span', { id: 'dropzone-hint' }, ' or '),
    h('label', { for: 'image-files', class: 'button secondary' }, 'Choose images'),
    input);
  const empty = h('p', { class: 'empty hint' }, 'No images yet. JPEG, PNG, GIF, WebP, TIFF or AVIF; each becomes thumbnails in WebP and JPEG.');
  let images = product.images ?? [];
  let polling = null;

  function render() {
    heading.textContent = `Images (${images.length})`;
    empty.hidden = images.length > 0;
    // Alt text being typed survives a refresh (the status poll re-renders the list while images process).
    const typed = [...list.querySelectorAll('.alt-text input')]
      .filter((input) => input.value !== input.defaultValue)
      .map((input) => [input.id, input.value]);
    setChildren(list, images.map((image, index) => imageItem(image, index)));
    for (const [id, value] of typed) {
      const input = list.querySelector(`#${id}`);
      if (input) input.value = value;
    }
    if (images.some((image) => !SETTLED.includes(image.status)) && polling === null) {
      polling = setTimeout(refresh, 1000);
    }
  }

  let refreshFailed = false;

  async function refresh() {
    polling = null;
    if (!list.isConnected) return;
    let fresh;
    try {
      ({ data: fresh } = await api(`/api/products/${product.id}/images`));
    } catch (error) {
      message.replaceChildren(alertBox('The images could not be refreshed.', describe(error)));
      refreshFailed = true;
      // A failed refresh does not end the watch: images still processing are looked at again a little later.
      if (images.some((image) => !SETTLED.includes(image.status))) polling = setTimeout(refresh, 3000);
      return;
    }
    if (refreshFailed) message.replaceChildren();
    refreshFailed = false;
    if (JSON.stringify(fresh) === JSON.stringify(images)) {
      if (images.some((image) => !SETTLED.includes(image.status))) polling = setTimeout(refresh, 1000);
      return;
    }
    images = fresh;
    render();
  }

  async function act(work, done) {
    message.replaceChildren();
    try {
      await work();
      announce(done);
      await refresh();
    } catch (error) {
      message.replaceChildren(alertBox(describe(error)));
    }
  }

  function imageItem(image, index) {
    const thumb = image.renditions.find((r) => r.name === 'thumb' && r.format === 'webp') ?? image.renditions.at(-1);
    const alt = h('input', { type: 'text', id: `alt-${image.id}`, maxlength: 500, value: image.alt_text ?? '', autocomplete: 'off' });
    const label = `image ${index + 1}`;
    return h('li', { class: 'image-item', dataset: { image: image.id, status: image.status } },
      thumb
        ? h('img', { src: thumb.url, alt: image.alt_text ?? '', width: thumb.width, height: thumb.height, loading: 'lazy' })
        : h('div', { class: 'image-placeholder', 'aria-hidden': 'true' }, image.status === 'failed' ? '!' : '…'),
      h('div', { class: 'image-details' },
        h('span', { class: `badge badge-${image.status === 'ready' ? 'completed' : image.status}` }, statusText(image.status)),
        image.failure_reason ? h('p', { class: 'image-error' }, image.failure_reason) : null,
        image.original ? h('p', { class: 'hint' }, `${image.original.width ? `${image.original.width}×${image.original.height}, ` : ''}${formatBytes(image.original.bytes)}`) : null,
        h('div', { class: 'alt-text' },
          h('label', { for: `alt-${image.id}` }, `Alt text of ${label}`),
          alt,
          h('button', {
            type: 'button',
            class: 'secondary',
            onclick: () => act(() => api(`/api/images/${image.id}`, {
              method: 'PATCH',
              body: JSON.stringify({ alt_text: alt.value.trim() || null }),
            }), `Saved the alt text of ${label}.`),
          }, 'Save alt text'))),
      h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'secondary', disabled: index === 0, 'aria-label': `Move ${label} up`, onclick: () => move(index, -1) }, '↑'),
        h('button', { type: 'button', class: 'secondary', disabled: index === images.length - 1, 'aria-label': `Move ${label} down`, onclick: () => move(index, 1) }, '↓'),
        image.status === 'failed'
          ? h('button', { type: 'button', class: 'secondary', onclick: () => act(() => api(`/api/images/${image.id}/retry`, { method: 'POST' }), `Processing ${label} again.`) }, 'Retry')
          : null,
        h('button', {
          type: 'button',
          class: 'danger',
          'aria-label': `Delete ${label}`,
          onclick: () => {
            if (!window.confirm(`Delete ${label} and its files?`)) return;
            act(() => api(`/api/images/${image.id}`, { method: 'DELETE' }), `Deleted ${label}.`);
          },
        }, 'Delete')));
  }

  function move(index, by) {
    const order = images.map((image) => image.id);
    [order[index], order[index + by]] = [order[index + by], order[index]];
    act(() => api(`/api/products/${product.id}/images/order`, { method: 'PUT', body: JSON.stringify({ image_ids: order }) }),
      `Moved image ${index + 1} ${by < 0 ? 'up' : 'down'}.`);
  }

  async function send(files) {
    const chosen = [...files];
    if (chosen.length === 0) return;
    message.replaceChildren();
    const previews = chosen.map((file) => URL.createObjectURL(file));
    const progress = h('progress', { max: 100, value: 0, 'aria-label': 'Upload progress' });
    setChildren(uploads,
      h('ul', { class: 'upload-previews' }, chosen.map((file, i) => h('li', {},
        h('img', { src: previews[i], alt: `Preview of ${file.name}` }),
        h('span', {}, `${file.name} (${formatBytes(file.size)})`)))),
      progress);
    const form = new FormData();
    for (const file of chosen) form.append('file', file, file.name);
    try {
      const { data } = await upload(`/api/products/${product.id}/images`, form, {
        onProgress: (sent, total) => { progress.value = Math.round((sent / total) * 100); },
      });
      announce(`Uploaded ${data.images.length} image${data.images.length === 1 ? '' : 's'}; processing.`);
      setChildren(uploads);
      await refresh();
    } catch (error) {
      setChildren(uploads);
      message.replaceChildren(alertBox('The images were not uploaded.', describe(error)));
    } finally {
      previews.forEach((url) => URL.revokeObjectURL(url));
      input.value = '';
    }
  }

  input.addEventListener('change', () => send(input.files));
  zone.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      input.click();
    }
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    send(event.dataTransfer?.files ?? []);
  });

  render();
  return h('section', { class: 'card', 'aria-labelledby': 'images-heading' },
    heading,
    zone,
    uploads,
    message,
    empty,
    list);
}

function statusText(status) {
  return { pending: 'Waiting', processing: 'Processing', ready: 'Ready', failed: 'Failed' }[status] ?? status;
}
