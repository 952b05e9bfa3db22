import { api, describe } from '../api.js';
import { alertBox, field, h } from '../dom.js';
import { deleteButton, flattenTree, indent, nameAndSlug, sideForm, withParams } from './shared.js';

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
  const { fields, values } = nameAndSlug('category', category);
  const description = h('textarea', { id: 'category-description', rows: 3 });
  description.value = category?.description ?? '';
  const parent = h('select', { id: 'category-parent' },
    h('option', { value: '' }, '— Top level —'),
    flattenTree(tree).filter((node) => !excluded.has(node.id)).map((node) => h('option', {
      value: String(node.id),
      selected: category?.parent_id === node.id,
    }, `${indent(node.depth)}${node.name}`)));
  const body = () => ({
    ...values(),
    description: description.value.trim() || null,
    parent_id: parent.value ? Number(parent.value) : null,
  });
  return {
    body,
    fields: [
      ...fields,
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
  return sideForm({ kind: 'category', endpoint: '/api/categories', fieldOf: FIELD_OF, refresh, ...categoryFields(tree, null) });
}

function editForm({ data: category, etag }, tree, params) {
  return sideForm({
    kind: 'category', endpoint: '/api/categories', page: '/categories', params, item: category, etag, fieldOf: FIELD_OF,
    ...categoryFields(tree, category),
  });
}
