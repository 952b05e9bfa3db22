import { api, describe } from '../api.js';
import { alertBox, field, h } from '../dom.js';
import { flash, navigate } from '../app.js';
import { deleteButton, flattenTree, indent, onSubmit, withParams } from './shared.js';

// The API names the parent either parent or parent_id; both belong to the Parent field.
const FIELD_OF = { parent_id: 'parent' };

// #/categories shows the tree beside a form: "New category", or "Edit category" when the URL names one (?edit=12).
export async function categoriesPage({ params, refresh }) {
  const editing = params.get('edit');
  let tree;
  let side;
  try {
    ({ data: tree } = await api('/api/categories/tree'));
    side = editing
      ? editForm(await api(`/api/categories/${encodeURIComponent(editing)}`), tree, params)
      : createForm(tree, refresh);
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
          : branch(tree, params, refresh, { class: 'tree', 'aria-labelledby': 'category-tree-heading' })),
      side));
}

/** Nested lists: the structure itself tells assistive technology which category sits under which. */
function branch(nodes, params, refresh, attributes = {}) {
  return h('ul', attributes, nodes.map((node) => h('li', { dataset: { slug: node.slug } },
    h('span', { class: 'node' },
      h('span', { class: 'node-name' }, node.name), ' ', h('span', { class: 'mono muted' }, node.slug), ' ',
      h('span', { class: 'node-actions' },
        h('a', { href: withParams('/categories', params, { edit: node.id }), 'aria-label': `Edit ${node.name}` }, 'Edit'),
        // The API refuses (409) while live subcategories remain; its reason is shown as the flash message.
        deleteButton({ path: `/api/categories/${node.id}`, name: node.name, refresh }))),
    node.children?.length ? branch(node.children, params, refresh) : null)));
}

/** The inputs of both forms; when editing, the category and its own subtree are not offered as its parent. */
function categoryFields(tree, category) {
  const excluded = new Set(category ? subtreeIds(tree, category.id) : []);
  const name = h('input', { type: 'text', id: 'category-name', autocomplete: 'off', value: category?.name ?? '' });
  const slug = h('input', { type: 'text', id: 'category-slug', autocomplete: 'off', spellcheck: false, value: category?.slug ?? '' });
  const description = h('textarea', { id: 'category-description', rows: 3 });
  description.value = category?.description ?? '';
  const parent = h('select', { id: 'category-parent' },
    h('option', { value: '' }, '— Top level —'),
    flattenTree(tree).filter((node) => !excluded.has(node.id)).map((node) => h('option', {
      value: String(node.id),
      selected: category?.parent_id === node.id,
    }, `${indent(node.depth)}${node.name}`)));
  const body = () => {
    const value = {
      name: name.value.trim(),
      description: description.value.trim() || null,
      parent_id: parent.value ? Number(parent.value) : null,
    };
    if (slug.value.trim()) value.slug = slug.value.trim();
    return value;
  };
  return {
    body,
    fields: [
      field({ label: 'Name', name: 'name', control: name }),
      field({ label: 'Slug', name: 'slug', control: slug, hint: category ? 'Leave empty to keep the current one.' : 'Leave empty to make one from the name.' }),
      field({ label: 'Parent', name: 'parent', control: parent }),
      field({ label: 'Description', name: 'description', control: description }),
    ],
  };
}

function subtreeIds(nodes, id) {
  for (const node of nodes) {
    if (node.id === id) return flattenTree([node]).map((each) => each.id);
    const found = subtreeIds(node.children ?? [], id);
    if (found.length) return found;
  }
  return [id];
}

function createForm(tree, refresh) {
  const { body, fields } = categoryFields(tree, null);
  const message = h('div', { class: 'form-message' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'New category' },
    fields, message, h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create category')));
  onSubmit(form, message, async () => {
    const { data } = await api('/api/categories', { method: 'POST', body: body() });
    flash(`Created category “${data.name}”.`);
    await refresh();
  }, FIELD_OF);
  return h('div', {}, h('h2', {}, 'New category'), form);
}

/** PUT with the ETag the form was filled from: a change someone saved meanwhile is refused (412), not overwritten. */
function editForm({ data: category, etag }, tree, params) {
  const { body, fields } = categoryFields(tree, category);
  const message = h('div', { class: 'form-message' });
  const back = withParams('/categories', params, { edit: null });
  const form = h('form', { class: 'card', novalidate: true, 'aria-label': 'Edit category' },
    fields, message,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save category'), h('a', { class: 'button secondary', href: back }, 'Cancel')));
  onSubmit(form, message, async () => {
    const { data } = await api(`/api/categories/${category.id}`, { method: 'PUT', body: body(), headers: { 'If-Match': etag } });
    flash(`Saved category “${data.name}”.`);
    navigate(back);
  }, FIELD_OF);
  return h('div', {}, h('h2', {}, `Edit “${category.name}”`), form);
}
