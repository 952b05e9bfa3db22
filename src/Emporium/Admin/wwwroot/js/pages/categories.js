import { api, ApiError, describe } from '../api.js';
import { alertBox, clearFieldErrors, field, h, showFieldErrors } from '../dom.js';
import { flash } from '../app.js';
import { flattenTree, indent } from './shared.js';

export async function categoriesPage({ refresh }) {
  let tree;
  try {
    ({ data: tree } = await api('/api/categories/tree'));
  } catch (error) {
    return h('section', {}, h('h1', {}, 'Categories'), alertBox('The categories could not be loaded.', describe(error)));
  }

  return h('section', {},
    h('h1', {}, 'Categories'),
    h('div', { class: 'columns' },
      h('div', {},
        h('h2', { id: 'category-tree-heading' }, 'Category tree'),
        tree.length === 0
          ? h('p', { class: 'empty' }, 'No categories yet.')
          : branch(tree, { class: 'tree', 'aria-labelledby': 'category-tree-heading' })),
      h('div', {}, h('h2', {}, 'New category'), createForm(tree, refresh))));
}

/** Nested lists: the structure itself tells assistive technology which category sits under which. */
function branch(nodes, attributes = {}) {
  return h('ul', attributes, nodes.map((node) => h('li', { dataset: { slug: node.slug } },
    h('span', { class: 'node' }, h('span', { class: 'node-name' }, node.name), ' ', h('span', { class: 'mono muted' }, node.slug)),
    node.children?.length ? branch(node.children) : null)));
}

function createForm(tree, refresh) {
  const name = h('input', { type: 'text', id: 'category-name', autocomplete: 'off' });
  const slug = h('input', { type: 'text', id: 'category-slug', autocomplete: 'off', spellcheck: false });
  const description = h('textarea', { id: 'category-description', rows: 3 });
  const parent = h('select', { id: 'category-parent' },
    h('option', { value: '' }, '— Top level —'),
    flattenTree(tree).map((node) => h('option', { value: String(node.id) }, `${indent(node.depth)}${node.name}`)));
  const message = h('div', { class: 'form-message' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'New category' },
    field({ label: 'Name', name: 'name', control: name }),
    field({ label: 'Slug', name: 'slug', control: slug, hint: 'Leave empty to make one from the name.' }),
    field({ label: 'Parent', name: 'parent', control: parent }),
    field({ label: 'Description', name: 'description', control: description }),
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create category')));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.replaceChildren();
    clearFieldErrors(form);
    try {
      const body = {
        name: name.value.trim(),
        description: description.value.trim() || null,
        parent_id: parent.value ? Number(parent.value) : null,
      };
      if (slug.value.trim()) body.slug = slug.value.trim();
      const { data } = await api('/api/categories', { method: 'POST', body });
      flash(`Created category “${data.name}”.`);
      await refresh();
    } catch (error) {
      // The API names the parent either parent or parent_id; both belong to the Parent field.
      const errors = error instanceof ApiError ? { ...error.errors } : {};
      if (errors.parent_id) {
        errors.parent = [...(errors.parent ?? []), ...errors.parent_id];
        delete errors.parent_id;
      }
      const unplaced = showFieldErrors(form, errors);
      message.replaceChildren(alertBox(describe(error), null, unplaced.map((text) => h('p', {}, text))));
    }
  });
  return form;
}
